"""Domain errors become HTTP statuses and ack bodies here, and nowhere else."""

from __future__ import annotations

from typing import Any

from moderation.errors import DomainError

from .i18n import message

HTTP_STATUS = {
    "validation": 400,
    "too_large": 413,
    "not_found": 404,
    "session_not_open": 409,
    "session_closed": 409,
    "rate_limited": 429,
    "invalid_state": 409,
    "forbidden": 403,
    "unauthorized": 401,
    "conflict": 409,
    "sender_blocked": 403,
    "internal": 503,
}


def error_body(err: DomainError, lang: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": err.code,
        "message": message(err.reason, lang, err.field, **err.params),
        "field": err.field,
    }
    if "retry_after" in err.params:
        body["retry_after"] = err.params["retry_after"]
    others = err.params.get("all")
    if others:
        body["problems"] = [
            {"field": e.field, "message": message(e.reason, lang, e.field, **e.params)} for e in others
        ]
    return {"ok": False, "error": body}


def internal_error_body(lang: str, reason: str = "internal") -> dict[str, Any]:
    return {"ok": False, "error": {"code": "internal", "message": message(reason, lang), "field": None}}
