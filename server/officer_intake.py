"""Officer intake at the HTTP boundary: who is entering a question received by phone, e-mail, letter or
in person (a board member's credential), and the receipt the officer reads out or sends.

`POST /api/v1/sessions/{id}/questions` with a `channel` field is an officer's entry: it needs a staff
credential (the sign-in cookie with its X-CSRF-Token, or a bearer API token). A viewer sending
`channel` is refused (401, `field: "channel"`), never quietly taken as a web question; without
`channel` the request is a viewer's, whatever credential it carries. Which roles and channels are
allowed is moderation/officer_intake.py's rule, checked by server/intake.py for every surface."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from moderation.errors import Forbidden, Unauthorized
from moderation.officer_intake import claims_channel
from moderation.roles import Actor

from .auth import identify
from .config import Settings
from .keys import settings_key, staff_csrf_key, store_key
from .security import own_origin
from .ui_text import ui


async def entering_officer(request: web.Request, payload: Any, form_token: Any = None) -> Actor | None:
    """The staff member entering this question, or None for a viewer's question (no `channel`).
    Unauthorized (naming `channel`) without a valid credential; Forbidden without the CSRF token
    when the credential is the sign-in cookie. The role and the channel are checked by the intake."""
    if not claims_channel(payload):
        return None
    actor, cookie = await identify(request)
    if actor is None:
        raise Unauthorized("oi_sign_in", field="channel")
    if cookie is not None:
        given = request.headers.get("X-CSRF-Token", form_token)
        if not request.app[staff_csrf_key].check(cookie, given):
            raise Forbidden("csrf", field="csrf")
    return actor


def receipt_url(request: web.Request, receipt: str) -> str:
    """The asker's receipt page: on the public origin when one is configured (the officer reads it
    out or mails it), else on the origin the officer is using."""
    settings: Settings = request.app[settings_key]
    base = settings.public_url.rstrip("/") or own_origin(request, settings.trusted_networks())
    return f"{base}/q/{receipt}"


def readout(lang: str, *, channel: str, session_title: str, number: int, receipt: str, url: str) -> str:
    return ui("oi_readout_text", lang, channel=ui(f"oi_via_{channel}", lang), session=session_title, number=number,
              receipt=receipt, url=url)


async def officer_ack(request: web.Request, ack: dict[str, Any], actor: Actor, channel: str) -> dict[str, Any]:
    """A stored entry's ack, with what the officer tells the asker: the number in the register, the
    receipt page, and a short text to read out or send (Vietnamese, and English)."""
    question, session = await request.app[store_key].question_by_receipt(ack["receipt"])
    url = receipt_url(request, question.receipt)
    texts = {lang: readout(lang, channel=channel, session_title=session.title, number=question.number,
                           receipt=question.receipt, url=url) for lang in ("vi", "en")}
    return {**ack, "number": question.number, "channel": question.channel, "officer": question.entered_by,
            "receipt_url": url, "readout": texts}
