"""What an editor's feed URL may reach, and WHEP slots (docs/video.md): no file://, no internal
address unless the operator allows it, checked when the feed is chosen and again by the media worker
right before it connects; an offer that never connects gives its slot back, and offers that come
together never pass the cap."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCConfiguration, RTCPeerConnection

from moderation.accounts import Accounts
from moderation.sessions import SessionState
from server.keys import media_key
from server.stream_api import StreamTokens
from stream.clients import play
from stream.feed import Feed
from stream.feed_policy import FeedPolicy
from stream.sources import Pull
from stream.testcard import TestCard
from tests.conftest import RunningServer, wait_for


async def editor_token(server: RunningServer) -> str:
    accounts = Accounts(server.store)
    await accounts.add_user("bientap", "editor", "mật khẩu đủ dài 123")
    return str((await accounts.issue_token("bientap", "tests"))["token"])


async def choose_feed(http: aiohttp.ClientSession, server: RunningServer, session_id: int, token: str,
                      url: str) -> tuple[int, dict[str, Any]]:
    async with http.put(f"{server.url}/api/v1/staff/sessions/{session_id}/stream", json={"feed": "url", "url": url},
                        headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


def test_only_public_addresses_unless_allowed() -> None:
    public = FeedPolicy()
    for address in ("8.8.8.8", "2001:4860:4860::8888", "203.162.4.191"):
        assert public.allowed(address), address
    for address in ("127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.10", "100.64.0.1", "169.254.169.254",
                    "0.0.0.0", "::1", "fe80::1%eth0", "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
                    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1"):
        assert not public.allowed(address), address  # also inside IPv6: mapped, NAT64, 6to4
    studio = FeedPolicy(["10.20.0.0/24", "192.168.5.7", "Encoder.Studio."])
    assert studio.allowed("10.20.0.99") and studio.allowed("192.168.5.7") and not studio.allowed("10.20.1.1")
    assert studio.hosts == {"encoder.studio"}
    with pytest.raises(ValueError, match="feed_allowed_networks"):
        FeedPolicy(["10.0.0.0/33"])


async def test_feed_urls_that_reach_inside_are_refused(start_server: Callable[..., Awaitable[RunningServer]],
                                                       http: aiohttp.ClientSession) -> None:
    server = await start_server()
    session = await server.new_session(SessionState.LIVE)
    token = await editor_token(server)
    for url in ("file:///etc/passwd", "FILE:///var/lib/doithoai/secret_key", "concat:http://8.8.8.8/a|file:///x"):
        status, body = await choose_feed(http, server, session.id, token, url)
        assert status == 400 and body["error"]["field"] == "url", url
        assert "rtsp" in body["error"]["message"] and "file" not in body["error"]["message"].split(":", 1)[1]
    for url in ("http://127.0.0.1:8080/api/v1/audit", "http://localhost/", "rtsp://169.254.169.254/latest/meta-data",
                "http://[::1]:5432/", "http://10.1.2.3/", "http://0x7f.1/", "rtmp://[::ffff:192.168.0.1]/live",
                "srt://no-such-encoder.invalid:9000", "https:///no-host"):
        status, body = await choose_feed(http, server, session.id, token, url)
        assert status == 400 and body["error"]["field"] == "url", (url, body)
    status, body = await choose_feed(http, server, session.id, token, "http://127.0.0.1:8080/x")
    assert "127.0.0.1" in body["error"]["message"] and "feed_allowed_networks" in body["error"]["message"]
    status, body = await choose_feed(http, server, session.id, token, "rtsp://8.8.8.8/live")  # public: a literal
    assert status == 200 and body["url"] == "rtsp://8.8.8.8/live"
    assert (await server.store.get_session(session.id)).feed_url == "rtsp://8.8.8.8/live"  # nothing refused was kept


async def test_allowed_hosts_and_networks(start_server: Callable[..., Awaitable[RunningServer]],
                                          http: aiohttp.ClientSession) -> None:
    server = await start_server(feed_allowed_networks=["10.20.0.0/24", "encoder.studio"])
    session = await server.new_session(SessionState.LIVE)
    token = await editor_token(server)
    for url in ("rtsp://10.20.0.5:554/live", "srt://encoder.studio:9000?mode=caller"):
        status, body = await choose_feed(http, server, session.id, token, url)
        assert status == 200 and body["url"] == url
    status, body = await choose_feed(http, server, session.id, token, "rtsp://10.20.1.5/live")
    assert status == 400 and body["error"]["field"] == "url"


def _clip(path: Path) -> None:
    card = TestCard()
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for n in range(25):
            for packet in stream.encode(card.video_frame(n, time.time()).reformat(320, 240)):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


async def test_the_worker_checks_the_name_again_before_it_connects(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name resolved to a public address when the feed was chosen, and to this
    machine when the pull connects. The pull refuses, and the local server never hears from it."""
    clip = tmp_path / "station.ts"
    _clip(clip)
    hits: list[str] = []

    async def serve_clip(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.FileResponse(clip)

    app = web.Application()
    app.router.add_get("/station.ts", serve_clip)
    local = TestServer(app, host="127.0.0.1", port=0)
    await local.start_server()
    answers = iter(["93.184.216.34"])  # what the attacker's name server says first, then never again
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "feed.example":
            return real_getaddrinfo(host, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://feed.example:{local.port}/station.ts"
    policy = FeedPolicy()
    try:
        await policy.check(url)  # when the editor chose it: public
        pull = Pull(url, Feed(), policy)
        pull.start()
        try:
            await wait_for(lambda: (pull.error or "").startswith("refused: feed_url_private"), 20)
        finally:
            await pull.stop()
        assert hits == []

        # the same pull to an address the operator allowed does connect and decode
        feed = Feed()
        allowed = Pull(f"http://127.0.0.1:{local.port}/station.ts", feed, FeedPolicy(["127.0.0.1/32"]))
        allowed.start()
        try:
            await wait_for(lambda: feed.pictures > 0, 20)
        finally:
            await allowed.stop()
        assert hits
    finally:
        await local.close()


async def _offer_and_vanish(http: aiohttp.ClientSession, url: str, token: str,
                            peers: list[RTCPeerConnection]) -> int:
    """A WHEP offer from a player that never completes ICE and DTLS (it drops the answer)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    peers.append(pc)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    async with http.post(url, data=pc.localDescription.sdp, headers={
            "Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}) as response:
        await response.read()
        return response.status


@pytest.mark.slow
async def test_whep_slots_are_capped_and_unconnected_offers_give_them_back(
        start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> None:
    # 6 s to connect: room for six offers and a real player's handshake on a busy machine
    server = await start_server(media=True, whep_max_viewers=3, whep_connect_seconds=6.0)
    session = await server.new_session(SessionState.LIVE)
    token = await editor_token(server)
    async with http.put(f"{server.url}/api/v1/staff/sessions/{session.id}/stream", json={"feed": "test"},
                        headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
    media = server.app[media_key]
    await wait_for(lambda: media.state(session.id) == "live", 30)
    whep, watch = f"{server.url}/whep/{session.id}", StreamTokens(server.settings.secret_key).watch(session.id)

    async def viewers() -> int:
        status = await media.request("status")
        return int(status["sessions"][str(session.id)]["viewers"])

    peers: list[RTCPeerConnection] = []
    player = None
    try:
        # six offers at once for three slots: never more than three answered
        statuses = await asyncio.gather(*(_offer_and_vanish(http, whep, watch, peers) for _ in range(6)))
        assert sorted(statuses) == [201, 201, 201, 503, 503, 503]
        assert await viewers() == 3
        # none of them connects: each slot comes back by itself
        for _ in range(300):  # 30 s and more: far beyond the 6 s deadline, below aiortc's own
            if await viewers() == 0:
                break
            await asyncio.sleep(0.1)
        assert await viewers() == 0

        # a player that does connect keeps its slot past the connect deadline, and the cap holds again
        player = await play(http, whep, watch)
        await wait_for(lambda: len(player.stamps) >= 25, 30)
        statuses = await asyncio.gather(*(_offer_and_vanish(http, whep, watch, peers) for _ in range(3)))
        assert sorted(statuses) == [201, 201, 503]
        seen = len(player.stamps)
        for _ in range(300):
            if await viewers() == 1:
                break
            await asyncio.sleep(0.1)
        assert await viewers() == 1  # the two that never connected are gone; the player stays
        await wait_for(lambda: len(player.stamps) >= seen + 25, 30)  # and still receives pictures
    finally:
        if player is not None:
            await player.stop(http)
        for pc in peers:
            await pc.close()
