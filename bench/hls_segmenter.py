"""What the HLS segmenter (stream/hls/segmenter.py) costs the encode thread, per second of programme.

The segmenter runs on the programme's encode thread, so its Python time is taken from the
25 frames a second. This encodes the 720p test card once with the programme's x264 settings (an
I picture forced each second) and AAC (the baseline: that encode's CPU per second of programme,
same run), then feeds the packets
to a Segmenter in a temporary folder, repeated with moving timestamps for a longer programme,
and reports the segmenter's thread CPU per programme second, as a share of one core and against
the encode. Goal: under 5% of a core for a 720p rendition.

    .venv/bin/python bench/hls_segmenter.py [--seconds 120] [--encode-seconds 10]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
from av.video.frame import PictureType

from stream.clock import FPS, FRAME_TB, SAMPLE_RATE, SAMPLES_PER_TICK
from stream.hls.ladder import h264_encoder
from stream.hls.segmenter import AudioTrack, Segmenter, VideoTrack
from stream.testcard import TestCard

Packet = tuple[str, bytes, int, bool]


def encode(seconds: int) -> tuple[bytes, bytes, list[Packet], float]:
    """The programme's encode of the test card: headers, AudioSpecificConfig, packets, CPU seconds."""
    video = h264_encoder(1280, 720, 2_500_000)  # the programme's x264 settings (stream/hls/ladder.py)
    aac = av.CodecContext.create("aac", "w")
    aac.sample_rate, aac.layout, aac.format, aac.bit_rate = SAMPLE_RATE, "stereo", "fltp", 128_000
    aac.flags |= av.codec.context.Flags.global_header
    card = TestCard(fps=FPS)
    packets: list[Packet] = []
    headers = b""
    start = time.process_time()  # x264 runs threads of its own: the process's CPU, not the thread's
    for tick in range(seconds * FPS):
        frame = card.video_frame(tick, tick / FPS)
        frame.pts, frame.time_base = tick, FRAME_TB
        # an I picture on the first tick of each second, as the programme forces (stream/programme.py)
        frame.pict_type = PictureType.I if tick % FPS == 0 else PictureType.NONE
        for packet in video.encode(frame):
            headers = headers or bytes(video.extradata or b"")
            assert packet.pts is not None
            data = bytes(packet)
            packets.append(("video", headers + data if packet.is_keyframe else data, packet.pts, packet.is_keyframe))
        for packet in aac.encode(card.audio_frame(tick * SAMPLES_PER_TICK, SAMPLES_PER_TICK)):
            assert packet.pts is not None
            packets.append(("audio", bytes(packet), packet.pts, True))
    return headers, bytes(aac.extradata or b""), packets, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120, help="programme seconds fed to the segmenter")
    parser.add_argument("--encode-seconds", type=int, default=10, help="seconds actually encoded (repeated)")
    args = parser.parse_args()
    headers, config, packets, encode_cpu = encode(args.encode_seconds)
    encode_share = encode_cpu / args.encode_seconds
    rounds = max(1, args.seconds // args.encode_seconds)
    with tempfile.TemporaryDirectory() as folder:
        segmenter = Segmenter(Path(folder) / "720p", video=VideoTrack(1280, 720, headers),
                              audio=AudioTrack(SAMPLE_RATE, 2, config), origin=time.time())
        start = time.thread_time()
        last_round = 0.0
        for k in range(rounds):
            round_start = time.thread_time()  # the same packets again, later: a longer programme
            video_shift, audio_shift = k * args.encode_seconds * FPS, k * args.encode_seconds * SAMPLE_RATE
            for kind, data, pts, keyframe in packets:
                if kind == "video":
                    segmenter.video(data, pts + video_shift, keyframe)
                else:
                    segmenter.audio(data, pts + audio_shift)
            last_round = time.thread_time() - round_start
        segmenter.close()
        cpu = time.thread_time() - start
    programme = rounds * args.encode_seconds
    share = cpu / programme
    print(f"programme: {programme} s of 720p test card + AAC, {len(packets) * rounds} packets")
    print(f"baseline  x264+AAC encode: {encode_share * 100:.1f}% of a core per programme second")
    print(f"segmenter: {share * 1000:.2f} ms CPU per programme second = {share * 100:.2f}% of a core "
          f"({share / encode_share:.3f}x the encode); goal < 5%: {'met' if share < 0.05 else 'MISSED'}")
    edge = last_round / args.encode_seconds
    full = " (the DVR window full: dvr.m3u8 and state.json at their largest)" if programme > 1800 else ""
    print(f"segmenter over the last {args.encode_seconds} s{full}: {edge * 100:.2f}% of a core")


if __name__ == "__main__":
    main()
