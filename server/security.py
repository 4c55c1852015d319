"""Policy at the boundary: who the client is (behind trusted proxies), whether it came over TLS
(cookies are Secure then), which Origins may open the viewer websocket or post forms (no
cross-site websocket hijacking), where a redirect may go back to, and CSRF tokens for forms."""

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
VIEWER_COOKIE = "doithoai_viewer"


def client_ip(request: web.BaseRequest, trusted: Sequence[IPNetwork]) -> str:
    """The peer address, or, when the peer is a trusted proxy, the rightmost X-Forwarded-For entry
    that is not itself a trusted proxy (entries further left are the client's own claims).
    IPv6 clients are keyed by their /64: one subscriber gets a whole /64 to pick addresses from."""
    peer = request.remote or ""
    if trusted and _in(peer, trusted):
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        peer = next((hop for hop in reversed(hops) if not _in(hop, trusted)), hops[0] if hops else peer)
    return _client_key(peer)


def _client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        if not ip.is_loopback:
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


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


def secure_request(request: web.BaseRequest, trusted: Sequence[IPNetwork]) -> bool:
    """Over TLS: to this server directly, or to a trusted proxy that says so (X-Forwarded-Proto:
    https, its first entry being the client's side). Decides the Secure flag of every cookie."""
    if request.secure:
        return True
    if not trusted or not _in(request.remote or "", trusted):
        return False  # anyone can send the header; only a proxy we trust is believed
    return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https"


# What a browser drops from a URL before it parses it (WHATWG URL: leading and trailing C0 controls
# and spaces; tab and newline anywhere), and what it reads a backslash as in an http(s) URL.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_AND_NEWLINE = str.maketrans("", "", "\t\n\r")


def local_path(raw: object, default: str) -> str:
    r"""Where to send the browser back to (`next=`): a path on this site, or `default`.

    Checked on what the browser will make of it, not on the raw text: "/%09/evil.example" (a tab)
    is "//evil.example" to a browser, another site, and so is "/\evil.example". So: normalise as the
    URL parser does, then accept only a path beginning with exactly one "/". The normalised form is
    returned, so the Location header says what the check saw."""
    if not isinstance(raw, str) or len(raw) > 500:
        return default
    url = raw.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINE)
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    url = url[:cut].replace("\\", "/") + url[cut:]  # a backslash is a slash in the path, not after it
    if not url.startswith("/") or url.startswith("//"):
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return default  # other controls: never in a link of ours
    return url


def origin_allowed(request: web.BaseRequest, allowed: Sequence[str], trusted: Sequence[IPNetwork]) -> bool:
    """No Origin header: not a browser (scripts, the portal's back end), allowed. Otherwise the
    Origin must be this server's own or one configured in allowed_origins."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin == own_origin(request, trusted) or origin in allowed


class _Signer:
    """HMAC with a key of its own per use, derived from the server's secret."""

    purpose = ""
    length = 32  # hex digits kept

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"{self.purpose}:{secret}".encode()).digest()

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[: self.length]


class CsrfTokens(_Signer):
    """Double-submit: a random value in an HttpOnly SameSite=Lax cookie, and its HMAC in the form."""

    purpose = "csrf"
    length = 40

    def issue(self, request: web.Request) -> tuple[str, str | None]:
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
        # Lax, not Strict: a visitor arriving from the portal would otherwise get a new cookie and
        # every form already open in another tab would fail. The HMAC and the Origin check remain.
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="Lax", secure=secure, path="/")


class ViewerIds(_Signer):
    """Who marks interest: an id the server issues in a signed cookie, so that "once each" cannot be
    dodged by inventing ids. Clients without the cookie (scripts) count once per connection."""

    purpose = "viewer"

    def verify(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 1:
            return None
        value, signature = cookie.split(".")
        return value if hmac.compare_digest(self._sign(value), signature) else None

    def issue(self, request: web.Request) -> str | None:
        """A new cookie value when the request carries no valid one, else None."""
        if self.verify(request.cookies.get(VIEWER_COOKIE)):
            return None
        value = "v" + secrets.token_hex(12)
        return f"{value}.{self._sign(value)}"

    @staticmethod
    def set_cookie(response: web.StreamResponse, value: str, secure: bool) -> None:
        response.set_cookie(VIEWER_COOKIE, value, httponly=True, samesite="Lax", secure=secure, path="/",
                            max_age=365 * 24 * 3600)
