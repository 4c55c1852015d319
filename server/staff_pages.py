"""Staff pages: sign-in, the staff home, the moderator console, the chair's screen and the overlay
(the account pages are in server/account_pages.py).

Sign-in is rate-limited per address (on top of the sign-in guard in moderation/sign_in_guard.py)
and every attempt is audited. The overlay is public: it shows only what is on air, as the public
sees it, so a production switcher's browser source needs no account."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from moderation import workflow as wf
from moderation.accounts import SESSION_LIFETIME
from moderation.errors import Unauthorized
from moderation.roles import BOARD, CHAIR_NAMESPACE, MODERATOR_NAMESPACE, Actor, Role
from moderation.sessions import Session

from .api import path_id, public_session, request_lang
from .auth import STAFF_COOKIE, identify, set_staff_cookie
from .i18n import message
from .keys import (
    accounts_key,
    csrf_key,
    media_key,
    settings_key,
    staff_csrf_key,
    staff_namespaces_key,
    watch_key,
)
from .moderator import StaffNamespace
from .pages import render
from .ratelimit import RateLimiter
from .security import client_ip, local_path, origin_allowed, secure_request
from .stream_api import stream_links

routes = web.RouteTableDef()
# Sign-in attempts per address: enough for a board sharing one office NAT, not for guessing.
sign_in_limit: web.AppKey[RateLimiter] = web.AppKey("sign_in_limit")


def _safe_next(raw: Any) -> str:
    """After sign-in: back where the officer was going, if that is a page of this site."""
    return local_path(raw, "/staff")


def staff_render(request: web.Request, template: str, actor: Actor, **context: Any) -> web.Response:
    token = request.cookies.get(STAFF_COOKIE, "")
    response = render(request, template, user=actor.public(), staff_csrf=request.app[staff_csrf_key].token(token),
                      **context)
    response.headers["X-Frame-Options"] = "DENY"
    return response


async def signed_in(request: web.Request, roles: frozenset[Role]) -> Actor:
    actor, cookie = await identify(request)
    if actor is None or cookie is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
    if actor.role not in roles:
        raise web.HTTPForbidden(text=message("forbidden", request_lang(request)))
    return actor


async def posted_form(request: web.Request, roles: frozenset[Role], *, same_origin: bool = False) -> tuple[Actor, Any]:
    """The signed-in staff member posting a staff page's form, after its CSRF token is checked (and,
    with `same_origin`, that it came from this site or an allowed origin)."""
    actor = await signed_in(request, roles)
    form = await request.post()
    lang = request_lang(request)
    if same_origin:
        settings = request.app[settings_key]
        if not origin_allowed(request, settings.allowed_origins, settings.trusted_networks()):
            raise web.HTTPForbidden(text=message("bad_origin", lang))
    if not request.app[staff_csrf_key].check(request.cookies.get(STAFF_COOKIE, ""), form.get("csrf")):
        raise web.HTTPForbidden(text=message("csrf", lang))
    return actor, form


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", next=_safe_next(request.query.get("next")), error=None, name="")


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    lang = request_lang(request)
    settings = request.app[settings_key]
    trusted = settings.trusted_networks()
    next_path = _safe_next(form.get("next"))
    name = str(form.get("name", ""))
    ip = client_ip(request, trusted)
    error, status = None, 403
    if not origin_allowed(request, settings.allowed_origins, trusted):
        error = message("bad_origin", lang)
    elif not request.app[csrf_key].check(request, form.get("csrf")):
        error = message("csrf", lang)
    elif wait := request.app[sign_in_limit].take(ip):
        error, status = message("rate_limited", lang, retry_after=wait), 429
    else:
        try:
            signed = await request.app[accounts_key].sign_in(name, str(form.get("password", "")), client=ip)
        except Unauthorized as err:  # one answer, whatever the cause (moderation/accounts.py)
            error, status = message(err.reason, lang, err.field, **err.params), 401
        else:
            response = web.HTTPSeeOther(next_path)
            set_staff_cookie(response, signed.token, secure_request(request, trusted),
                             int(SESSION_LIFETIME.total_seconds()))
            raise response
    return render(request, "login.html", status=status, next=next_path, error=error, name=name)


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    actor, cookie = await identify(request)
    form = await request.post()
    if actor is not None and cookie is not None:
        if not request.app[staff_csrf_key].check(cookie, form.get("csrf")):
            raise web.HTTPForbidden(text=message("csrf", request_lang(request)))
        await request.app[accounts_key].sign_out(cookie, actor)
        # this sign-in's open consoles, at once (a failed check does not undo the committed sign-out)
        await StaffNamespace.sweep_all(request.app[staff_namespaces_key])
    response = web.HTTPSeeOther("/login")
    response.del_cookie(STAFF_COOKIE, path="/")
    raise response


@routes.get("/staff")
async def staff_home(request: web.Request) -> web.Response:
    actor = await signed_in(request, MODERATOR_NAMESPACE | CHAIR_NAMESPACE)
    sessions = await request.app[watch_key].store.list_sessions()
    return staff_render(request, "staff.html", actor, sessions=sessions)


async def _staff_session(request: web.Request) -> Session:
    """Drafts too (staff prepare them); an unknown id is a 404 page (api.domain_errors)."""
    return await request.app[watch_key].get(path_id(request, "session_id"))


def _stream(request: web.Request, session_id: int) -> dict[str, Any] | None:
    """The video links for staff pages; None on a server without video (`--no-media`)."""
    return stream_links(request, session_id) if media_key in request.app else None


@routes.get("/mod/{session_id}")
async def moderator_console(request: web.Request) -> web.Response:
    actor = await signed_in(request, MODERATOR_NAMESPACE)
    session = await _staff_session(request)
    return staff_render(request, "moderator.html", actor, session=session,
                         stream=_stream(request, session.id), session_actions=wf.session_actions(actor.role))


@routes.get("/chair/{session_id}")
async def chair_screen(request: web.Request) -> web.Response:
    actor = await signed_in(request, CHAIR_NAMESPACE)
    session = await _staff_session(request)
    return staff_render(request, "chair.html", actor, session=session, stream=_stream(request, session.id))


@routes.get("/studio/{session_id}")
async def studio(request: web.Request) -> web.Response:
    """The studio laptop's page: publishes its camera and microphone over WHIP."""
    actor = await signed_in(request, BOARD)
    session = await _staff_session(request)
    response = staff_render(request, "studio.html", actor, session=session, stream=_stream(request, session.id))
    # the page asks for the camera and microphone; nothing else on this site needs them
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(self)"
    return response


@routes.get("/overlay/{session_id}")
async def overlay(request: web.Request) -> web.Response:
    session = await public_session(request)
    response = render(request, "overlay.html", session=session)
    # A browser source in OBS/vMix loads it directly; other sites must not frame it.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def setup_staff(app: web.Application) -> None:
    settings = app[settings_key]
    app[sign_in_limit] = RateLimiter(settings.sign_ins_per_ip_per_minute, settings.sign_ins_per_ip_per_minute,
                                     enabled=settings.rate_limit)
    app.add_routes(routes)
    from .account_pages import routes as account_routes  # built on this module's page helpers

    app.add_routes(account_routes)
