"""The server ↔ media worker protocol: one JSON object per line over a socket pair.

Requests carry an `id` and an `op`; the answer carries the same `id` and `ok`. Messages without an
`id` are events from the worker (a session's picture went live, fell back to the slate, stopped).
JSON, not pickle: the two sides are separate programs, and SDP is text anyway."""

from __future__ import annotations

import asyncio
import json
from typing import Any

# an SDP offer with many candidates is a few KB; a line longer than this is a fault, not a message
LIMIT = 1024 * 1024


class MediaError(Exception):
    """Refused by the worker: `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


async def read(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None when the other side has gone."""
    try:
        line = await reader.readline()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return None
    if not line:
        return None
    message = json.loads(line)
    assert isinstance(message, dict)
    return message
