"""Viewer (and publisher) worker for bench/video.py: N WebRTC (WHEP) viewers in one process, outside
the server under test so their CPU is not counted as the server's.

Every viewer is a `stream.clients.Player` (aiortc: ICE, DTLS, SRTP, RTCP, jitter buffer). Decoding
720p 25 fps costs ~0.1 of a core per viewer, which 20 viewers on a 2-core machine cannot afford, so
aiortc's decoder is replaced in this process (`rtcrtpreceiver.get_decoder`) by a counting wrapper:
each complete encoded picture the jitter buffer hands over is counted (with its arrival time and
size); only the first `decode` video receivers also decode it with aiortc's own decoder, and those
viewers read the burnt-in stamp of every picture (glass-to-glass latency). Audio is counted, not
decoded. A viewer's "frames" are therefore whole pictures received over RTP and reassembled, which
is what a browser would hand to its decoder.

With `publish` in the config the process instead publishes the test card over WHIP
(`stream.clients.publish_test_card`, aiortc's encoder) and only reports how many pictures it sent.

Protocol with the parent (like bench/sio_load.py): one JSON argument
    {"url", "token", "viewers", "decode", "connect_concurrency", "publish": false, "ready_timeout"}
The worker connects, waits until every viewer has received a picture (or ready_timeout), prints
`READY <connected> <receiving>`, then reads commands on stdin:
    GO <t0> <seconds>   count what arrives in [t0, t0+seconds) (time.monotonic(), shared by all
                        processes), then print `RESULT <json>`
    STOP                hang up every viewer (WHEP DELETE) and exit
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import rtcrtpreceiver

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stream.clients import Player, Publisher, play, publish_test_card  # noqa: E402
from stream.stamp import age_ms  # noqa: E402


class CountingDecoder:
    """Stands in for aiortc's decoder of one receiver: counts pictures, decodes only if told to."""

    registry: list[CountingDecoder] = []
    lock = threading.Lock()
    real_budget = 0  # how many more video receivers get a real decoder

    def __init__(self, kind: str, inner: Any | None) -> None:
        self.kind = kind
        self.inner = inner
        self.arrivals: list[float] = []  # time.monotonic() of each complete picture
        self.sizes: list[int] = []

    def decode(self, encoded_frame: Any) -> list[Any]:
        self.arrivals.append(time.monotonic())
        self.sizes.append(len(encoded_frame.data))
        if self.inner is None:
            return []
        return self.inner.decode(encoded_frame)


_real_get_decoder = rtcrtpreceiver.get_decoder


def _get_decoder(codec: Any) -> CountingDecoder:
    kind = codec.mimeType.split("/")[0].lower()
    inner = None
    with CountingDecoder.lock:
        if kind == "video" and CountingDecoder.real_budget > 0:
            CountingDecoder.real_budget -= 1
            inner = _real_get_decoder(codec)
        decoder = CountingDecoder(kind, inner)
        CountingDecoder.registry.append(decoder)
    return decoder


rtcrtpreceiver.get_decoder = _get_decoder  # type: ignore[assignment]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def video_codec(sdp: str | None) -> str:
    """The first video codec of an SDP (the one in use once negotiated)."""
    if not sdp:
        return "?"
    m = re.search(r"^m=video \S+ \S+ (\d+)", sdp, re.M)
    if not m:
        return "?"
    r = re.search(rf"^a=rtpmap:{m.group(1)} ([^/\s]+)", sdp, re.M)
    return r.group(1) if r else "?"


async def run(cfg: dict[str, Any]) -> None:
    n = int(cfg.get("viewers", 1))
    CountingDecoder.real_budget = int(cfg.get("decode", 0))
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        players: list[Player] = []
        publisher: Publisher | None = None
        errors: list[str] = []
        if cfg.get("publish"):
            publisher = await publish_test_card(http, cfg["url"], cfg["token"])
            codec = video_codec(
                publisher.pc.remoteDescription.sdp if publisher.pc.remoteDescription else None
            )
            print(f"READY 1 1 {codec}", flush=True)
        else:
            gate = asyncio.Semaphore(int(cfg.get("connect_concurrency", 5)))

            async def open_one() -> None:
                async with gate:
                    try:
                        players.append(await play(http, cfg["url"], cfg["token"]))
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")

            await asyncio.gather(*(open_one() for _ in range(n)))
            deadline = time.monotonic() + float(cfg.get("ready_timeout", 20))
            while time.monotonic() < deadline:
                videos = [d for d in CountingDecoder.registry if d.kind == "video" and d.arrivals]
                if len(videos) >= len(players):
                    break
                await asyncio.sleep(0.1)
            receiving = len([d for d in CountingDecoder.registry if d.kind == "video" and d.arrivals])
            codec = video_codec(players[0].pc.remoteDescription.sdp) if players else "?"
            print(f"READY {len(players)} {receiving} {codec}", flush=True)
            if errors:
                print(f"ERRORS {json.dumps(errors[:5])}", file=sys.stderr, flush=True)
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "STOP":
                break
            if line[0] != "GO":
                continue
            t0, seconds = float(line[1]), float(line[2])
            t1 = t0 + seconds
            await asyncio.sleep(max(0.0, t0 - time.monotonic()))
            cpu0 = cpu()
            sent0 = publisher.video.sent if publisher else 0
            await asyncio.sleep(max(0.0, t1 - time.monotonic()))
            cpu1 = cpu()
            result: dict[str, Any] = {"cpu_s": cpu1 - cpu0, "connected": len(players), "errors": errors}
            if publisher is not None:
                result["published_frames"] = publisher.video.sent - sent0
            else:
                videos = [d for d in CountingDecoder.registry if d.kind == "video"]
                frames, kbits = [], []
                for d in videos:
                    inside = [i for i, t in enumerate(d.arrivals) if t0 <= t < t1]
                    frames.append(len(inside))
                    kbits.append(sum(d.sizes[i] for i in inside) * 8 / 1000 / seconds)
                frames += [0] * (len(players) - len(videos))  # viewers that never got a picture
                # glass-to-glass of the decoding viewers: pictures decoded inside the window
                offset = time.time() - time.monotonic()
                w0, w1 = int((t0 + offset) * 1000), int((t1 + offset) * 1000)
                delays: list[int] = []
                unstamped = slate = 0
                for p in players:
                    for stamp, at in p.stamps:
                        if w0 <= at < w1:
                            if stamp.slate:
                                slate += 1
                            else:
                                delays.append(age_ms(stamp, at))
                    unstamped += p.unstamped
                result.update(
                    frames=frames,
                    kbit_s=kbits,
                    delays_ms=delays,
                    slate=slate,
                    unstamped=unstamped,
                    audio_packets=sum(
                        len([t for t in d.arrivals if t0 <= t < t1])
                        for d in CountingDecoder.registry
                        if d.kind == "audio"
                    ),
                )
            print("RESULT " + json.dumps(result), flush=True)
        if publisher is not None:
            try:
                await publisher.stop(http, cfg["token"])
            except Exception:  # noqa: BLE001 - the server may be gone already
                await publisher.pc.close()
        for p in players:
            try:
                await asyncio.wait_for(p.stop(http), 5)
            except Exception:  # noqa: BLE001
                pass


def main() -> int:
    cfg = json.loads(sys.argv[1])
    asyncio.run(run(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
