"""Helpers for bench/video.py's HLS origin figures.

python bench/video_origin.py serve --port P --dir D
    the baseline origin: a minimal aiohttp app serving D under /live/ with `add_static`
    (web.FileResponse, sendfile), nothing else: no middlewares, no playlist cutting; and the
    same files under /mem/ as bytes held in memory (`web.Response(body=...)`): aiohttp's floor
python bench/video_origin.py load --url U --connections C --seconds S
    a fallback load generator when wrk is not installed: C concurrent keep-alive aiohttp
    clients fetching U in a loop; prints one JSON line {requests, seconds, rps, errors, bytes}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp
from aiohttp import web


def serve(port: int, root: Path) -> None:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    # every file read once at start-up (the bench copies them in before starting this server)
    cache = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    async def from_memory(request: web.Request) -> web.Response:
        name = request.match_info["path"]
        body = cache.get(name)
        if body is None:
            raise web.HTTPNotFound()
        kind = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/mem/{path:.+}", from_memory)
    app.router.add_static("/live/", root)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def load(url: str, connections: int, seconds: float) -> dict[str, float]:
    count = errors = size = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.monotonic()
        end = start + seconds

        async def one() -> None:
            nonlocal count, errors, size
            while time.monotonic() < end:
                try:
                    async with http.get(url) as response:
                        body = await response.read()
                        if response.status == 200:
                            count += 1
                            size += len(body)
                        else:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1

        await asyncio.gather(*(one() for _ in range(connections)))
        took = time.monotonic() - start
    return {"requests": count, "seconds": took, "rps": count / took, "errors": errors, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", type=Path, required=True)
    g = sub.add_parser("load")
    g.add_argument("--url", required=True)
    g.add_argument("--connections", type=int, default=50)
    g.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()
    if args.cmd == "serve":
        serve(args.port, args.dir)
    else:
        print(json.dumps(asyncio.run(load(args.url, args.connections, args.seconds))))


if __name__ == "__main__":
    main()
