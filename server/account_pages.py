"""Staff accounts on the web: the administrator's page (/staff/users: disable, enable, reset a
password, end every sign-in of a user) and any staff member's own password (/staff/password).

Forms post with the staff CSRF token, as every staff form. An action that ends someone's work
asks first: with JavaScript in a dialog (static/js/users.js), without it on a page of its own
(`confirmed` is missing, so the server answers with the question). Everything is audited in
moderation/accounts.py; sockets whose sign-in an action ended close at once on this node (the
other nodes and the command line's changes: at their next sweep)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from moderation.errors import DomainError
from moderation.roles import CHAIR_NAMESPACE, MODERATOR_NAMESPACE, Actor, Role

from .api import request_lang
from .auth import STAFF_COOKIE
from .errors import HTTP_STATUS
from .i18n import message
from .keys import accounts_key, settings_key, staff_namespaces_key
from .moderator import StaffNamespace
from .security import client_ip
from .staff_pages import posted_form, signed_in, staff_render

routes = web.RouteTableDef()
ADMINS = frozenset({Role.ADMIN})
EVERY_ROLE = MODERATOR_NAMESPACE | CHAIR_NAMESPACE
# what the administrator may do to an account; each is confirmed first
USER_ACTIONS = ("disable", "enable", "signout", "password")


def _error(err: DomainError, request: web.Request) -> tuple[str, int]:
    return message(err.reason, request_lang(request), err.field, **err.params), HTTP_STATUS.get(err.code, 400)


async def _users_page(request: web.Request, actor: Actor, status: int = 200, **context: Any) -> web.Response:
    accounts = await request.app[accounts_key].accounts()
    context.setdefault("error", None)
    context.setdefault("error_user", "")
    context.setdefault("done", request.query.get("done") if request.query.get("done") in USER_ACTIONS else None)
    context.setdefault("done_user", request.query.get("user", ""))
    context.setdefault("ended", request.query.get("ended", ""))
    response = staff_render(request, "users.html", actor, accounts=accounts, **context)
    response.set_status(status)
    return response


@routes.get("/staff/users")
async def users_page(request: web.Request) -> web.Response:
    return await _users_page(request, await signed_in(request, ADMINS))


@routes.post("/staff/users/{action}")
async def user_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in USER_ACTIONS:
        raise web.HTTPNotFound()
    actor, form = await posted_form(request, ADMINS)
    name = str(form.get("name", ""))
    if form.get("confirmed") != "yes":
        # no script ran to ask: ask on a page (the form again, with confirmed=yes)
        return staff_render(request, "user_confirm.html", actor, action=action, name=name,
                             tokens=form.get("tokens") == "on")
    accounts = request.app[accounts_key]
    try:
        if action == "password":
            new = str(form.get("new_password", ""))
            if new != form.get("new_password_again"):
                return await _users_page(request, actor, 400, error=message("passwords_differ", request_lang(request)),
                                         error_user=name)
            ended = await accounts.reset_password(name, new, by=actor)
        elif action == "signout":
            ended = (await accounts.sign_out_everywhere(name, tokens=form.get("tokens") == "on", by=actor))["sessions"]
        else:
            ended = await accounts.set_disabled(name, action == "disable", by=actor)
    except DomainError as err:
        text, status = _error(err, request)
        return await _users_page(request, actor, status, error=text, error_user=name)
    await StaffNamespace.sweep_all(request.app[staff_namespaces_key])  # their open screens, at once
    raise web.HTTPSeeOther("/staff/users?" + urlencode({"done": action, "user": name, "ended": ended}))


@routes.get("/staff/password")
async def password_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, EVERY_ROLE)
    return staff_render(request, "password.html", actor, error=None, error_field=None, done=None)


@routes.post("/staff/password")
async def change_password(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, EVERY_ROLE)
    lang = request_lang(request)
    new = str(form.get("new_password", ""))
    if new != form.get("new_password_again"):
        return staff_render(request, "password.html", actor, status=400, error=message("passwords_differ", lang),
                             error_field="new_password_again", done=None)
    client = client_ip(request, request.app[settings_key].trusted_networks())
    try:
        ended = await request.app[accounts_key].change_password(
            actor, str(form.get("old_password", "")), new, client=client, keep=request.cookies.get(STAFF_COOKIE))
    except DomainError as err:
        text, status = _error(err, request)
        return staff_render(request, "password.html", actor, status=status, error=text, error_field=err.field,
                             done=None)
    await StaffNamespace.sweep_all(request.app[staff_namespaces_key])  # the user's other screens
    return staff_render(request, "password.html", actor, error=None, error_field=None, done=ended)
