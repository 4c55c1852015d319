"""CMAF / fragmented MP4 (ISO/IEC 14496-12 and -15) for the HLS renditions, written by hand.

FFmpeg's own MP4 muxer would do this, but it owns the cutting: it cannot be told "this is one
part, write it now", and the segmenter needs exactly that every 200 ms. What we need from the
format is small: an initialisation section (ftyp, moov with one trak per track and mvex) and, per
part, one movie fragment (moof with a traf per track) followed by its mdat.

Video is `avc1`: the SPS and PPS live in the avcC box of the initialisation section and are taken
out of the samples (with any access unit delimiters), because avc1 says parameter sets belong to
the sample entry; the programme's picture size never changes within a run, so one avcC holds.
Samples are NAL units with 4-byte length prefixes. Audio is `mp4a` (AAC) with its
AudioSpecificConfig in esds. Timescales: 90 kHz for video, the sample rate (48 kHz) for audio."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

VIDEO_TIMESCALE = 90_000
AAC_FRAME_SAMPLES = 1024  # AAC-LC: every raw frame is 1024 samples

_NAL_SPS, _NAL_PPS, _NAL_AUD = 7, 8, 9
_PARAMETER_SET_TYPES = (_NAL_SPS, _NAL_PPS, _NAL_AUD)
# sample flags (ISO/IEC 14496-12 §8.8.3.1): a sync sample depends on nothing; any other picture
# depends on an earlier one and is not a sync sample
SYNC_SAMPLE_FLAGS = 0x02000000
NON_SYNC_SAMPLE_FLAGS = 0x01010000


# -- H.264 -------------------------------------------------------------------------------------

def nal_units(annex_b: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    units: list[bytes] = []
    find = annex_b.find
    start = find(b"\x00\x00\x01")
    while start != -1:
        begin = start + 3
        end = find(b"\x00\x00\x01", begin)
        # the zero byte before a 4-byte start code (and trailing_zero_8bits) belongs to no NAL unit
        unit = annex_b[begin:] if end == -1 else annex_b[begin:end]
        unit = unit.rstrip(b"\x00")
        if unit:
            units.append(unit)
        start = end
    return units


def parameter_sets(annex_b: bytes) -> tuple[bytes, bytes]:
    """The (first) SPS and PPS of libx264's extradata."""
    sps = [u for u in nal_units(annex_b) if u[0] & 0x1F == _NAL_SPS]
    pps = [u for u in nal_units(annex_b) if u[0] & 0x1F == _NAL_PPS]
    if not sps or not pps:
        raise ValueError("H.264 parameter sets without an SPS and a PPS (is this libx264's extradata, Annex B?)")
    return sps[0], pps[0]


def access_unit_sample(annex_b: bytes, sps: bytes, pps: bytes) -> bytes:
    """An Annex B access unit as an avc1 sample: length-prefixed NAL units, without the parameter
    sets and delimiters (those are in avcC). Raises if the access unit carries parameter sets other
    than the initialisation section's: that stream would need a new init, which a run never makes."""
    out: list[bytes] = []
    for unit in nal_units(annex_b):
        kind = unit[0] & 0x1F
        if kind in _PARAMETER_SET_TYPES:
            if (kind == _NAL_SPS and unit != sps) or (kind == _NAL_PPS and unit != pps):
                raise ValueError("the encoder changed its SPS/PPS mid-run; the segmenter needs a new run for that")
            continue
        out.append(struct.pack(">I", len(unit)))
        out.append(unit)
    return b"".join(out)


def _rbsp(nal: bytes) -> bytes:
    """NAL unit payload without emulation-prevention bytes (00 00 03 → 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]
        value = (byte >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        value = 1
        for _ in range(zeros):
            value = (value << 1) | self.bit()
        return value - 1


def _high_profile_extension(sps: bytes) -> bytes:
    """avcC's extra fields for High profiles (14496-15 §5.3.3.1.2): chroma format, bit depths, no SPS ext."""
    bits = _Bits(_rbsp(sps[4:]))  # after NAL header, profile_idc, constraint flags, level_idc
    bits.ue()  # seq_parameter_set_id
    chroma_format = bits.ue()
    if chroma_format == 3:
        bits.bit()  # separate_colour_plane_flag
    luma_depth, chroma_depth = bits.ue(), bits.ue()
    return bytes((0xFC | chroma_format, 0xF8 | luma_depth, 0xF8 | chroma_depth, 0))


# -- boxes ----------------------------------------------------------------------------------

def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _descriptor(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size >= 0x200000:
        raise ValueError("descriptor too large")
    length = bytes((0x80 | (size >> 14) & 0x7F, 0x80 | (size >> 7) & 0x7F, size & 0x7F))
    return bytes((tag,)) + length + body


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


@dataclass(frozen=True)
class VideoEntry:
    track_id: int
    width: int
    height: int
    sps: bytes
    pps: bytes


@dataclass(frozen=True)
class AudioEntry:
    track_id: int
    sample_rate: int
    channels: int
    config: bytes  # AudioSpecificConfig


def _avc1(entry: VideoEntry) -> bytes:
    sps, pps = entry.sps, entry.pps
    avcc = bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1)) + struct.pack(">H", len(sps)) + sps
    avcc += bytes((1,)) + struct.pack(">H", len(pps)) + pps
    if sps[1] in (100, 110, 122, 144):
        avcc += _high_profile_extension(sps)
    return box(
        b"avc1",
        bytes(6), struct.pack(">H", 1),  # reserved, data_reference_index
        bytes(16),  # pre_defined, reserved
        struct.pack(">HHIIIH", entry.width, entry.height, 0x00480000, 0x00480000, 0, 1),
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x0018, -1),
        box(b"avcC", avcc),
    )


def _mp4a(entry: AudioEntry) -> bytes:
    decoder_specific = _descriptor(5, entry.config)
    # objectTypeIndication 0x40 (MPEG-4 audio), streamType 5 (audio) << 2 | reserved 1
    decoder_config = _descriptor(4, bytes((0x40, 0x15)) + bytes(3) + struct.pack(">II", 0, 0) + decoder_specific)
    es = _descriptor(3, struct.pack(">HB", entry.track_id, 0) + decoder_config + _descriptor(6, b"\x02"))
    return box(
        b"mp4a",
        bytes(6), struct.pack(">H", 1),
        bytes(8),
        struct.pack(">HHHHI", entry.channels, 16, 0, 0, entry.sample_rate << 16),
        full_box(b"esds", 0, 0, es),
    )


def _trak(entry: VideoEntry | AudioEntry) -> bytes:
    video = isinstance(entry, VideoEntry)
    timescale = VIDEO_TIMESCALE if isinstance(entry, VideoEntry) else entry.sample_rate
    width, height = (entry.width, entry.height) if isinstance(entry, VideoEntry) else (0, 0)
    tkhd = full_box(
        b"tkhd", 0, 0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, entry.track_id, 0, 0),  # times, track_ID, reserved, duration
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0 if video else 0x0100, 0),  # layer, group, volume, reserved
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))  # language "und"
    handler = b"vide" if video else b"soun"
    name = b"VideoHandler\x00" if video else b"SoundHandler\x00"
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name)
    media_header = full_box(b"vmhd", 0, 1, bytes(8)) if video else full_box(b"smhd", 0, 0, bytes(4))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    sample_entry = _avc1(entry) if isinstance(entry, VideoEntry) else _mp4a(entry)
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, bytes(4)),
        full_box(b"stsc", 0, 0, bytes(4)),
        full_box(b"stsz", 0, 0, bytes(8)),
        full_box(b"stco", 0, 0, bytes(4)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", media_header, dinf, stbl)))


def init_section(tracks: Sequence[VideoEntry | AudioEntry]) -> bytes:
    """ftyp + moov: what EXT-X-MAP points to."""
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"cmfc", b"mp41")
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, 1000, 0),  # times, timescale, duration (a fragmented movie: 0)
        struct.pack(">IH", 0x00010000, 0x0100), bytes(10),  # rate, volume, reserved
        _MATRIX, bytes(24),
        struct.pack(">I", max(t.track_id for t in tracks) + 1),
    )
    trex = [full_box(b"trex", 0, 0, struct.pack(">IIIII", t.track_id, 1, 0, 0, 0)) for t in tracks]
    return ftyp + box(b"moov", mvhd, *(_trak(t) for t in tracks), box(b"mvex", *trex))


@dataclass
class TrackRun:
    """One track's samples in a fragment: decode time of the first, and per sample its bytes,
    duration (in the track's timescale) and whether it is a sync sample."""

    track_id: int
    decode_time: int
    samples: list[bytes]
    durations: list[int]
    sync: list[bool] | None = None  # None: every sample is a sync sample (audio)


def fragment(sequence: int, runs: Sequence[TrackRun]) -> bytes:
    """moof + mdat for one part. tfhd uses default-base-is-moof, so each trun's data offset counts
    from the start of this moof and a fragment can be served and decoded on its own."""
    runs = [run for run in runs if run.samples]
    if not runs:
        raise ValueError("a fragment needs at least one sample")

    def traf(run: TrackRun, data_offset: int) -> bytes:
        count = len(run.samples)
        if run.sync is None:
            tfhd = full_box(b"tfhd", 0, 0x020020, struct.pack(">II", run.track_id, SYNC_SAMPLE_FLAGS))
            trun = full_box(b"trun", 0, 0x000301, struct.pack(">Ii", count, data_offset),
                            *(struct.pack(">II", d, len(s)) for d, s in zip(run.durations, run.samples, strict=True)))
        else:
            tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", run.track_id))
            trun = full_box(b"trun", 0, 0x000701, struct.pack(">Ii", count, data_offset),
                            *(struct.pack(">III", d, len(s), SYNC_SAMPLE_FLAGS if k else NON_SYNC_SAMPLE_FLAGS)
                              for d, s, k in zip(run.durations, run.samples, run.sync, strict=True)))
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", run.decode_time))
        return box(b"traf", tfhd, tfdt, trun)

    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence & 0xFFFFFFFF))
    # the moof's size does not depend on the offsets' values: size it with zeros, then fill them in
    moof_size = len(box(b"moof", mfhd, *(traf(run, 0) for run in runs)))
    offset = moof_size + 8
    trafs = []
    for run in runs:
        trafs.append(traf(run, offset))
        offset += sum(len(s) for s in run.samples)
    payload = [s for run in runs for s in run.samples]
    return box(b"moof", mfhd, *trafs) + box(b"mdat", *payload)
