"""Who is asking, for staff routes and namespaces: a signed-in user (the `doithoai_staff` cookie) or a
script with a bearer API token.

Requests made with the cookie that change anything must carry `X-CSRF-Token` (or the form field
`csrf`): an HMAC of the cookie's token, printed in every staff page. Bearer requests need none (a
browser never adds the header by itself). Socket.IO namespaces authenticate in their connect
handler from the same cookie (the Origin check refuses cross-site websockets) or `auth: {token}`."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from moderation.accounts import Accounts
from moderation.errors import Forbidden, Unauthorized
from moderation.roles import Actor, Role

from .keys import accounts_key, staff_csrf_key
from .security import _Signer

STAFF_COOKIE = "doithoai_staff"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StaffCsrf(_Signer):
    """The staff CSRF token: bound to the signed-in session, so it changes at every sign-in."""

    purpose = "staff-csrf"
    length = 40

    def token(self, session_token: str) -> str:
        return self._sign(session_token)

    def check(self, session_token: str, given: Any) -> bool:
        return isinstance(given, str) and hmac.compare_digest(self._sign(session_token), given)


def bearer(request: web.BaseRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


# What a request or a socket proves who it is with: ("token", an API token) or ("cookie", the
# sign-in's session token). A staff socket keeps it, to check it again while it stays connected.
Credential = tuple[str, str | None]


def credential(request: web.BaseRequest, auth: Any = None) -> Credential | None:
    """A bearer token (header, or Socket.IO's `auth: {token}`) first, else the staff cookie."""
    token = bearer(request) or (auth.get("token") if isinstance(auth, dict) else None)
    if token:
        return ("token", token if isinstance(token, str) else None)
    cookie = request.cookies.get(STAFF_COOKIE)
    return ("cookie", cookie) if cookie else None


async def actor_for(accounts: Accounts, given: Credential | None) -> Actor | None:
    """Who the credential stands for now: None once signed out, expired, revoked or disabled."""
    if given is None:
        return None
    kind, secret = given
    return await (accounts.token_actor(secret) if kind == "token" else accounts.session_actor(secret))


async def identify(request: web.Request, auth: Any = None) -> tuple[Actor | None, str | None]:
    """(actor, session token if signed in by cookie). `auth` is Socket.IO's connect payload."""
    given = credential(request, auth)
    actor = await actor_for(request.app[accounts_key], given)
    return actor, given[1] if given is not None and given[0] == "cookie" else None


async def require_staff(request: web.Request, roles: frozenset[Role] | None = None,
                        form_token: Any = None) -> Actor:
    actor, cookie = await identify(request)
    if actor is None:
        raise Unauthorized("unauthorized")
    if cookie is not None and request.method not in SAFE_METHODS:
        given = request.headers.get("X-CSRF-Token", form_token)
        if not request.app[staff_csrf_key].check(cookie, given):
            raise Forbidden("csrf", field="csrf")
    if roles is not None and actor.role not in roles:
        raise Forbidden("forbidden")
    return actor


def set_staff_cookie(response: web.StreamResponse, token: str, secure: bool, max_age: int) -> None:
    response.set_cookie(STAFF_COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/",
                        max_age=max_age)
