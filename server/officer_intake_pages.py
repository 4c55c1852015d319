"""The staff page where an officer enters a question received by phone, e-mail, letter or in person
(`/staff/intake/{session_id}`, the board only), and the printable receipt slip (phiếu tiếp nhận).

The form posts without JavaScript; the question goes through the same intake as the API's
(server/intake.py with the officer: moderation/officer_intake.py's rule, parse_submission's
validation, the idempotency key in the form, the writer's check that intake is open). A stored entry
redirects to the slip (`?receipt=`), so a reload does not post again; a post sent twice (a double
click, a retry) carries the same key and gets the same receipt."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from moderation.consent import CONSENT_TEXTS, CURRENT_CONSENT
from moderation.errors import NotFound
from moderation.officer_intake import OFFICER_CHANNELS
from moderation.roles import BOARD, Actor
from moderation.sessions import Session

from .api import path_id, request_lang
from .auth import STAFF_COOKIE
from .errors import HTTP_STATUS
from .i18n import message
from .keys import intake_key, settings_key, staff_csrf_key, store_key
from .officer_intake import readout, receipt_url
from .security import client_ip, origin_allowed
from .staff_pages import signed_in, staff_render

routes = web.RouteTableDef()
TEMPLATE = "officer_intake.html"
FORM_KEYS = ("channel", "kind", "name", "address", "phone", "email", "name_shown", "field", "text")


def _form(form: MultiDictProxy[Any] | None = None) -> dict[str, str]:
    values = {k: str(form.get(k, "")) if form else "" for k in FORM_KEYS}
    values["kind"] = values["kind"] or "person"
    values["name_shown"] = values["name_shown"] or "short"
    values["consent"] = "on" if form and form.get("consent") else ""
    return values


def _payload(session: Session, form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The form as the API's body: the same contract (docs/api.md)."""
    asker: dict[str, Any] = {
        "kind": form.get("kind", "person"),
        "name": form.get("name", ""),
        "address": form.get("address", ""),
        "phone": form.get("phone", ""),
        "name_shown": form.get("name_shown", "short"),
    }
    if form.get("email"):
        asker["email"] = form.get("email")
    return {
        "session_id": session.id,
        "idempotency_key": form.get("idempotency_key", ""),
        "channel": form.get("channel", ""),
        "asker": asker,
        "field": form.get("field") or None,
        "text": form.get("text", ""),
        "consent": {"accepted": form.get("consent") == "on",
                    "version": form.get("consent_version") or CURRENT_CONSENT},
    }


def _page(request: web.Request, actor: Actor, session: Session, *, status: int = 200, form: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, key: str | None = None, slip: dict[str, Any] | None = None) -> web.Response:
    response = staff_render(request, TEMPLATE, actor, session=session, channels=OFFICER_CHANNELS,
                            form=form or _form(), errors=errors or {},
                            idempotency_key=key or secrets.token_urlsafe(16),
                            consent=CONSENT_TEXTS[CURRENT_CONSENT], slip=slip)
    response.set_status(status)
    return response


async def _slip(request: web.Request, actor: Actor, session: Session, receipt: str) -> dict[str, Any]:
    """What the slip shows: the receipt, the number, when and how it came, the question, the officer,
    the receipt page and the text to read out. The asker only as named in public. Only for a
    question an officer entered in this session (a complaint moved to the formal channel: the head's)."""
    question, owner = await request.app[store_key].question_by_receipt(receipt)
    if owner.id != session.id or question.entered_by is None or (question.protected and not actor.sees_protected):
        raise NotFound("receipt_not_found", field="receipt")
    url = receipt_url(request, question.receipt)
    lang = request_lang(request)
    text = readout(lang, channel=question.channel, session_title=session.title, number=question.number,
                   receipt=question.receipt, url=url)
    return {"question": question, "url": url, "readout": text, "officer": question.entered_by}


@routes.get("/staff/intake/{session_id}")
async def intake_page(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    # from the store, not the poller's copy: whether the form is offered must be the session's state
    # now (a close from the CLI or another node reaches the poller only within its interval)
    session = await request.app[store_key].get_session(path_id(request, "session_id"))
    receipt = request.query.get("receipt")
    if receipt:
        try:
            slip = await _slip(request, actor, session, receipt)
        except NotFound:
            return _page(request, actor, session, status=404, errors={"form": message("receipt_not_found",
                                                                                      request_lang(request))})
        return _page(request, actor, session, slip=slip)
    return _page(request, actor, session)


@routes.post("/staff/intake/{session_id}")
async def intake_post(request: web.Request) -> web.Response:
    actor = await signed_in(request, BOARD)
    session = await request.app[store_key].get_session(path_id(request, "session_id"))
    settings = request.app[settings_key]
    trusted = settings.trusted_networks()
    lang = request_lang(request)
    form = await request.post()
    if not origin_allowed(request, settings.allowed_origins, trusted):
        raise web.HTTPForbidden(text=message("bad_origin", lang))
    if not request.app[staff_csrf_key].check(request.cookies.get(STAFF_COOKIE, ""), form.get("csrf")):
        raise web.HTTPForbidden(text=message("csrf", lang))
    channel = str(form.get("channel", ""))
    ack = await request.app[intake_key].submit(_payload(session, form), channel=channel,
                                               client_ip=client_ip(request, trusted), connection=None, lang=lang,
                                               officer=actor)
    if ack["ok"]:
        raise web.HTTPSeeOther(f"/staff/intake/{session.id}?receipt={ack['receipt']}")
    error = ack["error"]
    errors: dict[str, str] = {}
    if error["code"] != "validation" or error.get("field") is None:
        errors["form"] = error["message"]  # closed, refused…: not about one field
    for problem in error.get("problems") or [error]:
        errors.setdefault((problem.get("field") or "form").removeprefix("asker."), problem["message"])
    return _page(request, actor, session, status=HTTP_STATUS.get(error["code"], 400), form=_form(form),
                 errors=errors, key=str(form.get("idempotency_key", "")) or None)


def setup_officer_intake(app: web.Application) -> None:
    app.add_routes(routes)
