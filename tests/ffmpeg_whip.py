"""FFmpeg's WHIP muxer (libavformat in PyAV's wheel) publishing the test card at 25 fps, as
`ffmpeg -re -i ... -c:v libx264 -profile:v baseline -bf 0 -c:a libopus -f whip -authorization TOKEN URL`
would: run as `python -m tests.ffmpeg_whip URL TOKEN SECONDS`. A process of its own: libavformat
holds the interpreter while it connects, which would stall a server in the same process. Its DTLS
certificate is FFmpeg's own (GnuTLS, P-224). Prints "published N" at the end."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import av

from stream.clock import FPS, SAMPLE_RATE
from stream.testcard import TestCard


def publish(url: str, token: str, seconds: float) -> int:
    card = TestCard()
    sent = samples = 0
    with av.open(url, "w", format="whip", options={"authorization": token}) as out:
        video = out.add_stream("libx264", rate=FPS, options={
            "profile": "baseline", "preset": "veryfast", "tune": "zerolatency", "bf": "0", "g": str(FPS)})
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        audio = out.add_stream("libopus", rate=SAMPLE_RATE, layout="stereo")
        started = time.monotonic()
        while sent < seconds * FPS:
            ahead = started + sent / FPS - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # real time, as -re
            frame = card.video_frame(sent, time.time())
            frame.pts, frame.time_base = sent, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
            while samples < (sent + 1) * SAMPLE_RATE // FPS:
                sound = card.audio_frame(samples, 960)
                sound.pts, sound.time_base = samples, Fraction(1, SAMPLE_RATE)
                samples += 960
                for packet in audio.encode(sound):
                    out.mux(packet)
            sent += 1
    return sent


if __name__ == "__main__":
    sys.stdout.write(f"published {publish(sys.argv[1], sys.argv[2], float(sys.argv[3]))}\n")
