"""The JSON API (docs/api.md). Non-browser clients (the portal's back end, scripts) use it directly."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from moderation import deadlines
from moderation.consent import Channel
from moderation.errors import DomainError, NotFound, TooLarge, ValidationError
from moderation.sessions import Session
from moderation.submission import MAX_ID, MAX_PAYLOAD_BYTES

from .errors import HTTP_STATUS, error_body
from .i18n import LANGS, lang_of, message
from .keys import intake_key, settings_key, store_key, viewer_ids_key, watch_key
from .officer_intake import entering_officer, officer_ack
from .security import VIEWER_COOKIE, client_ip, origin_allowed

routes = web.RouteTableDef()


def request_lang(request: web.Request) -> str:
    """Vietnamese unless English was chosen (the page's switch sets the cookie). A browser's
    Accept-Language counts for API clients only: many Vietnamese phones run in English, and the
    portal's pages speak Vietnamese first."""
    chosen = request.query.get("lang") or request.cookies.get("lang")
    if chosen is None and request.path.startswith("/api/"):
        chosen = _accept_language(request)
    return lang_of(chosen)


def _accept_language(request: web.Request) -> str | None:
    header = request.headers.get("Accept-Language", "")
    return "en" if header.lower().startswith("en") else None


def json_response(body: Any, status: int = 200) -> web.Response:
    response = web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))
    retry_after = body.get("error", {}).get("retry_after") if isinstance(body, dict) else None
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def error_response(err: DomainError, request: web.Request) -> web.Response:
    return json_response(error_body(err, request_lang(request)), status=HTTP_STATUS.get(err.code, 400))


@web.middleware
async def cors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The portal's pages (an origin in `allowed_origins`) may call the API from the browser."""
    origin = request.headers.get("Origin")
    allowed = origin is not None and request.path.startswith("/api/") and (
        origin in request.app[settings_key].allowed_origins)
    if allowed and request.method == "OPTIONS":
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin or ""
        response.headers["Vary"] = "Origin"
    return response


MEDIA_PATHS = ("/whip/", "/whep/", "/live/")


@web.middleware
async def domain_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Domain errors raised by handlers become JSON error bodies (API) or a 404 page, in this one place."""
    try:
        return await handler(request)
    except DomainError as err:
        if request.path.startswith("/api/"):
            return error_response(err, request)
        if request.path.startswith(MEDIA_PATHS):
            # players and publishers on other origins (the portal) must be able to read the reason
            response = error_response(err, request)
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response
        texts = [message(err.reason, lang, err.field, **err.params) for lang in LANGS]
        raise web.HTTPNotFound(text=" / ".join(texts)) from err


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        # Also a CSRF defence: a cross-site HTML form cannot send application/json.
        raise ValidationError("bad_content_type", field=None)
    if request.content_length is not None and request.content_length > MAX_PAYLOAD_BYTES:
        raise TooLarge("too_large", limit=MAX_PAYLOAD_BYTES)
    raw = await request.content.read(MAX_PAYLOAD_BYTES + 1)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise TooLarge("too_large", limit=MAX_PAYLOAD_BYTES)
    try:
        return parse_json(raw)
    except ValueError:
        raise ValidationError("bad_json", field=None) from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_json(text: str | bytes) -> Any:
    """JSON from a client (the API's bodies, and every Socket.IO packet: app.Utf8Json), as text that
    can be written out again. Bytes must be UTF-8. A lone UTF-16 surrogate escape ("\\ud800") is
    valid JSON but no character: echoed into an error body, a log line or a broadcast it cannot be
    encoded (a 500, a dead websocket), so it becomes U+FFFD here, before anything reads it. Any
    failure is a ValueError (engine.io tries every message as JSON and catches only that)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")  # strict: UTF-8 that encodes a surrogate is refused here
    try:
        value = json.loads(text)
        # Only an escape can bring a surrogate in, and the check is a scan in C; a valid pair
        # ("\\ud83d\\ude00") was joined into its character by the decoder and is kept.
        return _without_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value
    except RecursionError:  # [[[[… nested past the interpreter's limit
        raise ValueError("JSON nested too deeply") from None


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def path_id(request: web.Request, name: str) -> int:
    """An id from the path; NotFound unless it is one the database could hold."""
    try:
        value = int(request.match_info[name])
    except ValueError:
        value = 0
    if not 0 < value <= MAX_ID:
        raise NotFound("session_not_found" if name == "session_id" else "question_not_found", field=name)
    return value


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[store_key].ping()
    except Exception:
        return json_response({"ok": False, "store": "unreachable"}, status=503)
    return json_response({"ok": True})


@routes.get("/api/v1/sessions")
async def list_sessions(request: web.Request) -> web.Response:
    sessions = await request.app[store_key].list_sessions()
    return json_response({"sessions": [s.public_dict() for s in sessions if s.public]})


async def public_session(request: web.Request) -> Session:
    """The session named in the path, for the public: a draft is answered like an unknown id."""
    session = await request.app[watch_key].get(path_id(request, "session_id"))
    if not session.public:
        raise NotFound("session_not_found", field="session_id")
    return session


@routes.get("/api/v1/sessions/{session_id}")
async def get_session(request: web.Request) -> web.Response:
    return json_response((await public_session(request)).public_dict())


@routes.get("/api/v1/sessions/{session_id}/questions")
async def public_questions(request: web.Request) -> web.Response:
    session = await public_session(request)
    questions = await request.app[store_key].public_questions(session.id)
    return json_response({"questions": [q.public_dict() for q in questions]})


@routes.post("/api/v1/sessions/{session_id}/questions")
async def submit_question(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    trusted = settings.trusted_networks()
    if not origin_allowed(request, settings.allowed_origins, trusted):
        message_text = message("bad_origin", request_lang(request))
        return json_response({"ok": False, "error": {"code": "forbidden", "message": message_text, "field": None}},
                             status=403)
    payload = await read_json(request)
    if isinstance(payload, dict):
        # The path names the session; a body that names another one is a client bug worth refusing.
        body_id = payload.setdefault("session_id", path_id(request, "session_id"))
        if str(body_id) != request.match_info["session_id"]:
            raise ValidationError("bad_session_id", field="session_id")
    intake, ip = request.app[intake_key], client_ip(request, trusted)
    # -- officer intake (server/officer_intake.py): with `channel`, a board member enters a question
    # received by phone, e-mail, letter or in person; without it, the request is a viewer's.
    officer = await entering_officer(request, payload)
    if officer is not None:
        channel = str(payload["channel"])
        ack = await intake.submit(payload, channel=channel, client_ip=ip, connection=None,
                                  lang=request_lang(request), officer=officer)
        if ack["ok"]:
            return json_response(await officer_ack(request, ack, officer, channel), status=201)
        return json_response(ack, status=HTTP_STATUS.get(ack["error"]["code"], 400))
    # -- end officer intake
    ack = await intake.submit(
        payload, channel=Channel.API, client_ip=ip, connection=None, lang=request_lang(request),
        sender=intake.sender(request.app[viewer_ids_key].verify(request.cookies.get(VIEWER_COOKIE)), ip),
    )
    if ack["ok"]:
        return json_response(ack, status=201)
    return json_response(ack, status=HTTP_STATUS.get(ack["error"]["code"], 400))


@routes.get("/api/v1/receipts/{receipt}")
async def receipt(request: web.Request) -> web.Response:
    question, session = await request.app[store_key].question_by_receipt(request.match_info["receipt"])
    return json_response(receipt_body(question, session))


def receipt_body(question: Any, session: Any) -> dict[str, Any]:
    """What an asker sees of their question: never the phone or address."""
    pending = bool(question.due_on) and not question.due_done_at
    public = question.public_dict()
    return {
        "receipt": question.receipt,
        "question_id": question.id,
        "session": {"id": session.id, "title": session.title, "state": session.state.value},
        "field": question.field,
        "text": question.text,
        "state": question.state.value,
        "public": question.public,
        "decline_reason": question.decline_reason,
        "decline_note": question.decline_note,  # the reason in words, when the board gave one
        # outside the chair's remit: when the competent unit must have it (3 days, Điều 10.4)
        "forward_due": question.forward_due.isoformat() if question.forward_due else None,
        # the next step the asker can expect: its last day (ISO date, ending 24:00 Vietnam time) and the
        # rule it comes from (moderation/deadlines.py RULES); null when nothing is pending
        "due": question.due_on.isoformat() if pending else None,
        "due_rule": question.due_rule if pending else None,
        "due_met": deadlines.met(question),
        "forwarded_to": question.forwarded_to,
        "answer": public["answer"],  # a written answer, once the head approved it
        "attachments": public["attachments"],  # responder: its files, once approved
        "received_at": question.received_at.isoformat(),
        "interest_count": question.interest_count,
    }
