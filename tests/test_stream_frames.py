"""Frame sources of the live video: the stamp survives a real H.264 round trip, the slate says so, the
test card's clock moves and its tone and beep are where they should be."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from stream.slate import slate_frame
from stream.stamp import TIME_MOD, Stamp, age_ms, read_stamp, stamp_plane
from stream.testcard import TestCard

NOW = 1_790_000_000.123  # a fixed wall clock keeps the tests deterministic


def h264_round_trip(frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
    """Encode with libx264 as the media worker does (veryfast, zerolatency, ~2.5 Mbit/s) and decode."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 1280, 720, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.framerate = Fraction(25, 1)
    encoder.bit_rate = 2_500_000
    encoder.gop_size = 25
    encoder.max_b_frames = 0
    encoder.options = {"preset": "veryfast", "tune": "zerolatency"}
    decoder = av.CodecContext.create("h264", "r")
    decoded: list[av.VideoFrame] = []
    for frame in [*frames, None]:
        for packet in encoder.encode(frame):
            decoded.extend(decoder.decode(packet))
    decoded.extend(decoder.decode(None))
    return decoded


def test_stamp_survives_h264() -> None:
    card = TestCard()
    times = [NOW + n / 25 for n in range(30)]
    frames = [card.video_frame(n, t) for n, t in enumerate(times)]
    decoded = h264_round_trip(frames)
    assert len(decoded) == 30
    for n, (frame, t) in enumerate(zip(decoded, times, strict=True)):
        assert frame.format.name == "yuv420p"
        assert read_stamp(frame) == Stamp(time_ms=int(t * 1000) % TIME_MOD, frame=n, slate=False)


def test_slate_stamp_survives_h264() -> None:
    frames = [slate_frame(60_000 + n, NOW + n / 25) for n in range(10)]
    assert frames[0].width == 1280 and frames[0].height == 720 and frames[0].format.name == "yuv420p"
    for n, frame in enumerate(h264_round_trip(frames)):
        stamp = read_stamp(frame)
        assert stamp is not None and stamp.slate
        assert stamp.frame == (60_000 + n) % 2**16
        assert stamp.time_ms == int((NOW + n / 25) * 1000)


def test_frame_fields() -> None:
    frame = TestCard().video_frame(7, NOW)
    assert (frame.width, frame.height, frame.format.name) == (1280, 720, "yuv420p")
    assert frame.pts == 7 and frame.time_base == Fraction(1, 25)
    slate = slate_frame(8, NOW)
    assert slate.pts == 8 and slate.time_base == Fraction(1, 25)


def test_no_stamp() -> None:
    grey = np.full((1080, 1280), 128, np.uint8)
    assert read_stamp(av.VideoFrame.from_ndarray(grey, format="yuv420p")) is None
    black = np.full((1080, 1280), 16, np.uint8)
    assert read_stamp(av.VideoFrame.from_ndarray(black, format="yuv420p")) is None
    # Right bits, wrong width.
    wide = np.full((1080, 1920), 128, np.uint8)
    stamp_plane(wide[:720], time_ms=1, frame=1, slate=False)
    assert read_stamp(av.VideoFrame.from_ndarray(wide, format="yuv420p")) is None


def test_stamp_on_other_pixel_formats() -> None:
    frame = TestCard().video_frame(42, NOW)
    expected = Stamp(time_ms=int(NOW * 1000), frame=42, slate=False)
    assert read_stamp(frame.reformat(format="rgb24")) == expected
    assert read_stamp(frame.reformat(format="nv12")) == expected
    plane = np.full((1080, 1280), 128, np.uint8)
    stamp_plane(plane[:720], time_ms=5, frame=2**16 + 3, slate=True)
    assert read_stamp(av.VideoFrame.from_ndarray(plane, format="yuv420p")) == Stamp(5, 3, True)


def test_age_unwraps() -> None:
    now = 1_790_000_000_000
    assert age_ms(Stamp(now % TIME_MOD - 250, 0, False), now) == 250
    assert age_ms(Stamp((now + 40) % TIME_MOD, 0, False), now) == -40  # sender's clock ahead
    # Across the wrap: stamped just before 2**43, read just after.
    wrap = 3 * TIME_MOD
    assert age_ms(Stamp(TIME_MOD - 100, 0, False), wrap + 50) == 150
    assert age_ms(Stamp(20, 0, False), wrap - 30) == -50


def test_clock_digits_change() -> None:
    card = TestCard()
    a = card.video_frame(0, NOW).to_ndarray()[:720]
    b = card.video_frame(0, NOW + 1).to_ndarray()[:720]
    same = card.video_frame(0, NOW).to_ndarray()[:720]
    assert np.array_equal(a, same)
    clock = (slice(540, 630), slice(0, 1280))
    assert not np.array_equal(a[clock], b[clock])
    # The counter too, and nothing else but the stamp, the clock and the counter changes with time.
    c = card.video_frame(25, NOW).to_ndarray()[:720]
    counter = (slice(630, 700), slice(0, 1280))
    assert not np.array_equal(a[counter], c[counter])
    assert np.array_equal(a[40:540], b[40:540])


def spectrum_peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_audio_tone_and_beep() -> None:
    card = TestCard()
    rate = 48000
    frames = [card.audio_frame(first, 1920, rate) for first in range(0, 2 * rate, 1920)]
    first = frames[0]
    assert first.format.name == "s16" and first.layout.name == "stereo" and first.sample_rate == rate
    assert first.samples == 1920 and first.pts == 0 and first.time_base == Fraction(1, rate)
    assert frames[1].pts == 1920
    packed = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    left, right = packed[0::2], packed[1::2]
    assert np.array_equal(left, right)
    assert len(left) == 2 * rate
    second = left[rate:2 * rate]
    assert abs(spectrum_peak_hz(second[2 * 4800:], rate) - 1000) < 5
    assert abs(spectrum_peak_hz(second[:4800], rate) - 1000) < 5
    beep, quiet = rms(second[:4800]), rms(second[6000:])
    assert beep > 3 * quiet
    # Levels: about -6 dBFS and -20 dBFS peak (a sine's rms is peak / sqrt 2).
    assert abs(20 * np.log10(beep * np.sqrt(2) / 32767) + 6) < 0.5
    assert abs(20 * np.log10(quiet * np.sqrt(2) / 32767) + 20) < 0.5
    # Phase-continuous across frames: no sample-to-sample jump bigger than the sine's slope allows.
    steps = np.abs(np.diff(left.astype(np.int32)))
    assert steps.max() <= 2 * np.pi * 1000 / rate * 32767 * 0.5 + 2


def test_audio_frames_join_at_any_split() -> None:
    card = TestCard()
    whole = card.audio_frame(47_000, 3000).to_ndarray().reshape(-1)
    parts = [card.audio_frame(47_000, 1234), card.audio_frame(48_234, 1766)]
    assert np.array_equal(whole, np.concatenate([p.to_ndarray().reshape(-1) for p in parts]))
