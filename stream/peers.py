"""WebRTC peer connections for WHIP (a publisher sends us the studio) and WHEP (a viewer watches).

Both are one offer and one answer with every candidate in it (no trickle ICE), and no STUN server:
aiortc would otherwise ask Google's for every connection, which a server on a public address does
not need and an isolated network cannot reach."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidAccessError, OperationError
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
    except OperationError as exc:  # e.g. a viewer that cannot play H.264
        raise MediaError("bad_sdp", f"no codec in common: the offer must include H.264 {H264_PROFILE} "
                         f"(packetization-mode 1) for video and Opus for audio ({exc})") from exc
    except (ValueError, KeyError, IndexError, InvalidAccessError) as exc:
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
        # Transceivers made before the offer is read are the ones it binds to, so the codec
        # preference is in place when aiortc picks the codec (it picks in setRemoteDescription).
        pc.addTransceiver(video, direction="sendonly").setCodecPreferences(_h264_only())
        pc.addTransceiver(audio, direction="sendonly")
        await _accept_offer(pc, sdp)
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
