"""HTML pages. Every page works without JavaScript (the form posts, the receipt page reads); the
viewer script (static/js/viewer.js) adds live updates, the outbox and interest marks on top."""

from __future__ import annotations

import secrets
from datetime import timedelta, timezone
from typing import Any

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from moderation import deadlines
from moderation.consent import CONSENT_TEXTS, CURRENT_CONSENT, Channel
from moderation.errors import NotFound
from moderation.questions import QuestionState
from moderation.sessions import SessionState

from .api import public_session, request_lang
from .errors import HTTP_STATUS
from .i18n import LANGS, message
from .keys import csrf_key, intake_key, jinja_key, settings_key, store_key, viewer_ids_key, watch_key
from .security import (
    VIEWER_COOKIE,
    CsrfTokens,
    ViewerIds,
    client_ip,
    local_path,
    origin_allowed,
    secure_request,
)
from .staff_text import staff_js_texts
from .ui_text import js_texts, ui

routes = web.RouteTableDef()
VIETNAM = timezone(timedelta(hours=7), "ICT")


def make_jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("server", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["local"] = lambda dt, fmt="%H:%M %d/%m/%Y": dt.astimezone(VIETNAM).strftime(fmt)
    env.globals["js_texts"] = js_texts  # the viewer script's strings, handed over as a JSON data block
    env.globals["staff_js_texts"] = staff_js_texts
    return env


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = request_lang(request)
    csrf: CsrfTokens = request.app[csrf_key]
    token, new_cookie = csrf.issue(request)
    html = request.app[jinja_key].get_template(template).render(
        lang=lang, langs=LANGS, t=lambda key, **kw: ui(key, lang, **kw), csrf_token=token, path=request.path,
        **context,
    )
    response = web.Response(text=html, status=status, content_type="text/html")
    secure = secure_request(request, request.app[settings_key].trusted_networks())
    if new_cookie:
        CsrfTokens.set_cookie(response, new_cookie, secure=secure)
    viewer_cookie = request.app[viewer_ids_key].issue(request)
    if viewer_cookie:
        ViewerIds.set_cookie(response, viewer_cookie, secure=secure)
    # Each rendering carries a fresh form key and token: never serve one from a cache or the
    # back-forward cache, where it would be sent again with other content.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        "connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; frame-ancestors 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def setup_pages(app: web.Application, secret: str) -> None:
    app[csrf_key] = CsrfTokens(secret)
    app[viewer_ids_key] = ViewerIds(secret)
    app[jinja_key] = make_jinja()
    app.add_routes(routes)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    # the standing forums have their own list (/forum, in the header): no start time to show here
    sessions = [s for s in await request.app[store_key].list_sessions() if s.public and not s.is_forum]
    return render(request, "index.html", sessions=sessions)


@routes.get("/lang/{lang}")
async def switch_lang(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    if lang not in LANGS:
        raise web.HTTPNotFound()
    response = web.HTTPSeeOther(local_path(request.query.get("next"), "/"))
    response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", path="/",
                        secure=secure_request(request, request.app[settings_key].trusted_networks()))
    raise response


def _form_state(form: MultiDictProxy[Any] | None = None) -> dict[str, str]:
    keys = ("kind", "name", "address", "phone", "name_shown", "field", "text", "email")
    values = {k: (form.get(k, "") if form else "") for k in keys}
    values["kind"] = values["kind"] or "person"
    values["name_shown"] = values["name_shown"] or "short"
    values["consent"] = "on" if form and form.get("consent") else ""
    return values


@routes.get("/s/{session_id}")
async def session_page(request: web.Request) -> web.Response:
    session = await public_session(request)
    if session.is_forum:  # the standing forum's page (server/forum_pages.py)
        from .forum_pages import forum_page

        return await forum_page(request, session, form=_form_state(), errors={},
                                idempotency_key=secrets.token_urlsafe(16))
    if session.state is SessionState.PUBLISHED:  # the archive: the article and its video (server/archive_pages.py)
        from .archive_pages import archive_page

        archived = await archive_page(request, session.id)
        if archived is not None:  # published before there were articles: the session page, as it was
            return archived
    questions = await request.app[store_key].public_questions(session.id)
    return render(
        request, "session.html", session=session, questions=questions, form=_form_state(), errors={},
        **await _live_context(request, session.id, questions),
        idempotency_key=secrets.token_urlsafe(16), consent=CONSENT_TEXTS[CURRENT_CONSENT],
    )


@routes.post("/s/{session_id}/questions")
async def submit_form(request: web.Request) -> web.Response:
    """The no-JavaScript path. Success: 303 to the receipt page (so a reload does not resend).
    Failure: the form again, with what was typed and each problem beside its field."""
    session = await public_session(request)
    settings = request.app[settings_key]
    trusted = settings.trusted_networks()
    lang = request_lang(request)
    form = await request.post()
    csrf: CsrfTokens = request.app[csrf_key]
    errors: dict[str, str] = {}
    status = 403
    if not origin_allowed(request, settings.allowed_origins, trusted):
        errors["form"] = message("bad_origin", lang)
    elif not csrf.check(request, form.get("csrf")):
        errors["form"] = message("csrf", lang)
    else:
        payload = {
            "session_id": session.id,
            "idempotency_key": form.get("idempotency_key", ""),
            "asker": {
                "kind": form.get("kind", "person"),
                "name": form.get("name", ""),
                "address": form.get("address", ""),
                "phone": form.get("phone", ""),
                "email": form.get("email", ""),  # notify: optional
                "name_shown": form.get("name_shown", "short"),
            },
            "field": form.get("field") or None,
            "text": form.get("text", ""),
            "consent": {"accepted": form.get("consent") == "on",
                        "version": form.get("consent_version") or CURRENT_CONSENT},
        }
        intake, ip = request.app[intake_key], client_ip(request, trusted)
        viewer_id = request.app[viewer_ids_key].verify(request.cookies.get(VIEWER_COOKIE))
        ack = await intake.submit(payload, channel=Channel.FORM, client_ip=ip, connection=None, lang=lang,
                                  sender=intake.sender(viewer_id, ip))
        if ack["ok"]:
            raise web.HTTPSeeOther(f"/q/{ack['receipt']}?new=1")
        error = ack["error"]
        status = HTTP_STATUS.get(error["code"], 400)
        if error["code"] != "validation":
            errors["form"] = error["message"]  # closed, rate-limited…: not about one field
        for problem in error.get("problems") or [error]:
            key = (problem.get("field") or "form").removeprefix("asker.")
            errors.setdefault(key, problem["message"])
    if session.is_forum:  # the form again, on the forum's page (server/forum_pages.py)
        from .forum_pages import forum_page

        return await forum_page(request, session, status=status, form=_form_state(form), errors=errors,
                                idempotency_key=str(form.get("idempotency_key", "")))
    questions = await request.app[store_key].public_questions(session.id)
    return render(
        request, "session.html", status=status, session=session, questions=questions,
        **await _live_context(request, session.id, questions),
        form=_form_state(form), errors=errors, idempotency_key=str(form.get("idempotency_key", "")),
        consent=CONSENT_TEXTS[CURRENT_CONSENT],
    )


async def _live_context(request: web.Request, session_id: int, questions: list[Any]) -> dict[str, Any]:
    """What is on air now, and the transparency counts."""
    on_air = next((q for q in questions if q.state is QuestionState.ON_AIR), None)
    return {"on_air": on_air, "stats": await request.app[watch_key].stats(session_id)}


@routes.get("/q")
async def receipt_lookup(request: web.Request) -> web.Response:
    raw = request.query.get("receipt", "").strip()
    if raw:
        raise web.HTTPSeeOther(f"/q/{raw}")
    return render(request, "lookup.html", not_found=False, receipt="")


@routes.get("/q/{receipt}")
async def receipt_page(request: web.Request) -> web.Response:
    try:
        question, session = await request.app[store_key].question_by_receipt(request.match_info["receipt"])
    except NotFound:
        return render(request, "lookup.html", status=404, not_found=True, receipt=request.match_info["receipt"])
    from notify.status import receipt_notices  # notify: what the asker was told, oldest first, each once

    notices = await receipt_notices(request.app[store_key], question.id, request_lang(request))
    from .privacy_pages import privacy_receipt  # privacy: the asker's data requests (server/privacy_pages.py)

    privacy = await privacy_receipt(request, question)
    return render(request, "receipt.html", question=question, session=session, new=request.query.get("new") == "1",
                  **privacy,
                  question_due=deadlines.stored(question), due_met=deadlines.met(question), notices=notices)
