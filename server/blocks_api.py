"""Blocking senders over the staff API (docs/moderation.md, "Blocking senders"): what the console's
"Block sender" dialog and blocks panel call, and scripts too (bearer token or cookie + CSRF).

The moderator names a question; the server finds what its sender sent it with. Neither the answer
nor the list ever carries a phone, an address or a hash: only which kinds are blocked."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from moderation.blocks import Block
from moderation.errors import NotFound, ValidationError
from moderation.roles import BOARD
from moderation.submission import MAX_ID

from .api import json_response, path_id, read_json
from .auth import require_staff
from .keys import blocks_key

routes = web.RouteTableDef()


def _body(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError("not_an_object")
    return raw


def _block_id(request: web.Request) -> int:
    raw = request.match_info["block_id"]
    value = int(raw) if raw.isdigit() and len(raw) <= 19 else 0
    if not 0 < value <= MAX_ID:
        raise NotFound("block_not_found", field="block_id")
    return value


def _out(request: web.Request, block: Block) -> dict[str, Any]:
    return block.staff_dict(request.app[blocks_key].clock())


@routes.get("/api/v1/blocks")
async def list_blocks(request: web.Request) -> web.Response:
    """The blocks in force (`ended=1`: also lifted and expired ones); `session_id=N`: those that
    cover that session (its own and those everywhere)."""
    actor = await require_staff(request, BOARD)
    raw = request.query.get("session_id")
    if raw is not None and not (raw.isdigit() and 0 < int(raw) <= MAX_ID):
        raise ValidationError("bad_session_id", field="session_id")
    blocks = await request.app[blocks_key].listing(actor, session_id=int(raw) if raw else None,
                                                   ended=request.query.get("ended") in ("1", "true"))
    return json_response({"blocks": [_out(request, b) for b in blocks]})


@routes.post("/api/v1/questions/{question_id}/block")
async def block_sender(request: web.Request) -> web.Response:
    """Block the sender of this question: {scope, duration, kinds, reason}."""
    actor = await require_staff(request, BOARD)
    question_id = path_id(request, "question_id")
    body = _body(await read_json(request))
    block = await request.app[blocks_key].block(question_id, body, actor)
    return json_response({"ok": True, "block": _out(request, block)}, status=201)


@routes.post("/api/v1/blocks/{block_id}/lift")
async def lift_block(request: web.Request) -> web.Response:
    actor = await require_staff(request, BOARD)
    block_id = _block_id(request)
    body = _body(await read_json(request))
    block = await request.app[blocks_key].lift(block_id, body.get("reason"), actor)
    return json_response({"ok": True, "block": _out(request, block)})
