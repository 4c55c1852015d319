"""The built-in test pattern: colour bars, a sweeping box, burnt-in wall clock and frame counter, the
stamp, and a 1 kHz tone with a louder beep at each whole second of the sample clock.

Everything costly is precomputed once; a frame is one copy of the background plus a few small paints.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import av
import numpy as np

from stream.stamp import stamp_plane

# 5x7 bitmap font: one string of five '#'/'.' per row.
_FONT: dict[str, tuple[str, ...]] = {
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    ":": (".....", "..#..", "..#..", ".....", "..#..", "..#..", "....."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    " ": (".....",) * 7,
}

BLACK, WHITE = 16, 235
VIETNAM_OFFSET = 7 * 3600  # ICT has no daylight saving


def glyph_tiles(scale: int, fg: int, bg: int) -> dict[str, np.ndarray]:
    """Luma tiles (7*scale high, 6*scale wide: the glyph plus one column of spacing) for each character."""
    tiles = {}
    for ch, rows in _FONT.items():
        bitmap = np.array([[c == "#" for c in row + "."] for row in rows])
        big = np.kron(bitmap, np.ones((scale, scale), dtype=bool))
        tiles[ch] = np.where(big, fg, bg).astype(np.uint8)
    return tiles


def draw_text(y: np.ndarray, tiles: dict[str, np.ndarray], text: str, top: int, left: int) -> None:
    for ch in text:
        tile = tiles[ch]
        h, w = tile.shape
        y[top:top + h, left:left + w] = tile
        left += w


def plane_views(frame: av.VideoFrame) -> list[np.ndarray]:
    """Writable numpy views of a planar frame's planes (the frame's own memory, so no extra copy)."""
    views = []
    for plane in frame.planes:
        data = np.frombuffer(memoryview(plane), dtype=np.uint8)  # a memoryview of the plane: still its memory
        views.append(data.reshape(plane.height, plane.line_size)[:, :plane.width])
    return views


# BT.601 limited range: what the encoder signals by default and players assume for 720p.
_RGB_TO_YUV = np.array([[65.738, 129.057, 25.064], [-37.945, -74.494, 112.439], [112.439, -94.154, -18.285]]) / 256
_YUV_OFFSET = np.array([16.0, 128.0, 128.0])


def rgb_to_yuv(r: int, g: int, b: int) -> tuple[int, int, int]:
    """One 8-bit RGB colour in BT.601 limited-range YUV."""
    y, u, v = _RGB_TO_YUV @ np.array([r, g, b], dtype=np.float64) + _YUV_OFFSET
    return round(y), round(u), round(v)


def rgb_to_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An (h, w, 3) uint8 RGB image as BT.601 limited-range yuv420p planes (chroma averaged over 2x2)."""
    yuv = rgb.astype(np.float64) @ _RGB_TO_YUV.T + _YUV_OFFSET
    h, w = rgb.shape[:2]
    chroma = yuv[:, :, 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))

    def to_u8(plane: np.ndarray) -> np.ndarray:
        return np.clip(np.round(plane), 0, 255).astype(np.uint8)

    return to_u8(yuv[:, :, 0]), to_u8(chroma[:, :, 0]), to_u8(chroma[:, :, 1])


class TestCard:
    """Synthetic programme source (video and audio) for the "test" feed."""

    __test__ = False  # not a pytest class despite the name

    CLOCK_SCALE = 8
    COUNTER_SCALE = 6
    BAND_TOP, BAND_HEIGHT = 450, 80  # where the box sweeps
    BOX = 80
    TEXT_BG = BLACK

    def __init__(self, width: int = 1280, height: int = 720, fps: int = 25) -> None:
        if (width, height) != (1280, 720):
            raise ValueError("the test card is laid out for 1280x720")
        self.width, self.height, self.fps = width, height, fps
        self.time_base = Fraction(1, fps)
        self._y, self._u, self._v = self._background()
        self._clock_tiles = glyph_tiles(self.CLOCK_SCALE, WHITE, self.TEXT_BG)
        self._counter_tiles = glyph_tiles(self.COUNTER_SCALE, 180, self.TEXT_BG)
        self._clock_left = (width - 12 * 6 * self.CLOCK_SCALE) // 2
        self._counter_left = (width - 6 * 6 * self.COUNTER_SCALE) // 2

    def _background(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, h = self.width, self.height
        y = np.full((h, w), BLACK, np.uint8)
        u = np.full((h // 2, w // 2), 128, np.uint8)
        v = np.full((h // 2, w // 2), 128, np.uint8)
        # 75% colour bars between the stamp row and the box band; edges even so chroma lines up.
        bars = [(191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0), (191, 0, 191), (191, 0, 0), (0, 0, 191)]
        top, bottom = 40, 400
        edges = [2 * round(i * w / len(bars) / 2) for i in range(len(bars) + 1)]
        for (r, g, b), x0, x1 in zip(bars, edges, edges[1:], strict=False):
            yy, uu, vv = rgb_to_yuv(r, g, b)
            y[top:bottom, x0:x1] = yy
            u[top // 2:bottom // 2, x0 // 2:x1 // 2] = uu
            v[top // 2:bottom // 2, x0 // 2:x1 // 2] = vv
        # A luma ramp under the bars shows banding and level clipping.
        y[400:440] = np.linspace(BLACK, WHITE, w).astype(np.uint8)
        # Grey band for the moving box.
        y[self.BAND_TOP:self.BAND_TOP + self.BAND_HEIGHT] = 60
        return y, u, v

    def clock_text(self, now: float) -> str:
        """Vietnam's time (UTC+7), as every page shows it, whatever zone the server runs in."""
        ms = int(now * 1000) % 1000
        return time.strftime("%H:%M:%S", time.gmtime(now + VIETNAM_OFFSET)) + f".{ms:03d}"

    def video_frame(self, n: int, now: float) -> av.VideoFrame:
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        y, u, v = plane_views(frame)
        np.copyto(y, self._y)
        np.copyto(u, self._u)
        np.copyto(v, self._v)
        # The box crosses the width in about 5 s at 25 fps; motion shows judder and dropped frames.
        travel = self.width - self.BOX
        x = (n * 10) % (2 * travel)
        x = x if x < travel else 2 * travel - x
        y[self.BAND_TOP:self.BAND_TOP + self.BOX, x:x + self.BOX] = WHITE
        draw_text(y, self._clock_tiles, self.clock_text(now), 560, self._clock_left)
        draw_text(y, self._counter_tiles, f"{n % 1_000_000:06d}", 640, self._counter_left)
        stamp_plane(y, time_ms=int(now * 1000), frame=n, slate=False)
        frame.pts = n
        frame.time_base = self.time_base
        return frame

    @staticmethod
    def audio_samples(first_sample: int, samples: int = 1920, rate: int = 48000) -> np.ndarray:
        """Mono int16 samples of the tone for sample indices first_sample .. first_sample+samples-1."""
        t = np.arange(first_sample, first_sample + samples, dtype=np.int64)
        # Phase from the absolute sample index (exact integer modulo), so calls join without clicks.
        phase = (t * 1000 % rate).astype(np.float64) * (2 * math.pi / rate)
        beep = (t % rate) < rate // 10
        amplitude = np.where(beep, 10 ** (-6 / 20), 10 ** (-20 / 20)) * 32767
        return np.round(np.sin(phase) * amplitude).astype(np.int16)

    def audio_frame(self, first_sample: int, samples: int = 1920, rate: int = 48000) -> av.AudioFrame:
        mono = self.audio_samples(first_sample, samples, rate)
        interleaved = np.repeat(mono, 2).reshape(1, -1)  # packed s16 stereo: L R L R ...
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout="stereo")
        frame.sample_rate = rate
        frame.pts = first_sample
        frame.time_base = Fraction(1, rate)
        return frame
