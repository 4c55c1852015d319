"""The slate shown while the feed is down: a pre-rendered card (stream/assets/slate.png, made at dev
time by stream/assets/make_slate.py) plus the stamp with slate=True."""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np

from stream.stamp import BLOCK, stamp_plane
from stream.testcard import plane_views, rgb_to_yuv420p

SLATE_PNG = Path(__file__).with_name("assets") / "slate.png"


@cache
def slate_planes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slate as yuv420p planes, decoded and converted once (FFmpeg's PNG decoder, no Pillow)."""
    with av.open(str(SLATE_PNG)) as container:
        image = next(container.decode(video=0))
    # Convert in numpy: swscale keeps the PNG's full range and would give limited-range players a
    # crushed, too-dark slate.
    y, u, v = rgb_to_yuv420p(image.to_ndarray(format="rgb24"))
    u[:BLOCK // 2] = v[:BLOCK // 2] = 128  # neutral chroma under the stamp row
    for plane in (y, u, v):
        plane.setflags(write=False)
    return y, u, v


def slate_frame(n: int, now: float, *, fps: int = 25) -> av.VideoFrame:
    y0, u0, v0 = slate_planes()
    frame = av.VideoFrame(y0.shape[1], y0.shape[0], "yuv420p")
    y, u, v = plane_views(frame)
    np.copyto(y, y0)
    np.copyto(u, u0)
    np.copyto(v, v0)
    stamp_plane(y, time_ms=int(now * 1000), frame=n, slate=True)
    frame.pts = n
    frame.time_base = Fraction(1, fps)
    return frame
