"""The public archive in real Chromium: the published video plays (hls.js, or the MP4), a chapter
click and an "answered at" link seek it, on a desktop and on a phone; axe finds no serious or
critical violation on the archive page and the list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Page, ViewportSize

from moderation import publication
from moderation.roles import Actor, Role
from tests.browser import DESKTOP, PHONE, screenshot
from tests.conftest import RunningServer
from tests.publication_media import closed_session, files_for, write_media
from tests.test_accessibility import assert_accessible, new_person, sign_in

pytestmark = pytest.mark.browser
HEAD = Actor("truongban", Role.HEAD)


async def published_session(server: RunningServer) -> tuple[int, list[int]]:
    session, live, _ = await closed_session(server, live=3, written=1)
    files = files_for(server, session.id)
    await asyncio.to_thread(write_media, files, live)
    async with server.store.write_engine.begin() as conn:
        now = datetime.now(UTC)
        await conn.run_sync(publication.prepare, session.id, HEAD, now, files)
        await conn.run_sync(publication.edit, session.id, {
            "intro": "Buổi đối thoại về thủ tục đất đai với người dân phường Lê Chân.",
            "summaries": {str(live[0]): "Thời hạn cấp giấy chứng nhận là 30 ngày làm việc."}}, HEAD, now, files)
        await conn.run_sync(publication.publish, session.id, HEAD, now, files)
    return session.id, live


async def seeks_to(page: Page, selector: str, start: float) -> None:
    """Clicking the link plays the video from `start` (a little after it: it plays on)."""
    await page.click(selector)
    await page.wait_for_function(
        "s => { const v = document.getElementById('archive-player');"
        " return v.readyState >= 2 && v.currentTime >= s - 0.25 && v.currentTime < s + 3.5; }", arg=start)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_archive_plays_and_its_chapters_seek(server: RunningServer, browser: Browser,
                                                       viewport: ViewportSize) -> None:
    session_id, live = await published_session(server)
    context = await new_person(browser, viewport)
    errors: list[str] = []
    try:
        page = await context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(f"{server.url}/s/{session_id}")
        await page.wait_for_function("document.getElementById('archive-player').readyState >= 1")
        await page.evaluate("document.getElementById('archive-player').muted = true")
        await page.click("#archive-player")  # a person's press: the browser lets it play
        await page.evaluate("document.getElementById('archive-player').play()")
        await page.wait_for_function("document.getElementById('archive-player').currentTime > 0.5")
        source = await page.evaluate("document.getElementById('archive-player').currentSrc")
        assert source.startswith("blob:") or source.endswith("/vod/index.m3u8"), source  # HLS: hls.js or native
        await seeks_to(page, '.archive-chapters a[data-start="8.0"]', 8.0)
        await seeks_to(page, f'#q{live[1]} .archive-how a', 4.0)
        assert "#t=4" in page.url
        assert await page.locator(".archive-chapters li").count() == 3
        await page.locator("#archive-video-h").evaluate("e => e.scrollIntoView()")
        await screenshot(page, f"archive-{'phone' if viewport == PHONE else 'desktop'}.png")
        await assert_accessible(page, f"the archive page ({'phone' if viewport == PHONE else 'desktop'})")
        # a link with the time opens the page playing from there
        await page.goto(f"{server.url}/s/{session_id}#t=8")
        await page.reload()
        await page.wait_for_function("document.getElementById('archive-player').currentTime >= 7.75")
        await page.goto(f"{server.url}/archive?q=dat dai")
        assert await page.locator(f'a[href="/s/{session_id}"]').count() == 1
        await assert_accessible(page, "the archive list")
        await screenshot(page, f"archive-list-{'phone' if viewport == PHONE else 'desktop'}.png")
    finally:
        await context.close()
    assert not errors, errors


async def test_the_head_reviews_and_publishes_from_the_review_page(server: RunningServer, browser: Browser) -> None:
    session, live, _ = await closed_session(server, live=1, written=1, title="Đối thoại chưa có video")
    viewer = await sign_in(browser, server, "truongban", "head", f"/staff/sessions/{session.id}/publication",
                           "#pub-draft", DESKTOP)
    try:
        page = viewer.page
        await page.fill("#pub-intro", "Lời giới thiệu của biên tập viên.")
        await page.fill(f"#summary-{live[0]}", "Tóm tắt câu trả lời.")
        await page.click("button[type=submit].primary")
        await page.wait_for_selector("#pub-saved")
        await assert_accessible(page, "the publication's draft")
        await screenshot(page, "publication-draft.png")
        await page.click("#pub-review-link")
        await page.wait_for_selector("#pub-banner")
        assert await page.locator("#pub-no-video").count() == 1  # no recording: the article alone
        await assert_accessible(page, "the publication's review")
        await screenshot(page, "publication-review.png")
        await page.click("#pub-publish")
        await page.wait_for_url(f"{server.url}/s/{session.id}")
        assert await page.locator("#pub-banner").count() == 0
        assert "Lời giới thiệu của biên tập viên." in await page.locator("#archive").inner_text()
        assert await page.locator("video").count() == 0
    finally:
        await viewer.close()
    assert not viewer.unexpected_errors(), viewer.unexpected_errors()
