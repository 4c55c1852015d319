"""Policy at the boundary: who the client is (behind trusted proxies), which Origins may open the
viewer websocket or post forms (no cross-site websocket hijacking), and CSRF tokens for forms."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any

from aiohttp import web

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
CSRF_COOKIE = "doithoai_csrf"


def client_ip(request: web.BaseRequest, trusted: Sequence[IPNetwork]) -> str:
    """The peer address, or, when the peer is a trusted proxy, the rightmost X-Forwarded-For entry
    that is not itself a trusted proxy (entries further left are the client's own claims)."""
    peer = request.remote or ""
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _in(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def own_origin(request: web.BaseRequest, trusted: Sequence[IPNetwork]) -> str:
    scheme, host = request.scheme, request.host
    if trusted and _in(request.remote or "", trusted):
        scheme = request.headers.get("X-Forwarded-Proto", scheme)
        host = request.headers.get("X-Forwarded-Host", host)
    return f"{scheme}://{host}"


def origin_allowed(request: web.BaseRequest, allowed: Sequence[str], trusted: Sequence[IPNetwork]) -> bool:
    """No Origin header: not a browser (scripts, the portal's back end), allowed. Otherwise the
    Origin must be this server's own or one configured in allowed_origins."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == own_origin(request, trusted) or origin in allowed


class CsrfTokens:
    """Double-submit: a random value in an HttpOnly SameSite=Strict cookie, and its HMAC in the form."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("csrf:" + secret).encode()).digest()

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:40]

    def issue(self, request: web.Request, response: web.StreamResponse | None = None) -> tuple[str, str | None]:
        """Return (form token, cookie value to set or None if the request already has one)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        new_cookie = None
        if not cookie or len(cookie) != 32:
            cookie = new_cookie = secrets.token_hex(16)
        return self._sign(cookie), new_cookie

    def check(self, request: web.Request, token: Any) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not isinstance(token, str):
            return False
        return hmac.compare_digest(self._sign(cookie), token)

    @staticmethod
    def set_cookie(response: web.StreamResponse, value: str, secure: bool) -> None:
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="Strict", secure=secure, path="/")
