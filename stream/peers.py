"""WebRTC peer connections for WHIP (a publisher sends us the studio) and WHEP (a viewer watches).

Both are one offer and one answer with every candidate in it (no trickle ICE: docs/video.md). ICE
uses what the deployment configures (`IceSettings`): no STUN server unless one is set (aiortc would
otherwise ask Google's for every connection, which a server on a public address does not need and an
isolated network cannot reach), TURN servers, the public address of a 1:1 NAT, and loopback host
candidates for an encoder on the same machine. DTLS is widened for real encoders (stream/dtls.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidAccessError, OperationError
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport

from . import dtls
from .control import MediaError

dtls.install()

# H.264 Constrained Baseline in packetization mode 1: what the one encode produces
H264_PROFILE = "42e01f"


@dataclass(frozen=True)
class IceSettings:
    """ICE for a deployment: `public_ip` is the address a 1:1 NAT maps to this host (advertised as
    a host candidate beside the private one, same port); TURN relays for viewers behind strict
    firewalls; STUN to learn the public address when it is not fixed; loopback host candidates so
    an encoder on this machine connects without a network (aioice leaves 127.0.0.1 out)."""

    public_ip: str = ""
    stun_url: str = ""
    turn_urls: tuple[str, ...] = ()
    turn_username: str = ""
    turn_credential: str = field(default="", repr=False)
    loopback: bool = True

    def servers(self) -> list[RTCIceServer]:
        servers = [RTCIceServer(urls=self.stun_url)] if self.stun_url else []
        if self.turn_urls:
            servers.append(RTCIceServer(urls=list(self.turn_urls), username=self.turn_username or None,
                                        credential=self.turn_credential or None))
        return servers


_ice = IceSettings()
_host_addresses = aioice.ice.get_host_addresses


def _host_addresses_with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    addresses = _host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    if _ice.loopback and use_ipv4 and "127.0.0.1" not in addresses:
        addresses.append("127.0.0.1")  # last: FFmpeg's WHIP muxer takes the answer's first candidate
    return addresses


def configure_ice(settings: IceSettings) -> None:
    """The worker's ICE settings, for every peer made after this."""
    global _ice
    if settings.public_ip:
        ipaddress.ip_address(settings.public_ip)  # ValueError: not an address
    _ice = settings
    # aioice gathers host addresses through this module function; wrapping it is the one way to add
    # loopback without forking it
    aioice.ice.get_host_addresses = _host_addresses_with_loopback


def new_peer() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=_ice.servers()))


_CANDIDATE = re.compile(r"^a=candidate:(\S+) (\d+) (udp|UDP) (\d+) (\S+) (\d+) typ host(.*)$")


def advertise_public_ip(sdp: str, public_ip: str) -> str:
    """Behind a 1:1 NAT: each private IPv4 host candidate is repeated with the public address (same
    port, which the NAT maps), so peers outside reach us; peers on the LAN keep the private one."""
    lines: list[str] = []
    for line in sdp.split("\r\n"):
        lines.append(line)
        match = _CANDIDATE.match(line)
        if not match:
            continue
        foundation, component, transport, priority, host, port, rest = match.groups()
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if address.version == 4 and not address.is_loopback and str(address) != public_ip:
            lines.append(f"a=candidate:{foundation}n {component} {transport} {int(priority) - 1} {public_ip} "
                         f"{port} typ host{rest}")
    return "\r\n".join(lines)


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
    sdp: str = pc.localDescription.sdp
    return advertise_public_ip(sdp, _ice.public_ip) if _ice.public_ip else sdp


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


def _dtls_transports(pc: RTCPeerConnection) -> list[RTCDtlsTransport]:
    found: dict[int, RTCDtlsTransport] = {}
    for transceiver in pc.getTransceivers():
        for transport in (transceiver.receiver.transport, transceiver.sender.transport):
            if transport is not None:
                found[id(transport)] = transport
    return list(found.values())


def failure(pc: RTCPeerConnection) -> str:
    """Why a connection failed or did not come up, in words for the log and the console (no
    addresses, no tokens)."""
    transports = _dtls_transports(pc)
    for transport in transports:
        if transport.transport.state == "failed":
            return ("ICE failed: no candidate pair answered the connectivity checks (a firewall or NAT "
                    "between; see ice_public_ip and TURN in docs/video.md)")
    for transport in transports:
        if transport.state != "failed":
            continue
        connection = transport._ssl
        said = dtls.alerts(connection)
        if said is not None and said.describe():
            return str(said.describe())
        if transport.encrypted and connection is not None:
            if not connection.get_selected_srtp_profile():
                return "DTLS: no SRTP protection profile in common"
            return "DTLS: the peer's certificate does not match the fingerprint in its SDP"
        return "DTLS handshake failed (no alert)"
    return f"connection {pc.connectionState} ({_states(transports)})"


def not_connected(pc: RTCPeerConnection, seconds: float) -> str:
    """Why an answered offer is still not connected after `seconds`."""
    return f"timed out: not connected within {seconds:g} s ({_states(_dtls_transports(pc))})"


def _states(transports: list[RTCDtlsTransport]) -> str:
    ice = ", ".join(sorted({t.transport.state for t in transports})) or "none"
    dtls = ", ".join(sorted({t.state for t in transports})) or "none"
    return f"ICE {ice}, DTLS {dtls}"


async def close_quietly(pc: RTCPeerConnection) -> None:
    try:
        await asyncio.wait_for(pc.close(), 5)
    except (TimeoutError, ConnectionError):
        pass
