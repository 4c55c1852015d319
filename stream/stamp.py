"""Machine-readable stamp burnt into the top of every 1280x720 programme frame.

One row of 64 blocks of 20x20 px across y 0..19: 4 sync bits (1, 0, 1, 0), 1 bit "slate", 43 bits
capture time (unix ms mod 2**43), 16 bits frame counter (mod 2**16); most significant bit first,
black (16) is 0, white (235) is 1. Big flat blocks survive H.264 at a few Mbit/s untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np

WIDTH = 1280
BLOCK = 20
BLOCKS = 64
SYNC = (1, 0, 1, 0)
TIME_BITS = 43
FRAME_BITS = 16
TIME_MOD = 1 << TIME_BITS
FRAME_MOD = 1 << FRAME_BITS
BLACK = 16
WHITE = 235
THRESHOLD = 126

# Formats whose first plane is 8-bit luma: read it in place instead of converting the whole frame.
_LUMA_FIRST = frozenset({
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p",
    "yuv411p", "yuv410p", "nv12", "nv21", "nv16", "gray",
})


@dataclass(frozen=True)
class Stamp:
    time_ms: int
    frame: int
    slate: bool


def _bits(value: int, count: int) -> list[int]:
    return [(value >> (count - 1 - i)) & 1 for i in range(count)]


def stamp_plane(y: np.ndarray, *, time_ms: int, frame: int, slate: bool) -> None:
    """Write the stamp into the top 20 rows of a 2-D uint8 luma plane (at least 1280 wide), in place."""
    bits = [*SYNC, int(slate), *_bits(time_ms % TIME_MOD, TIME_BITS), *_bits(frame % FRAME_MOD, FRAME_BITS)]
    row = np.repeat(np.where(np.array(bits, dtype=bool), WHITE, BLACK).astype(np.uint8), BLOCK)
    y[:BLOCK, :WIDTH] = row  # broadcast over the 20 rows


def _top_luma(frame: av.VideoFrame) -> np.ndarray:
    """The top 20 rows of luma, 1280 wide, without converting the rest of the frame when possible."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        # memoryview: a plane is a buffer, which numpy's stubs for Python 3.11 only accept as a memoryview
        data = np.frombuffer(memoryview(plane), dtype=np.uint8, count=BLOCK * plane.line_size)
        return data.reshape(BLOCK, plane.line_size)[:, :WIDTH]
    return frame.to_ndarray(format="gray")[:BLOCK, :WIDTH]


def read_stamp(frame: av.VideoFrame) -> Stamp | None:
    """Decode the stamp of a received frame; None when the frame carries none (or is not 1280 wide)."""
    if frame.width != WIDTH or frame.height < BLOCK:
        return None
    top = _top_luma(frame)
    # Average the centre 10x10 of each block: block edges are where the encoder smears.
    centres = top[5:15].reshape(10, BLOCKS, BLOCK)[:, :, 5:15]
    bits = (centres.mean(axis=(0, 2)) > THRESHOLD).astype(np.int64)
    if tuple(bits[:4]) != SYNC:
        return None
    value = 0
    for b in bits[5:]:
        value = (value << 1) | int(b)
    return Stamp(time_ms=value >> FRAME_BITS, frame=value & (FRAME_MOD - 1), slate=bool(bits[4]))


def age_ms(stamp: Stamp, now_ms: int) -> int:
    """Milliseconds since the stamped capture, unwrapping the 43-bit clock against `now_ms` (unix ms).

    Negative when the sender's clock is ahead of ours; correct while |age| < 2**42 ms (about 139 years).
    """
    age = (now_ms - stamp.time_ms) % TIME_MOD
    return age - TIME_MOD if age >= TIME_MOD // 2 else age
