"""Baseline for bench/video.py's fan-out: WHEP served the way aiortc's examples do it.

A plain aiohttp + aiortc server in its own process. One local source, the same 1280x720 25 fps test
card with the same stamp (`stream.clients.TestCardVideo`) and its tone (`TestCardAudio`), shared
through `aiortc.contrib.media.MediaRelay`; every viewer gets `relay.subscribe(track)` and aiortc's
RTCRtpSender encodes for that viewer (H.264 with aiortc's libx264 settings, or VP8 with libvpx;
Opus for the sound). That is the usual way to serve WebRTC from Python: the encode is per viewer.
The WHEP exchange is the one doithoai speaks (docs/video.md), so the same players connect to both.

    python bench/video_baseline.py --port P [--codec h264|vp8]
    GET /healthz; POST /whep (application/sdp) -> 201 + answer, Location; DELETE /whep/{id}
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from aiohttp import web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stream.clients import TestCardAudio, TestCardVideo  # noqa: E402


def video_codecs(codec: str) -> list:
    codecs = RTCRtpSender.getCapabilities("video").codecs
    if codec == "h264":  # the profile doithoai sends: Constrained Baseline, packetization mode 1
        chosen = [
            c
            for c in codecs
            if c.mimeType == "video/H264"
            and c.parameters.get("profile-level-id") == "42e01f"
            and str(c.parameters.get("packetization-mode")) == "1"
        ]
    else:
        chosen = [c for c in codecs if c.mimeType == "video/VP8"]
    return chosen + [c for c in codecs if c.mimeType == "video/rtx"]


def make_app(codec: str) -> web.Application:
    relay = MediaRelay()
    video, audio = TestCardVideo(), TestCardAudio()
    peers: dict[str, RTCPeerConnection] = {}

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def whep(request: web.Request) -> web.Response:
        offer = await request.text()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(relay.subscribe(video), direction="sendonly").setCodecPreferences(
            video_codecs(codec)
        )
        pc.addTransceiver(relay.subscribe(audio), direction="sendonly")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        resource = secrets.token_urlsafe(12)
        peers[resource] = pc

        @pc.on("connectionstatechange")
        async def _gone() -> None:
            if pc.connectionState in ("failed", "closed"):
                peers.pop(resource, None)

        return web.Response(
            status=201,
            text=pc.localDescription.sdp,
            content_type="application/sdp",
            headers={"Location": f"/whep/{resource}"},
        )

    async def hang_up(request: web.Request) -> web.Response:
        pc = peers.pop(request.match_info["resource"], None)
        if pc is not None:
            await pc.close()
        return web.Response(status=200)

    async def close_all(app: web.Application) -> None:
        await asyncio.gather(*(pc.close() for pc in list(peers.values())), return_exceptions=True)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/whep", whep)
    app.router.add_delete("/whep/{resource}", hang_up)
    app.on_shutdown.append(close_all)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--codec", choices=["h264", "vp8"], default="h264")
    args = parser.parse_args()
    web.run_app(make_app(args.codec), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
