"""Askers' requests to see or erase their data, on the web (moderation/data_requests.py has the rules).

- The receipt page (`/q/{receipt}`) shows the question's requests (state, due date, a refusal's
  reason) and a form: what the asker asks for and the phone number they sent with the question.
  It posts to `/q/{receipt}/privacy` with the page's CSRF token; a wrong number gets the same
  answer as a question already erased, and tries are rate-limited per address and per receipt.
- `/staff/privacy` (head, admin): the open requests, earliest due first, overdue ones marked; an
  access request's data shown to send (audited), closed as done; an erasure request carried out
  (the asker erased at once); either refused with a reason the asker reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from moderation.calendar import local_date
from moderation.data_requests import DataRequests
from moderation.errors import DomainError, RateLimited
from moderation.roles import HEADS, Actor
from moderation.store import QuestionView

from .api import request_lang
from .errors import HTTP_STATUS
from .i18n import message
from .keys import csrf_key, settings_key, store_key
from .ratelimit import RateLimiter
from .security import client_ip, origin_allowed
from .staff_pages import posted_form, signed_in, staff_render

routes = web.RouteTableDef()
# Tries at the phone check: per address (an office NAT shares one), and per receipt, so no number
# is guessed by spreading the tries over many addresses (10^9 numbers, 6 tries an hour).
ip_limit: web.AppKey[RateLimiter] = web.AppKey("privacy_ip_limit")
receipt_limit: web.AppKey[RateLimiter] = web.AppKey("privacy_receipt_limit")
# the request's own failed form, for the receipt page rendered again
FORM_KEY: web.RequestKey[dict[str, str]] = web.RequestKey("privacy_form", dict)
STAFF_ACTIONS = ("show", "done", "refuse")


def make_limits(app: web.Application) -> None:
    enabled = app[settings_key].rate_limit
    app[ip_limit] = RateLimiter(20, 10, enabled=enabled)
    app[receipt_limit] = RateLimiter(6 / 60, 5, enabled=enabled)


def _requests(request: web.Request) -> DataRequests:
    return DataRequests(request.app[store_key])


async def privacy_receipt(request: web.Request, question: QuestionView) -> dict[str, Any]:
    """The receipt page's context: {"privacy": …} for server/templates/_privacy_receipt.html."""
    found, erased = await _requests(request).for_question(question.id)
    failed = request.get(FORM_KEY) or {}
    return {"privacy": {
        "requests": found,
        "erased": erased,
        "sent": request.query.get("privacy") == "sent",
        "error": failed.get("error"),
        "kind": failed.get("kind", ""),
        "open_kinds": {r.kind for r in found if r.state == "open"},
    }}


@routes.post("/q/{receipt}/privacy")
async def ask(request: web.Request) -> web.StreamResponse:
    """The asker's request. Success: 303 back to the receipt page (a reload sends nothing again).
    Failure: the receipt page again with the message beside the form; the number typed is not
    sent back."""
    from .pages import receipt_page

    settings = request.app[settings_key]
    trusted = settings.trusted_networks()
    lang = request_lang(request)
    receipt = request.match_info["receipt"]
    form = await request.post()
    kind = str(form.get("request_kind", ""))
    status = 403
    error: str
    if not origin_allowed(request, settings.allowed_origins, trusted):
        error = message("bad_origin", lang)
    elif not request.app[csrf_key].check(request, form.get("csrf")):
        error = message("csrf", lang)
    else:
        wait = max(request.app[ip_limit].take(client_ip(request, trusted)),
                   request.app[receipt_limit].take(receipt.upper()))
        try:
            if wait:
                raise RateLimited("privacy_rate_limited", field="request_phone", retry_after=wait)
            await _requests(request).ask(receipt, kind, form.get("request_phone"))
        except DomainError as err:
            error = message(err.reason, lang, err.field, **err.params)
            status = HTTP_STATUS.get(err.code, 400)
        else:
            raise web.HTTPSeeOther(f"/q/{receipt}?privacy=sent#privacy")
    request[FORM_KEY] = {"error": error, "kind": kind}
    response = await receipt_page(request)
    response.set_status(status if response.status == 200 else response.status)
    return response


# ---- the staff page ----


async def _page(request: web.Request, actor: Actor, *, status: int = 200, **context: Any) -> web.Response:
    closed = request.query.get("closed") == "1"
    found = await _requests(request).listing(actor, closed=closed)
    today = local_date(datetime.now(UTC))
    context.setdefault("error", None)
    context.setdefault("error_id", None)
    context.setdefault("shown", None)
    done = request.query.get("done")
    context.setdefault("done", done if done in ("done", "erased", "refused") else None)
    context.setdefault("done_id", request.query.get("id", ""))
    response = staff_render(request, "staff_privacy.html", actor, requests=found, today=today, closed=closed,
                            **context)
    response.set_status(status)
    return response


@routes.get("/staff/privacy")
async def staff_privacy(request: web.Request) -> web.Response:
    return await _page(request, await signed_in(request, HEADS))


@routes.post("/staff/privacy/{request_id}/{action}")
async def staff_privacy_action(request: web.Request) -> web.Response:
    actor, form = await posted_form(request, HEADS)
    action = request.match_info["action"]
    if action not in STAFF_ACTIONS:
        raise web.HTTPNotFound()
    try:
        request_id = int(request.match_info["request_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    requests = _requests(request)
    try:
        if action == "show":
            found, data = await requests.show(request_id, actor)
            return await _page(request, actor, shown={"id": found.id, "data": data})
        closed = await requests.close(request_id, "refused" if action == "refuse" else "done", form.get("note"),
                                      actor, confirmed=form.get("confirmed") == "yes")
    except DomainError as err:
        text = message(err.reason, request_lang(request), err.field, **err.params)
        return await _page(request, actor, status=HTTP_STATUS.get(err.code, 400), error=text, error_id=request_id)
    outcome = "refused" if closed.state == "refused" else ("erased" if closed.kind == "erasure" else "done")
    raise web.HTTPSeeOther(f"/staff/privacy?done={outcome}&id={closed.id}")
