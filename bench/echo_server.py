"""The baseline for bench/intake.py: a bare python-socketio acknowledgement echo.

One process, one AsyncServer (async_mode="aiohttp") on an aiohttp app, namespace /viewer, and a
`submit_question` handler that answers at once with the shape of a successful durable ack, without
validating, storing or broadcasting anything. Whatever the real server does beyond this is the cost
of durable intake. It also serves GET /healthz like the real server, so both are started and waited
for the same way.

It is configured like `doithoai serve`, so the comparison measures intake and not settings: the same
JSON for python-socketio (server/app.py `Utf8Json`: the stdlib json without \\uXXXX escapes) and the
same garbage-collector settings and switch interval (server/cli.py `serve`: gc.freeze, thresholds).

    python bench/echo_server.py --host 127.0.0.1 --port 8765 [--json orjson]
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
from typing import Any

import socketio
from aiohttp import web


class _Utf8Json:
    """The real server's python-socketio JSON (server/app.py `Utf8Json`), copied to keep this bare."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, **kwargs)

    loads = staticmethod(json.loads)


class _OrjsonModule:
    """A `json`-like module for python-socketio's `json=` option, for comparing with a server that
    uses orjson ("stdlib", the default, is the stdlib json as the real server configures it)."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        import orjson

        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s: str | bytes, **_: Any) -> Any:
        import orjson

        return orjson.loads(s)


ACK = {"ok": True, "receipt": "x", "question_id": 1}


def make_app(json_impl: str = "stdlib") -> web.Application:
    kwargs: dict[str, Any] = {"json": _OrjsonModule if json_impl == "orjson" else _Utf8Json}
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=None, **kwargs)
    app = web.Application()
    sio.attach(app)

    @sio.on("connect", namespace="/viewer")
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("submit_question", namespace="/viewer")
    async def submit_question(sid: str, data: Any) -> dict[str, Any]:
        return ACK

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
    parser.add_argument("--json", choices=["stdlib", "orjson"], default="stdlib", dest="json_impl")
    args = parser.parse_args()
    # SIGTERM: exit as cleanly as on Ctrl-C (web.run_app handles both through GracefulExit).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    app = make_app(args.json_impl)
    # As `doithoai serve` (server/cli.py) does before it serves: not part of the cost of intake.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    sys.setswitchinterval(0.0005)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
