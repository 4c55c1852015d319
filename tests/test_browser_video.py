"""Live video in real Chromium against a real server with its media worker: the session page plays
the low-latency HLS with hls.js, the studio page publishes a (fake) camera over WHIP, the console chooses the feed
and shows the low-latency WHEP picture."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright

from moderation.sessions import SessionState
from server.keys import media_key
from server.stream_api import StreamTokens
from stream.clients import play
from stream.hls.rendition import parse_ladder
from tests.browser import CHROMIUM, DESKTOP, LAUNCH_ARGS, doc_screenshot, js, open_viewer
from tests.conftest import RunningServer, wait_for
from tests.test_browser_staff import add_staff, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
async def video_server(start_server: Callable[..., Awaitable[RunningServer]]) -> RunningServer:
    return await start_server(media=True)


async def live_session(server: RunningServer) -> int:
    session = await server.new_session(SessionState.LIVE)
    return session.id


async def set_feed(server: RunningServer, session_id: int, feed: str | None) -> None:
    from moderation.board import Board
    from moderation.roles import CLI_ACTOR
    from server.keys import watch_key
    from stream.feed_policy import FeedPolicy

    await Board(server.store).set_feed(session_id, feed, None, CLI_ACTOR, FeedPolicy(()))
    await server.app[watch_key].announce_sessions()


async def test_the_session_page_plays_the_live_hls(video_server: RunningServer, browser: Browser) -> None:
    """hls.js in low-latency mode on the multivariant playlist: it reloads with _HLS_msn (blocking
    playlist reload) and loads parts; which rendition of the ladder it picks is its ABR's choice."""
    session_id = await live_session(video_server)
    await set_feed(video_server, session_id, "test")
    await wait_for(lambda: video_server.app[media_key].state(session_id) == "live", 20)
    asked: list[str] = []

    async def watch_requests(page: Page) -> None:
        page.on("request", lambda request: asked.append(request.url))

    viewer = await open_viewer(browser, f"{video_server.url}/s/{session_id}", viewport=DESKTOP,
                               before=watch_requests)
    page = viewer.page
    await page.wait_for_function("() => document.querySelector('#video').dataset.player === 'playing' && "
                                 "document.querySelector('#video-player').currentTime > 0.5", timeout=30000)
    first = await js(page, "document.querySelector('#video-player').currentTime")
    await page.wait_for_function(f"() => document.querySelector('#video-player').currentTime > {first} + 1", timeout=15000)
    width, height = await js(page, "[document.querySelector('#video-player').videoWidth, "
                                   "document.querySelector('#video-player').videoHeight]")
    ladder = {(r.width, r.height) for r in parse_ladder(video_server.settings.video_ladder) if not r.audio_only}
    assert (width, height) in ladder, (width, height)
    live = f"{video_server.url}/live/{session_id}/"
    assert f"{live}index.m3u8" in asked  # the multivariant playlist, then a rendition's
    # blocking reloads of a rendition's playlist (hls.js uses them whenever the server offers them),
    # and parts (<msn>.<part>.m4s), which only its low-latency mode loads
    await wait_for(lambda: any(re.match(rf"{re.escape(live)}[^/]+/index\.m3u8\?.*_HLS_msn=\d+", url) for url in asked), 15)
    await wait_for(lambda: any(re.match(rf"{re.escape(live)}[^/]+/\d+\.\d+\.m4s$", url) for url in asked), 15)
    assert await page.is_visible("#video-unmute")  # autoplay starts muted; the button says so
    await page.wait_for_timeout(500)
    await doc_screenshot(page, "viewer-video.png")
    assert viewer.unexpected_errors() == []

    # the feed stops: the page says so instead of freezing on the last picture
    await set_feed(video_server, session_id, None)
    await wait_for(lambda: video_server.app[media_key].state(session_id) == "off", 15)
    await page.wait_for_function("() => document.querySelector('#video').dataset.player !== 'playing'", timeout=15000)
    await viewer.close()


async def test_studio_publishes_and_console_chooses_the_feed(video_server: RunningServer, tmp_path: Path) -> None:
    """Chromium's fake camera and microphone stand in for the studio laptop's."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-packages)")
    session_id = await live_session(video_server)
    await add_staff(video_server, "bientap", "editor")
    media = video_server.app[media_key]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            *LAUNCH_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        try:
            # the editor chooses the studio feed in the console, which shows the WHIP address and token
            board = await sign_in(browser, video_server, "bientap", f"/mod/{session_id}",
                                  ready="#console[data-live=joined]")
            page = board.page
            await page.wait_for_selector("#feed-details:not([hidden])")
            await page.click("#feed-details > summary")
            await page.check("input[name=feed][value=url]")
            await page.fill("#feed-url", "gopher://nowhere")
            await page.click("#feed-form button[type=submit]")
            await page.wait_for_function("() => document.querySelector('#feed-status').textContent.includes('rtsp')")
            await page.check("input[name=feed][value=whip]")
            await page.click("#feed-form button[type=submit]")
            await wait_for(lambda: media.state(session_id) == "slate", 20)  # chosen; the studio is not on yet
            token = StreamTokens(video_server.settings.secret_key).publish(session_id)
            assert await page.is_visible("#feed-whip")
            assert token in await page.inner_text("#feed-whip")

            # the studio page publishes the camera and microphone
            studio = await sign_in(browser, video_server, "bientap", f"/studio/{session_id}")
            await studio.context.grant_permissions(["camera", "microphone"])
            await studio.page.wait_for_function("() => document.querySelector('#studio-camera').options.length > 0",
                                                timeout=15000)
            await studio.page.click("#studio-publish")
            await wait_for(lambda: media.state(session_id) == "live", 30)

            # what the studio sends reaches a WHEP viewer through the one encode
            async with aiohttp.ClientSession() as http:
                watch = StreamTokens(video_server.settings.secret_key).watch(session_id)
                player = await play(http, f"{video_server.url}/whep/{session_id}", watch)
                try:
                    await wait_for(lambda: player.unstamped >= 25, 30)  # Chromium's fake camera: no stamp
                    assert player.sizes == {(1280, 720)}
                    assert not any(stamp.slate for stamp, _ in player.stamps)
                finally:
                    await player.stop(http)

            # the console's own low-latency picture plays
            await page.wait_for_function("() => document.querySelector('#mod-monitor video').videoWidth > 0",
                                         timeout=30000)
            await page.wait_for_timeout(1000)
            await doc_screenshot(studio.page, "studio.png")

            await studio.page.click("#studio-stop")
            await wait_for(lambda: media.state(session_id) == "slate", 15)  # the slate covers the gap
            assert studio.unexpected_errors() == []
            await studio.close()
            await board.close()
        finally:
            await browser.close()
