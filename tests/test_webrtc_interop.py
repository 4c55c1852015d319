"""WebRTC with clients not written here (docs/video.md): the DTLS context takes the certificates and
suites real encoders use, FFmpeg's WHIP muxer (the one in PyAV's wheel) publishes, a failed peer
says why in the log and the console, CORS and PATCH as browsers see them, and the ICE settings."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from playwright.async_api import Browser

from server.keys import media_key
from stream import clients, dtls, peers
from stream.clients import play
from tests.conftest import RunningServer, wait_for
from tests.test_video import Studio

ROOT = Path(__file__).resolve().parent.parent

# Run in a process of its own started as the server starts the media worker (OpenSSL reads its
# groups from OPENSSL_CONF once, when it starts): our context against a peer whose certificate is of
# each kind, both roles; the peer's context is plain OpenSSL with its default ciphers, as GStreamer's.
HANDSHAKES = r"""
import json
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from OpenSSL import SSL
from aiortc.rtcdtlstransport import RTCCertificate, SRTP_PROFILES
from stream import dtls, peers  # peers installs the DTLS configuration

assert dtls.installed()
keys = {"P-224": lambda: ec.generate_private_key(ec.SECP224R1()),
        "P-256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "P-384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "RSA": lambda: rsa.generate_private_key(65537, 2048)}

def plain(key):
    cert = dtls.certificate(key)
    ctx = SSL.Context(SSL.DTLS_METHOD)
    ctx.use_certificate(cert._cert)
    ctx.use_privatekey(cert._key)
    ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *args: True)
    ctx.set_tlsext_use_srtp(b"SRTP_AES128_CM_SHA1_80")
    return ctx

results = {}
for kind, make in keys.items():
    for we in ("server", "client"):
        ours = RTCCertificate.generateCertificate()._create_ssl_context(SRTP_PROFILES)
        peer = plain(make())
        try:
            server, client = dtls.handshake(ours, peer) if we == "server" else dtls.handshake(peer, ours)
            mine = server if we == "server" else client
            results[f"{kind} {we}"] = {"cipher": mine.get_cipher_name(),
                                       "peer_key": "RSA" if isinstance(mine.get_peer_certificate(as_cryptography=True).public_key(),
                                                                     rsa.RSAPublicKey) else "EC"}
        except SSL.Error as exc:
            results[f"{kind} {we}"] = {"error": str(exc)}
print(json.dumps(results))
"""


def worker_python(code: str, directory: Path) -> str:
    env = dtls.worker_environment(directory)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dtls_takes_the_certificates_encoders_make(tmp_path: Path) -> None:
    results = json.loads(worker_python(HANDSHAKES, tmp_path))
    for kind, key_type in (("P-224", "EC"), ("P-256", "EC"), ("P-384", "EC"), ("RSA", "RSA")):
        for we in ("server", "client"):
            result = results[f"{kind} {we}"]
            assert "error" not in result, f"{kind} peer, we are the DTLS {we}: {result}"
            assert result["peer_key"] == key_type
            # an RSA server needs the ECDHE-RSA suites; everything else is ECDHE-ECDSA
            expected = "ECDHE-RSA" if kind == "RSA" and we == "client" else "ECDHE-ECDSA"
            assert result["cipher"].startswith(expected), result


def test_the_worker_environment_is_what_makes_p224_work(tmp_path: Path) -> None:
    """Without OPENSSL_CONF, OpenSSL's default groups shut FFmpeg's P-224 certificate out, and the
    alert says so (the line a studio's failed publish leaves in the log)."""
    code = ("from stream import dtls, peers\n"
            "print(dtls.p224_works())\n")
    assert worker_python(code, tmp_path).strip() == "True"
    bare = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}
    code = r"""
import json
from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL
from aiortc.rtcdtlstransport import RTCCertificate, SRTP_PROFILES
from moderation.accounts import Accounts
from moderation.sessions import SessionState
from server.keys import media_key
from stream import dtls, peers
ours = SSL.Connection(RTCCertificate.generateCertificate()._create_ssl_context(SRTP_PROFILES), None)
peer = SSL.Connection(dtls.certificate(ec.generate_private_key(ec.SECP224R1()))._create_ssl_context(SRTP_PROFILES), None)
try:
    dtls.handshake(ours, peer)
except SSL.Error:
    pass
print(json.dumps([dtls.p224_works(), dtls.alerts(ours).describe(), dtls.alerts(peer).describe()]))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=bare, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    works, ours, peer = json.loads(done.stdout)
    assert works is False
    assert ours == "DTLS alert sent: illegal parameter (wrong curve)"
    assert peer == "DTLS alert from the peer: illegal parameter"


def test_the_hook_is_where_aiortc_builds_its_context() -> None:
    """aiortc must still build every DTLS context through the method we wrap: if an upgrade moves
    it, this fails instead of encoders being shut out again."""
    from aiortc import rtcdtlstransport

    assert dtls.installed()
    assert "_create_ssl_context" in rtcdtlstransport.RTCDtlsTransport.start.__code__.co_names
    ctx = rtcdtlstransport.RTCCertificate.generateCertificate()._create_ssl_context(rtcdtlstransport.SRTP_PROFILES)
    from OpenSSL import SSL

    ciphers = SSL.Connection(ctx, None).get_cipher_list()
    assert "ECDHE-RSA-AES128-GCM-SHA256" in ciphers and "ECDHE-ECDSA-AES128-GCM-SHA256" in ciphers


def test_public_ip_is_advertised_beside_the_private_one() -> None:
    sdp = "\r\n".join([
        "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "a=candidate:abc 1 udp 2130706431 10.0.0.5 40000 typ host",
        "a=candidate:def 1 udp 2130706430 127.0.0.1 40001 typ host",
        "a=candidate:ghi 1 udp 1694498815 198.51.100.1 40002 typ srflx raddr 10.0.0.5 rport 40000",
        "a=end-of-candidates", ""])
    out = peers.advertise_public_ip(sdp, "203.0.113.7").split("\r\n")
    assert "a=candidate:abcn 1 udp 2130706430 203.0.113.7 40000 typ host" in out
    assert out.index("a=candidate:abcn 1 udp 2130706430 203.0.113.7 40000 typ host") == \
        out.index("a=candidate:abc 1 udp 2130706431 10.0.0.5 40000 typ host") + 1
    assert sum("203.0.113.7" in line for line in out) == 1  # loopback and srflx are left alone


def test_a_public_ip_that_is_no_address_is_refused_at_start_up() -> None:
    from server.config import load_settings

    assert load_settings(overrides={"ice_public_ip": "203.0.113.7"}).ice_public_ip == "203.0.113.7"
    with pytest.raises(ValueError, match=r"setting ice_public_ip: 'portal\.example' is not an IP address"):
        load_settings(overrides={"ice_public_ip": "portal.example"})


def test_ice_servers_from_the_settings() -> None:
    ice = peers.IceSettings(stun_url="stun:stun.example:3478", turn_urls=("turn:turn.example:3478?transport=udp",),
                            turn_username="doithoai", turn_credential="secret")
    servers = ice.servers()
    assert servers[0].urls == "stun:stun.example:3478"
    assert servers[1].urls == ["turn:turn.example:3478?transport=udp"]
    assert (servers[1].username, servers[1].credential) == ("doithoai", "secret")
    assert "secret" not in repr(ice)
    with pytest.raises(ValueError):
        peers.configure_ice(peers.IceSettings(public_ip="not-an-address"))


# -- outside clients against a real server --------------------------------------------------------

@pytest.fixture
async def studio(start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> Studio:
    """A live session with video (as tests/test_video.py's) and an editor's API token."""
    server = await start_server(media=True)
    return await Studio.open(server, http)


def ffmpeg_whip(url: str, token: str, seconds: float = 60) -> subprocess.Popen[str]:
    """FFmpeg's WHIP muxer publishing the test card (tests/ffmpeg_whip.py)."""
    return subprocess.Popen([sys.executable, "-m", "tests.ffmpeg_whip", url, token, str(seconds)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ended(process: subprocess.Popen[str]) -> str:
    process.kill()
    out, err = process.communicate(timeout=30)
    return (out + err)[-3000:]


@pytest.mark.slow
async def test_ffmpeg_whip_muxer_publishes(studio: Studio) -> None:
    await studio.set_feed("whip")
    await studio.wait_state("slate")
    player = await play(studio.http, studio.whep, studio.watch_token)
    ffmpeg = ffmpeg_whip(studio.whip, studio.publish_token)
    try:
        try:
            await wait_for(lambda: studio.state() == "live" or ffmpeg.poll() is not None, 30)
            assert ffmpeg.poll() is None
            # FFmpeg's pictures, stamped by the card it encodes (not the server's slate)
            await wait_for(lambda: sum(not s.slate and s.frame > 0 for s, _ in player.stamps) >= 25, 30)
        except AssertionError:
            raise AssertionError(f"FFmpeg did not go live: {ended(ffmpeg)}") from None
    finally:
        ended(ffmpeg)
        await player.stop(studio.http)


async def wait_publisher(studio: Studio, state: str, timeout: float = 30) -> dict[str, Any]:  # noqa: ASYNC109
    async def staff() -> dict[str, Any]:
        async with studio.http.get(f"{studio.server.url}/api/v1/staff/sessions/{studio.id}/stream",
                                   headers={"Authorization": f"Bearer {studio.api_token}"}) as response:
            assert response.status == 200
            return dict((await response.json())["publisher"])

    publisher: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        publisher = await staff()
        if publisher["state"] == state:
            return publisher
        await asyncio.sleep(0.2)
    raise AssertionError(f"publisher never {state}: {publisher}")


def with_a_wrong_fingerprint(sdp: str) -> str:
    """The offer naming a certificate its peer does not have: DTLS fails after the answer."""
    wrong = ":".join(f"{b:02X}" for b in os.urandom(32))
    offer = re.sub(r"a=fingerprint:sha-256 \S+", f"a=fingerprint:sha-256 {wrong}", sdp)
    return re.sub(r"a=fingerprint:sha-(384|512) \S+\r\n", "", offer)


async def publish_with_a_wrong_fingerprint(studio: Studio) -> str:
    """An aiortc publisher whose offer names a certificate it does not have; returns the offer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(clients.TestCardVideo())
    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = with_a_wrong_fingerprint(pc.localDescription.sdp)
        async with studio.http.post(studio.whip, data=offer, headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {studio.publish_token}"}) as r:
            assert r.status == 201
            answer = await r.text()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await wait_for(lambda: studio.server.app[media_key].publisher(studio.id)["state"] == "failed", 30)
    finally:
        await pc.close()
    return offer


@pytest.mark.slow
async def test_a_failed_handshake_says_why(studio: Studio, caplog: pytest.LogCaptureFixture) -> None:
    """A publisher whose certificate is not the one its offer's fingerprint names: the worker's
    DTLS check fails after the handshake, logs one line with the reason, and the console's stream
    API shows it; nothing of the token in either."""
    caplog.set_level(logging.WARNING)
    await studio.set_feed("whip")
    await studio.wait_state("slate")
    assert (await wait_publisher(studio, "none"))["last_error"] is None

    offer = await publish_with_a_wrong_fingerprint(studio)
    publisher = await wait_publisher(studio, "failed")
    assert publisher["last_error"] == "DTLS: the peer's certificate does not match the fingerprint in its SDP"
    assert publisher["error_at"] > 0
    assert studio.state() == "slate"  # it never went live
    lines = [line for line in [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] if "WHIP publisher failed" in line]
    assert len(lines) == 1, lines  # one line, not one per state change
    assert "does not match the fingerprint" in lines[0] and f"session {studio.id}" in lines[0]
    assert studio.publish_token not in lines[0]

    # a refused offer says why too: the wrong token, and no codec in common
    async with studio.http.post(studio.whip, data=offer, headers={
            "Content-Type": "application/sdp", "Authorization": "Bearer wrong"}) as r:
        assert r.status == 401
    publisher = await wait_publisher(studio, "refused")
    assert publisher["last_error"] == "401 unauthorized: missing or wrong publish token"
    no_h264 = offer.replace("H264/90000", "H265/90000").replace("VP8/90000", "AV1X/90000")
    async with studio.http.post(studio.whip, data=no_h264, headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {studio.publish_token}"}) as r:
        assert r.status == 400
    lines = [line for line in [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] if "WHIP publish refused" in line]
    assert len(lines) == 2 and "401 unauthorized" in lines[0] and "400 bad_sdp" in lines[1], lines
    assert all("wrong" not in line.split(":", 1)[0] for line in lines)

    # then FFmpeg publishes: the console's error goes once it is connected
    ffmpeg = ffmpeg_whip(studio.whip, studio.publish_token)
    try:
        publisher = await wait_publisher(studio, "connected")
        assert publisher["last_error"] is None
    finally:
        ended(ffmpeg)


@pytest.mark.slow
async def test_cors_preflight_lists_patch_and_patch_answers_405(studio: Studio) -> None:
    await studio.set_feed("test")
    await studio.wait_state("live")
    for url in (studio.whip, studio.whep, f"{studio.whip}/some-resource", f"{studio.whep}/some-resource"):
        async with studio.http.options(url, headers={"Origin": "https://portal.example",
                                                     "Access-Control-Request-Method": "PATCH",
                                                     "Access-Control-Request-Headers": "content-type, if-match"}) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == "*"
            methods = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
            assert {"POST", "DELETE", "PATCH", "OPTIONS"} <= methods
            headers = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
            assert {"content-type", "if-match", "authorization"} <= headers
    player = await play(studio.http, studio.whep, studio.watch_token)
    try:
        async with studio.http.patch(player.resource, data="a=ice-ufrag:abcd\r\na=ice-pwd:x\r\n", headers={
                "Content-Type": "application/trickle-ice-sdpfrag", "If-Match": "*",
                "Origin": "https://portal.example"}) as r:
            assert r.status == 405
            assert r.headers["Allow"] == "DELETE, OPTIONS"
            assert r.headers["Access-Control-Allow-Origin"] == "*"
            assert "Allow" in r.headers["Access-Control-Expose-Headers"]  # a browser may read it
            assert (await r.json())["error"]["code"] == "no_trickle"
        await wait_for(lambda: len(player.stamps) >= 5, 20)  # the viewer plays on, untouched
    finally:
        await player.stop(studio.http)


@pytest.mark.browser
async def test_the_console_shows_why_the_publish_did_not_go_live(studio: Studio, browser: Browser) -> None:
    from tests.test_browser_staff import add_staff, sign_in

    await studio.set_feed("whip")
    await studio.wait_state("slate")
    await add_staff(studio.server, "truongban", "head")
    board = await sign_in(browser, studio.server, "truongban", f"/mod/{studio.id}", ready="#console[data-live=joined]")
    page = board.page
    await page.wait_for_selector("#feed-details:not([hidden])")
    await page.click("#feed-details > summary")
    await page.wait_for_function("() => document.querySelector('#feed-publisher').textContent.includes('chưa phát')")
    await publish_with_a_wrong_fingerprint(studio)
    # the console looks again every 5 s
    await page.wait_for_function(
        "() => document.querySelector('#feed-publisher').textContent.includes('không lên sóng')", timeout=20000)
    text = await page.inner_text("#feed-publisher")
    assert "does not match the fingerprint" in text
    assert await page.is_visible("#feed-publisher")
    assert board.unexpected_errors() == []
    await board.close()


@pytest.mark.slow
async def test_ffmpeg_without_p224_is_refused_with_the_alert(start_server: Callable[..., Awaitable[RunningServer]],
                                                           http: aiohttp.ClientSession,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """The media worker started without our OPENSSL_CONF: FFmpeg's P-224 certificate is refused as
    the issue saw it, and this time the log and the console say so."""
    caplog.set_level(logging.WARNING)
    monkeypatch.setattr(dtls, "worker_environment",
                        lambda directory: {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"})
    server = await start_server(media=True)
    studio = await Studio.open(server, http)
    await studio.set_feed("whip")
    await studio.wait_state("slate")
    ffmpeg = ffmpeg_whip(studio.whip, studio.publish_token)
    try:
        publisher = await wait_publisher(studio, "failed")
    finally:
        ended(ffmpeg)
    # FFmpeg is the DTLS server (setup:passive): its key exchange is signed on P-224, which
    # OpenSSL's default groups lack
    assert publisher["last_error"] == "DTLS alert sent: illegal parameter (wrong curve)"
    lines = [r.getMessage() for r in caplog.records if "WHIP publisher failed" in r.getMessage()]
    assert lines == [f"session {studio.id}: WHIP publisher failed: DTLS alert sent: illegal parameter (wrong curve)"]


def candidates(sdp: str) -> list[str]:
    return [line for line in sdp.splitlines() if line.startswith("a=candidate:")]


@pytest.mark.slow
async def test_loopback_host_candidates_and_the_public_ip(start_server: Callable[..., Awaitable[RunningServer]],
                                                         http: aiohttp.ClientSession,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice leaves 127.0.0.1 out of its host candidates; the worker adds it, so a player whose
    only address is loopback (an encoder or a monitor on a machine without a network) connects. A
    1:1 NAT's public address is offered beside the private one."""
    server = await start_server(media=True, ice_public_ip="203.0.113.7")
    studio = await Studio.open(server, http)
    await studio.set_feed("test")
    await studio.wait_state("live")

    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    answers: list[str] = []
    original = RTCPeerConnection.setRemoteDescription

    async def keep(self: RTCPeerConnection, description: RTCSessionDescription) -> None:
        answers.append(description.sdp)
        await original(self, description)

    monkeypatch.setattr(RTCPeerConnection, "setRemoteDescription", keep)
    player = await play(http, studio.whep, studio.watch_token)
    try:
        await wait_for(lambda: len(player.stamps) >= 10, 30)
    finally:
        await player.stop(http)
    found = candidates(answers[0])
    hosts = [line.split()[4] for line in found if " typ host" in line]
    assert "127.0.0.1" in hosts and "203.0.113.7" in hosts
    assert hosts[-1] == "127.0.0.1"  # last: FFmpeg's WHIP muxer uses the answer's first candidate
    private = [h for h in hosts if h not in ("127.0.0.1", "203.0.113.7")]
    assert private and hosts.index("203.0.113.7") == hosts.index(private[0]) + 1


async def connect_pair(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    offerer.addTransceiver("audio", direction="sendrecv")
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def test_aiortc_handshakes_through_the_hook_with_an_rsa_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two aiortc peers in this process, the DTLS server's certificate RSA (as GStreamer's): the
    ECDHE-RSA suites it needs are there only if aiortc's transport builds its context through
    the hook. With aiortc's own method back, the same handshake fails: the test can tell."""
    from aiortc.rtcdtlstransport import RTCCertificate
    from cryptography.hazmat.primitives.asymmetric import rsa

    async def handshake() -> str:
        offerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # actpass: the DTLS server
        answerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        offerer._RTCPeerConnection__certificates = [  # type: ignore[attr-defined]
            dtls.certificate(rsa.generate_private_key(65537, 2048))]
        try:
            await connect_pair(offerer, answerer)
            done = {"connected", "failed"}
            await wait_for(lambda: offerer.connectionState in done and answerer.connectionState in done, 30)
            return f"{offerer.connectionState} {answerer.connectionState}"
        finally:
            await offerer.close()
            await answerer.close()

    assert dtls.installed()
    assert await handshake() == "connected connected"
    monkeypatch.setattr(RTCCertificate, "_create_ssl_context", dtls._original)
    assert "failed" in await handshake()


@pytest.mark.slow
async def test_a_publisher_that_never_connects_times_out(start_server: Callable[..., Awaitable[RunningServer]],
                                                        http: aiohttp.ClientSession,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """An encoder that posts its offer and is never heard of again (the answer lost, a firewall)."""
    caplog.set_level(logging.WARNING)
    server = await start_server(media=True, whep_connect_seconds=2)
    studio = await Studio.open(server, http)
    await studio.set_feed("whip")
    await studio.wait_state("slate")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(clients.TestCardVideo())
    try:
        await pc.setLocalDescription(await pc.createOffer())
        async with http.post(studio.whip, data=pc.localDescription.sdp, headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {studio.publish_token}"}) as r:
            assert r.status == 201  # and the answer is never used
    finally:
        await pc.close()
    publisher = await wait_publisher(studio, "failed")
    assert publisher["last_error"].startswith("timed out: not connected within 2 s")
    lines = [r.getMessage() for r in caplog.records if "WHIP publisher failed" in r.getMessage()]
    assert len(lines) == 1 and "timed out" in lines[0], lines


LOOPBACK_PAIR = r"""
import asyncio, sys
from aiortc import RTCConfiguration, RTCPeerConnection
from stream import peers

async def main() -> None:
    peers.configure_ice(peers.IceSettings(loopback=sys.argv[1] == "on"))
    a, b = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
    a.addTransceiver("audio")
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    for _ in range(300):  # 30 s at most
        if {a.connectionState, b.connectionState} <= {"connected", "failed"} or "a=candidate" not in a.localDescription.sdp:
            break
        await asyncio.sleep(0.1)
    print(a.connectionState, b.connectionState)
    await a.close()
    await b.close()

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize(("loopback", "expected"), [("on", "connected connected"), ("off", "new new")])
def test_a_machine_with_loopback_only(loopback: str, expected: str) -> None:
    """In a network namespace with nothing but `lo` (a laptop with no network), aioice finds no host
    address at all; the loopback candidate is what lets a local encoder connect."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("no unshare (util-linux) or ip (iproute2)")
    code = f'ip link set lo up && exec {shlex.quote(sys.executable)} -c "$0" {loopback}'  # $0: the script
    done = subprocess.run(["unshare", "--net", "sh", "-c", code, LOOPBACK_PAIR], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    if "Operation not permitted" in done.stderr:
        pytest.skip("unshare --net needs root")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected


@pytest.mark.slow
async def test_a_failed_viewer_says_why(studio: Studio, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    await studio.set_feed("test")
    await studio.wait_state("live")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")

    def failed_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if "WHEP viewer failed" in r.getMessage()]

    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = with_a_wrong_fingerprint(pc.localDescription.sdp)
        async with studio.http.post(studio.whep, data=offer, headers={
                "Content-Type": "application/sdp", "Authorization": f"Bearer {studio.watch_token}"}) as r:
            assert r.status == 201
            answer = await r.text()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await wait_for(lambda: bool(failed_lines()), 30)
    finally:
        await pc.close()
    status = await studio.server.app[media_key].request("status")
    assert status["sessions"][str(studio.id)]["viewers"] == 0  # its slot is free again
    assert failed_lines() == [f"session {studio.id}: WHEP viewer failed: DTLS: the peer's certificate does not "
                              "match the fingerprint in its SDP"]


@pytest.fixture
async def turn_server(tmp_path: Path) -> AsyncIterator[str]:
    """Debian's coturn on loopback with one long-term user; yields its turn: URL."""
    if shutil.which("turnserver") is None:
        pytest.skip("no coturn (make system-packages)")
    port = free_udp_port()
    log = tmp_path / "turnserver.log"
    with log.open("wb") as out:  # its log is block-buffered into a pipe: a file, read on failure
        process = await asyncio.create_subprocess_exec(
            "turnserver", "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}", "--relay-ip=127.0.0.1",
            "--lt-cred-mech", "--user=doithoai:bimat-turn", "--realm=doithoai.test", "--no-tls", "--no-dtls",
            "--no-tcp-relay", "--allow-loopback-peers", "--no-cli", "--log-file=stdout", "--simple-log",
            f"--pidfile={tmp_path / 'turn.pid'}", f"--userdb={tmp_path / 'turndb'}",
            stdout=out, stderr=asyncio.subprocess.STDOUT)
    try:
        # listening once its UDP port is taken
        await wait_for(lambda: process.returncode is not None or udp_port_taken(port), 30)
        assert process.returncode is None, log.read_text()[-3000:]
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        await process.wait()


def udp_port_taken(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
async def test_turn_servers_reach_the_worker(turn_server: str, start_server: Callable[..., Awaitable[RunningServer]],
                                             http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker gathers a relayed candidate from the TURN server it is given (the credential by
    its environment), and a viewer that may only use TURN itself plays."""
    from aiortc import RTCIceServer
    from aiortc.rtcconfiguration import RTCIceTransportPolicy

    server = await start_server(media=True, ice_turn_urls=[turn_server], ice_turn_username="doithoai",
                                ice_turn_credential="bimat-turn")
    studio = await Studio.open(server, http)
    await studio.set_feed("test")
    await studio.wait_state("live")
    worker = server.app[media_key]
    assert "bimat-turn" not in " ".join(worker.worker_args)  # not on the command line

    answers: list[str] = []
    original = RTCPeerConnection.setRemoteDescription

    async def keep(self: RTCPeerConnection, description: RTCSessionDescription) -> None:
        answers.append(description.sdp)
        await original(self, description)

    relay_only = RTCConfiguration(iceServers=[RTCIceServer(turn_server, "doithoai", "bimat-turn")],
                                  iceTransportPolicy=RTCIceTransportPolicy.RELAY)
    monkeypatch.setattr(RTCPeerConnection, "setRemoteDescription", keep)
    monkeypatch.setattr(clients, "RTCConfiguration", lambda iceServers: relay_only)
    player = await play(http, studio.whep, studio.watch_token)
    try:
        await wait_for(lambda: len(player.stamps) >= 10, 30)
    finally:
        await player.stop(http)
    assert any(" typ relay " in line for line in candidates(answers[0])), candidates(answers[0])
    assert all(" typ relay " in line for line in candidates(player.pc.localDescription.sdp))
