"""The programme's clock, shared by everything that stamps or reads its timestamps: pictures are
numbered in ticks of 1/25 s (Vietnam's broadcast rate), sound in samples at 48 kHz."""

from __future__ import annotations

from fractions import Fraction

FPS = 25
SAMPLE_RATE = 48000
SAMPLES_PER_TICK = SAMPLE_RATE // FPS
FRAME_TB = Fraction(1, FPS)
AUDIO_TB = Fraction(1, SAMPLE_RATE)
