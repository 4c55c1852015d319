"""The baseline for bench/fanout.py: a bare python-socketio broadcast, no store, no views.

One process, one AsyncServer (async_mode="aiohttp", stdlib json like the real server) on an aiohttp
app, holding a few questions in memory:

  /viewer     `join {session_id}` enters the room `session:{id}` and acks a snapshot of public dicts;
  /moderator  connect wants `auth: {token}` (any non-empty string), `join {session_id}` enters
              `mod:{id}`; `action {question_id, action, version, ...}` checks the version, bumps it,
              applies `star {starred}` (any other action only bumps the version), then does what the
              real server does after a commit: emits `question` {question: <staff dict>, cursor} to
              the moderators' room, then `question` <public dict> to the viewers' room, and acks
              {ok, question, others: []}.

The payloads have the shape and about the size of the real server's (docs/moderation.md), so the
difference between the two targets is what doithoai does beyond python-socketio's own fan-out
(one encode per emit, then one task, one queue put and one websocket frame per recipient). It also
serves GET /healthz, so both targets are started and waited for the same way.

    python bench/broadcast_server.py --host 127.0.0.1 --port 8765 [--questions 5] [--gc tuned] [--json utf8]

--json utf8 makes python-socketio write JSON without \\uXXXX escapes, as the real server does
(server/app.py Utf8Json: Vietnamese text as UTF-8, fewer bytes per broadcast); the default, stdlib,
is python-socketio's own. --gc tuned applies the process settings `doithoai serve` applies
(server/cli.py: gc.freeze() after start-up, gc.set_threshold(50_000, 20, 20),
sys.setswitchinterval(0.0005)); --gc default (the default of this script) leaves CPython's. With 2,000 connections the collector's default young
generation threshold (700) makes every fan-out pay several collections, which scan the connections'
long-lived objects: a bare server with default settings is not the floor of a tuned one.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
from datetime import UTC, datetime
from typing import Any

import socketio
from aiohttp import web

TEXTS = [
    "Xin hỏi lãnh đạo thành phố: bao giờ tuyến đường Lạch Tray được cải tạo và mở rộng như kế hoạch đã công bố?",
    "Đề nghị cho biết tiến độ giải phóng mặt bằng dự án khu dân cư phía tây và phương án tái định cư cho các hộ dân.",
    "Tôi muốn hỏi về thủ tục cấp giấy chứng nhận quyền sử dụng đất lần đầu, hiện nay mất bao lâu và cần những giấy tờ gì?",
    "Khu vực chúng tôi thường xuyên ngập úng khi mưa lớn; thành phố có kế hoạch nâng cấp hệ thống thoát nước không?",
]


class Question:
    def __init__(self, qid: int, session_id: int) -> None:
        self.id = qid
        self.session_id = session_id
        self.version = 2  # received, then accepted
        self.starred = False
        self.text = TEXTS[qid % len(TEXTS)]
        self.received_at = datetime.now(UTC).isoformat()
        self.updated_at = self.received_at

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "field": "Đất đai", "text": self.text, "state": "accepted",
            "public_name": "Nguyễn V. A.", "asker_kind": "person", "received_at": self.received_at,
            "interest_count": 0, "merged_count": 0, "answer": None,
        }  # fmt: skip

    def staff(self) -> dict[str, Any]:
        return {
            "id": self.id, "session_id": self.session_id, "number": self.id, "receipt": f"7KQ2-{self.id:06d}",
            "version": self.version, "state": "accepted", "text": self.text, "original_text": self.text,
            "edited": False, "field": "Đất đai", "department": None, "answer": None, "starred": self.starred,
            "late": False, "held": False, "queue_position": None, "merged_into": None, "merged_count": 0,
            "interest_count": 0, "received_at": self.received_at, "updated_at": self.updated_at,
            "aired_at": None, "answered_at": None, "recording_offset_s": None, "decline_reason": None,
            "forward_due": None, "protected": False, "flags": [], "similar": [],
            "public_name": "Nguyễn V. A.", "channel": "api", "confirmed_by": None,
            "asker": {"kind": "person", "name": "Nguyễn V. A.", "area": "Ngô Quyền", "phone_last3": "678",
                      "hidden": False},
        }  # fmt: skip


class Utf8Json:
    """As server/app.py: python-socketio's JSON without \\uXXXX escapes."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, **kwargs)

    loads = staticmethod(json.loads)


def make_app(questions: int = 5, session_id: int = 1, json_impl: str = "stdlib") -> web.Application:
    kwargs: dict[str, Any] = {"json": Utf8Json} if json_impl == "utf8" else {}
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=None, **kwargs)
    app = web.Application()
    sio.attach(app)
    store = {q: Question(q, session_id) for q in range(1, questions + 1)}
    session = {"id": session_id, "title": "Bench", "state": "live", "intake_open": True}

    @sio.on("connect", namespace="/viewer")
    async def viewer_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("join", namespace="/viewer")
    async def viewer_join(sid: str, data: Any) -> dict[str, Any]:
        await sio.enter_room(sid, f"session:{session_id}", namespace="/viewer")
        return {
            "ok": True,
            "session": session,
            "questions": [q.public() for q in store.values()],
            "on_air": None,
            "stats": {"session_id": session_id, "received": len(store)},
        }

    @sio.on("connect", namespace="/moderator")
    async def mod_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if not (isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]):
            raise socketio.exceptions.ConnectionRefusedError({"code": "unauthorized"})

    @sio.on("join", namespace="/moderator")
    async def mod_join(sid: str, data: Any) -> dict[str, Any]:
        await sio.enter_room(sid, f"mod:{session_id}", namespace="/moderator")
        return {
            "ok": True,
            "session": session,
            "questions": [q.staff() for q in store.values()],
            "queue": [],
            "cursor": datetime.now(UTC).isoformat(),
            "full": True,
        }

    @sio.on("action", namespace="/moderator")
    async def mod_action(sid: str, data: Any) -> dict[str, Any]:
        question_id = data.get("question_id") if isinstance(data, dict) else None
        q = store.get(question_id) if isinstance(question_id, int) else None
        if q is None:
            return {"ok": False, "error": {"code": "not_found", "message": "", "field": "question_id"}}
        if data.get("version") != q.version:
            return {
                "ok": False,
                "error": {"code": "conflict", "message": "", "field": "version"},
                "question": q.staff(),
            }
        if data.get("action") == "star":
            q.starred = bool(data.get("starred"))
        q.version += 1
        q.updated_at = datetime.now(UTC).isoformat()
        staff = q.staff()
        await sio.emit(
            "question",
            {"question": staff, "cursor": q.updated_at},
            room=f"mod:{session_id}",
            namespace="/moderator",
        )
        await sio.emit("question", q.public(), room=f"session:{session_id}", namespace="/viewer")
        return {"ok": True, "question": staff, "others": []}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--gc", choices=["default", "tuned"], default="default", dest="gc_mode")
    parser.add_argument("--json", choices=["stdlib", "utf8"], default="stdlib", dest="json_impl")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    app = make_app(args.questions, json_impl=args.json_impl)
    if args.gc_mode == "tuned":  # as server/cli.py serve()
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        sys.setswitchinterval(0.0005)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
