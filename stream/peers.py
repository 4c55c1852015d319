"""WebRTC peer connections for WHIP (a publisher sends us the studio) and WHEP (a viewer watches).

Both are one offer and one answer with every candidate in it (no trickle ICE), and no STUN server:
aiortc would otherwise ask Google's for every connection, which a server on a public address does
not need and an isolated network cannot reach."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from .control import MediaError

# H.264 Constrained Baseline in packetization mode 1: what the one encode produces
H264_PROFILE = "42e01f"


def new_peer() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def _accept_offer(pc: RTCPeerConnection, sdp: str) -> None:
    if not sdp.startswith("v=0"):
        raise MediaError("bad_sdp", "the body is not an SDP offer (it must start with v=0)")
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
    except (ValueError, KeyError, IndexError) as exc:
        raise MediaError("bad_sdp", f"the SDP offer could not be read: {exc}") from exc


async def _answer(pc: RTCPeerConnection) -> str:
    try:
        await pc.setLocalDescription(await pc.createAnswer())
    except (ValueError, RuntimeError) as exc:  # no codec in common, nothing to send or receive
        raise MediaError("bad_sdp", f"no answer to this offer: {exc}") from exc
    return pc.localDescription.sdp


def _h264_only() -> list:
    """The video codecs a viewer may get: our H.264 profile (and its retransmission)."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    chosen = [c for c in codecs if c.mimeType == "video/H264"
              and c.parameters.get("profile-level-id") == H264_PROFILE
              and str(c.parameters.get("packetization-mode")) == "1"]
    return chosen + [c for c in codecs if c.mimeType == "video/rtx"]


async def answer_viewer(sdp: str, video: MediaStreamTrack, audio: MediaStreamTrack) -> tuple[RTCPeerConnection, str]:
    """WHEP: the viewer's recvonly offer, answered with our shared tracks."""
    pc = new_peer()
    try:
        await _accept_offer(pc, sdp)
        kinds = {t.kind for t in pc.getTransceivers()}
        if "video" not in kinds and "audio" not in kinds:
            raise MediaError("bad_sdp", "the offer asks for neither video nor audio")
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.setCodecPreferences(_h264_only())
                pc.addTrack(video)
            elif transceiver.kind == "audio":
                pc.addTrack(audio)
        return pc, await _answer(pc)
    except BaseException:
        await pc.close()
        raise


async def answer_publisher(sdp: str, on_track: Callable[[MediaStreamTrack], None]) -> tuple[RTCPeerConnection, str]:
    """WHIP: the publisher's sendonly offer; every track it sends is handed to `on_track`."""
    pc = new_peer()
    pc.on("track", on_track)
    try:
        await _accept_offer(pc, sdp)
        if not pc.getTransceivers():
            raise MediaError("bad_sdp", "the offer sends no media")
        return pc, await _answer(pc)
    except BaseException:
        await pc.close()
        raise


async def close_quietly(pc: RTCPeerConnection) -> None:
    try:
        await asyncio.wait_for(pc.close(), 5)
    except (TimeoutError, ConnectionError):
        pass
