"""Domain errors become HTTP statuses and ack bodies here, and nowhere else; a client's malformed
request becomes one short log line (FaultLog), never a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

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


class FaultLog:
    """What clients get wrong (malformed requests, refused or dropped sockets), as one short line
    per kind at most every `every` seconds; the next line says how many were held back. Anyone can
    send garbage by the thousand, and a traceback for each would bury the log and fill the disk."""

    def __init__(self, logger: logging.Logger, every: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._said: dict[str, tuple[float, int]] = {}  # kind -> (when last said, how many held back since)

    def take(self, kind: str) -> int | None:
        """None: hold this one back; else say it, and how many were held back before it."""
        now = self.clock()
        said = self._said.get(kind)
        if said is not None and now - said[0] < self.every:
            self._said[kind] = (said[0], said[1] + 1)
            return None
        self._said[kind] = (now, 0)
        return said[1] if said else 0

    def note(self, kind: str, detail: str, level: int = logging.INFO) -> None:
        held = self.take(kind)
        if held is not None:
            self.logger.log(level, "%s: %s%s", kind, detail, self.held_back(held))

    def held_back(self, held: int) -> str:
        return f" (and {held} more in the last {self.every:g} s)" if held else ""


class MalformedHttp(logging.Filter):
    """aiohttp logs every request it cannot parse (a bad header, a bad chunk) with its traceback, at
    ERROR; here it is one line through a FaultLog. Errors raised by our handlers keep theirs."""

    def __init__(self, faults: FaultLog) -> None:
        super().__init__()
        self.faults = faults

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.INFO):
            return False
        held = self.faults.take("malformed HTTP request")
        if held is None:
            return False
        reason = (exc.message or type(exc).__name__).strip().splitlines()[0][:80]  # aiohttp's words, one line
        record.msg, record.args = "malformed HTTP request: %s%s", (reason, self.faults.held_back(held))
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.exc_info = record.exc_text = None
        return True


def quiet_malformed_http() -> None:
    """Install MalformedHttp on aiohttp's server logger, once per process (the logger is global)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedHttp) for f in server_log.filters):
        server_log.addFilter(MalformedHttp(FaultLog(server_log)))
