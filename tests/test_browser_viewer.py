"""The viewer's session page in a real browser (Debian's chromium through Playwright): the form with and
without JavaScript, live updates over Socket.IO, interest marks, the outbox, and XSS staying inert.

Screenshots go to tests/artifacts/ (gitignored): look at them after changing the pages."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, Page, WebSocketRoute

from moderation.consent import Channel
from moderation.sessions import SessionDraft, SessionState
from moderation.submission import parse_submission
from tests.browser import (
    DESKTOP,
    PHONE,
    RECEIPT,
    fill_question,
    joined,
    js,
    open_viewer,
    screenshot,
)
from tests.conftest import RunningServer, valid_payload
from tests.leaks import shows_phone

pytestmark = pytest.mark.browser

QUESTION = "Xin hỏi thời hạn giải quyết hồ sơ cấp giấy chứng nhận quyền sử dụng đất lần đầu là bao nhiêu ngày?"
OUTBOX = "doithoai.outbox.v1"


async def store_question(server: RunningServer, session_id: int, text: str, **asker: str) -> int:
    """A question as intake stores it (not yet public)."""
    payload = valid_payload(session_id, text=text)
    payload["asker"].update(asker)
    receipt = await server.store.submit_question(parse_submission(payload, channel=Channel.SOCKET))
    return receipt.question_id


async def order(page: Page) -> list[int]:
    ids: list[int] = await page.eval_on_selector_all(
        "#questions > li", "els => els.map(e => Number(e.dataset.questionId))")
    return ids


async def count_is(page: Page, question_id: int, count: str) -> None:
    await page.wait_for_function(
        "([id, n]) => document.querySelector(`li[data-question-id='${id}'] .interest-btn .count`)?.textContent === n",
        arg=[question_id, count], timeout=10000)


async def outbox(page: Page) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(await js(page, f"localStorage.getItem('{OUTBOX}') || '[]'"))
    return items


async def test_phone_viewer_sends_a_question_over_socketio(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(fields=["Đất đai", "Giao thông"])
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    await screenshot(page, "session-phone.png")
    # why the data is asked for, who sees it and how long it is kept: in view beside the consent box
    # without opening anything; the full text stays folded until asked for
    assert await page.is_visible("#consent-purpose")
    assert "12 tháng" in await page.inner_text("#consent-purpose")
    assert not await page.is_visible("#why-full > p")

    # what the server refuses is shown beside each field, and the first one gets the focus
    await fill_question(page, phone="12345", text="ngắn")
    await page.click("#send-button")
    await page.wait_for_selector("#e-phone")
    assert "Số điện thoại không hợp lệ" in await page.inner_text("#e-phone")
    assert "quá ngắn" in await page.inner_text("#e-text")
    assert await page.get_attribute("#f-phone", "aria-invalid") == "true"
    assert "e-phone" in (await page.get_attribute("#f-phone", "aria-describedby") or "").split()
    assert "h-phone" in (await page.get_attribute("#f-phone", "aria-describedby") or "").split()
    assert await js(page, "document.activeElement.id") == "f-phone"
    assert "kiểm tra lại" in await page.inner_text("#form-alert")
    assert await page.input_value("#f-name") == "Nguyễn Văn An"  # what was typed stays
    await screenshot(page, "session-phone-errors.png")
    assert await server.store.register(session.id) == []
    assert await outbox(page) == []  # a validation error is final: nothing waits to be resent

    await page.fill("#f-phone", "0912 345 678")
    await page.fill("#f-text", QUESTION)
    await page.select_option("#f-field", "Đất đai")
    await page.click("#send-button")
    code = page.locator("#ask-result .receipt-code")
    await code.wait_for()
    receipt = await code.inner_text()
    assert RECEIPT.match(receipt)
    assert await page.get_attribute("#ask-result a", "href") == f"/q/{receipt}"
    assert await page.locator(".field-error").count() == 0
    assert await page.locator("[aria-invalid]").count() == 0
    assert await page.inner_text("#form-alert") == ""
    # the form is ready for another question
    assert await page.input_value("#f-text") == "" and not await page.is_checked("#f-consent")
    assert receipt in await page.inner_text("#sent-history")
    assert await outbox(page) == []

    register = await server.store.register(session.id)
    assert len(register) == 1
    row = register[0]
    assert row["receipt"] == receipt and row["text"] == QUESTION and row["field"] == "Đất đai"
    assert row["channel"] == "socketio" and row["asker"]["phone"] == "0912345678"
    await screenshot(page, "session-phone-sent.png")
    assert viewer.errors == []


async def test_form_works_without_javascript(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}", javascript=False)
    page = viewer.page

    await fill_question(page, phone="12345", text=QUESTION)
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.click("#send-button")
    assert (await posted.value).status == 400
    await page.wait_for_load_state()
    assert "Số điện thoại không hợp lệ" in await page.inner_text("#e-phone")
    assert await page.get_attribute("#f-phone", "aria-invalid") == "true"
    assert "e-phone" in (await page.get_attribute("#f-phone", "aria-describedby") or "").split()
    assert "kiểm tra lại" in await page.inner_text("[role=alert]")
    # everything typed is still there
    assert await page.input_value("#f-name") == "Nguyễn Văn An"
    assert await page.input_value("#f-address") == "12 Lạch Tray, Ngô Quyền, Hải Phòng"
    assert await page.input_value("#f-phone") == "12345"
    assert await page.input_value("#f-text") == QUESTION
    assert await page.is_checked("#f-consent")
    await screenshot(page, "session-nojs-errors.png")

    await page.fill("#f-phone", "0987 654 321")
    await page.click("#send-button")
    await page.wait_for_url(re.compile(r"/q/[0-9A-Z-]+\?new=1$"))
    receipt = (await page.inner_text("#receipt-code")).strip()
    assert RECEIPT.match(receipt)
    assert "Câu hỏi của bạn đã được ghi nhận" in await page.inner_text("[role=status]")
    assert await page.inner_text("#q-state") == "Đã tiếp nhận, đang chờ Ban Biên tập xem xét"
    body = await page.inner_text("body")
    assert QUESTION in body
    assert not shows_phone(body, "0987 654 321") and "Lạch Tray" not in body  # never the phone or the address
    register = await server.store.register(session.id)
    assert len(register) == 1 and register[0]["receipt"] == receipt and register[0]["channel"] == "form"
    await screenshot(page, "receipt-phone.png")

    # a declined question says why, in plain Vietnamese
    await server.store.apply_action(register[0]["question_id"], "decline", reason="outside_city_remit")
    await page.goto(f"{server.url}/q/{receipt}")
    assert await page.inner_text("#q-state") == "Không được chọn trả lời"
    assert await page.inner_text("#q-reason") == "Ngoài thẩm quyền của thành phố."
    await screenshot(page, "receipt-declined-phone.png")
    assert [e for e in viewer.errors if "status of 400" not in e] == []  # the refused post is answered 400


async def test_question_text_is_shown_literally_and_never_runs(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}")
    page = viewer.page
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
    name = '<b onmouseover="window.__xss=1">Trần</b> Văn Bình'
    question_id = await store_question(server, session.id, evil, name=name, name_shown="full")
    await server.store.apply_action(question_id, "accept")

    item = page.locator(f"#questions li[data-question-id='{question_id}']")
    await item.locator(".interest-btn").wait_for()  # arrived live, rendered by the script
    assert await item.locator(".q-text").inner_text() == evil
    assert await item.locator(".q-asker").inner_text() == name
    assert await page.locator("#questions img, #questions script, #questions b").count() == 0
    await item.hover()
    assert await js(page, "window.__xss") is None

    # the server-rendered page, then the script's snapshot over it, after a reload
    await page.reload()
    assert await item.locator(".q-text").inner_text() == evil
    await joined(page)
    assert await item.locator(".q-text").inner_text() == evil
    assert await js(page, "window.__xss") is None
    assert viewer.errors == []  # an <img src=x> that rendered would have failed to load


async def test_live_questions_and_interest_reach_every_viewer(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    url = f"{server.url}/s/{session.id}"
    phone = await open_viewer(browser, url, viewport=PHONE)
    desktop = await open_viewer(browser, url, viewport=DESKTOP)
    first = await store_question(server, session.id, "Câu hỏi thứ nhất: khi nào mở rộng đường Lạch Tray?")
    second = await store_question(server, session.id, "Câu hỏi thứ hai: thủ tục cấp phép xây dựng nhà ở riêng lẻ?",
                                  name_shown="anonymous")
    hidden = await store_question(server, session.id, "Câu hỏi chưa được duyệt thì không ai thấy, đúng không?")

    for question_id in (first, second):
        await server.store.apply_action(question_id, "accept")
    for viewer in (phone, desktop):
        await viewer.page.locator(f"li[data-question-id='{second}'] .interest-btn").wait_for()
        assert await order(viewer.page) == [first, second]  # equal interest: oldest first
        assert await viewer.page.locator(f"li[data-question-id='{hidden}']").count() == 0
        assert await viewer.page.inner_text(f"li[data-question-id='{second}'] .q-asker") == "Người hỏi ẩn danh"
        assert await viewer.page.is_hidden("#no-questions")

    # one viewer marks the second question: both see the count, and it moves up
    phone_button = phone.page.locator(f"li[data-question-id='{second}'] .interest-btn")
    await phone_button.click()
    await count_is(desktop.page, second, "1")
    await count_is(phone.page, second, "1")
    assert await phone_button.get_attribute("aria-pressed") == "true"
    desktop_button = desktop.page.locator(f"li[data-question-id='{second}'] .interest-btn")
    assert await desktop_button.get_attribute("aria-pressed") == "false"
    for viewer in (phone, desktop):
        assert await order(viewer.page) == [second, first]

    # pressing again counts nothing
    await phone_button.click()
    await asyncio.sleep(0.3)
    assert (await server.store.get_question(second)).interest_count == 1
    assert await phone_button.locator(".count").inner_text() == "1"

    # the other viewer's mark counts
    await desktop_button.click()
    await count_is(phone.page, second, "2")
    await count_is(desktop.page, second, "2")
    assert (await server.store.get_question(second)).interest_count == 2

    # the mark is remembered on this device
    await phone.page.reload()
    await joined(phone.page)
    assert await phone_button.get_attribute("aria-pressed") == "true"

    # a question leaving the public list leaves every page
    await server.store.apply_action(first, "decline", reason="duplicate")
    for viewer in (phone, desktop):
        await viewer.page.locator(f"li[data-question-id='{first}']").wait_for(state="detached")
        assert await order(viewer.page) == [second]
    await desktop.page.evaluate("() => window.scrollTo(0, 0)")
    await screenshot(desktop.page, "session-desktop.png", full_page=False)
    await screenshot(phone.page, "session-phone-questions.png")
    assert phone.errors == [] and desktop.errors == []


async def test_session_state_countdown_live_and_closed(server: RunningServer, browser: Browser) -> None:
    soon = await server.store.create_session(SessionDraft(
        title="Phiên sắp diễn ra", chair_name="Nguyễn Văn Tùng", minutes=90, fields=["Giao thông"],
        starts_at=datetime.now(UTC) + timedelta(minutes=90)))
    await server.store.transition_session(soon.id, SessionState.ANNOUNCED)
    viewer = await open_viewer(browser, f"{server.url}/s/{soon.id}")
    page = viewer.page
    assert re.fullmatch(r"Phiên bắt đầu sau 01:(29|30):\d\d", (await page.inner_text("#countdown")).strip())

    session = await server.new_session()  # starts in 15 days
    await page.goto(f"{server.url}/s/{session.id}")
    await joined(page)
    assert await page.inner_text("#session-state") == "Đang nhận câu hỏi"
    assert re.fullmatch(r"Phiên bắt đầu sau 14 ngày 23 giờ 5\d phút", (await page.inner_text("#countdown")).strip())

    await server.store.transition_session(session.id, SessionState.LIVE)
    await page.wait_for_function("() => document.getElementById('session-state').textContent === 'Đang diễn ra'")
    assert await page.get_attribute("#session-state", "class") == "badge state-live"
    assert await page.is_hidden("#countdown")
    assert await page.is_enabled("#send-button")

    await server.store.transition_session(session.id, SessionState.CLOSED)
    await page.wait_for_function("() => document.getElementById('session-state').textContent === 'Đã kết thúc'")
    assert await page.is_disabled("#send-button") and await page.is_disabled("#f-text")
    closed = "Phiên đối thoại đã kết thúc, không nhận thêm câu hỏi."
    assert await page.inner_text("#intake-notice") == closed
    assert await page.inner_text("#countdown") == closed
    await screenshot(page, "session-phone-closed.png", full_page=False)

    # a closed session's page has no form at all, and the script still runs cleanly on it
    await page.reload()
    await joined(page)
    assert await page.locator("#ask-form").count() == 0
    assert await page.inner_text("#intake-notice") == closed
    assert viewer.errors == []


async def test_question_sent_offline_waits_in_the_outbox_and_is_sent_once(server: RunningServer,
                                                                          browser: Browser) -> None:
    session = await server.new_session()
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}")
    page = viewer.page
    await viewer.context.set_offline(True)  # Chromium drops the websocket too
    await page.wait_for_selector("#session[data-live=offline]", state="attached")
    assert "Mất kết nối" in await page.inner_text("#conn-status")

    await fill_question(page, text=QUESTION)
    await page.click("#send-button")
    item = page.locator(".outbox-item")
    await item.wait_for()
    assert "Chờ gửi lại khi có kết nối" in await item.inner_text()
    assert "đã được lưu trên máy này" in await page.inner_text("#ask-result")
    assert await page.input_value("#f-text") == ""
    waiting = await outbox(page)
    assert [i["payload"]["text"] for i in waiting] == [QUESTION]
    assert await server.store.register(session.id) == []
    await screenshot(page, "session-phone-outbox.png", full_page=False)

    await viewer.context.set_offline(False)
    code = page.locator("#ask-result .receipt-code")  # the box that said "saved" now has the receipt
    await code.wait_for(timeout=10000)
    receipt = await code.inner_text()
    assert await page.locator(".outbox-item").count() == 0
    register = await server.store.register(session.id)
    assert [(r["text"], r["receipt"], r["idempotency_key"]) for r in register] == [
        (QUESTION, receipt, waiting[0]["key"])]
    assert await outbox(page) == []
    await page.wait_for_function("() => document.getElementById('conn-status').textContent !== 'Mất kết nối, đang kết nối lại…'")
    assert viewer.unexpected_errors() == []


async def test_outbox_survives_closing_the_page(server: RunningServer, browser: Browser) -> None:
    """A question typed offline, the tab closed: the next visit (same phone) sends it."""
    session = await server.new_session()
    url = f"{server.url}/s/{session.id}"
    first = await open_viewer(browser, url)
    await first.context.set_offline(True)
    await first.page.wait_for_selector("#session[data-live=offline]", state="attached")
    await fill_question(first.page, text=QUESTION)
    await first.page.click("#send-button")
    await first.page.locator(".outbox-item").wait_for()
    await first.page.close()
    await first.context.set_offline(False)

    second = await open_viewer(browser, url, context=first.context)
    sent = second.page.locator(".outbox-item.status-sent a")  # a question from another page: listed
    await sent.wait_for()
    assert RECEIPT.match(await sent.inner_text())
    register = await server.store.register(session.id)
    assert [r["text"] for r in register] == [QUESTION]
    assert await outbox(second.page) == []
    assert second.unexpected_errors() == []


async def test_lost_acknowledgement_resend_makes_one_question(server: RunningServer, browser: Browser) -> None:
    """The server stores the question but the connection drops before its ack reaches the phone:
    the outbox resends it with the same idempotency key and the server answers with the same receipt."""
    session = await server.new_session()
    dropped: list[str] = []
    closing: list[asyncio.Task[None]] = []

    async def route(page: Page) -> None:
        async def handler(ws: WebSocketRoute) -> None:
            upstream = ws.connect_to_server()

            def from_server(message: str | bytes) -> None:
                if not dropped and isinstance(message, str) and '"receipt"' in message:
                    dropped.append(message)  # the ack is lost with the connection
                    closing.append(asyncio.create_task(ws.close()))
                    return
                ws.send(message)

            ws.on_message(lambda message: upstream.send(message))
            upstream.on_message(from_server)

        await page.route_web_socket(re.compile(r"/socket\.io/"), handler)

    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}", before=route)
    page = viewer.page
    await fill_question(page, text=QUESTION)
    await page.click("#send-button")
    code = page.locator("#ask-result .receipt-code")
    await code.wait_for(timeout=10000)
    receipt = await code.inner_text()
    assert dropped and receipt in dropped[0]  # the resend got the receipt of the first send
    register = await server.store.register(session.id)
    assert [(r["text"], r["receipt"]) for r in register] == [(QUESTION, receipt)]
    assert viewer.unexpected_errors() == []


async def test_falls_back_to_the_plain_form_when_websockets_never_connect(server: RunningServer,
                                                                          browser: Browser) -> None:
    """A network whose proxy lets pages through but answers websockets with something that is not
    Engine.IO: the script steps aside and the form posts as it does without JavaScript."""
    session = await server.new_session()

    async def block(page: Page) -> None:
        def handler(ws: WebSocketRoute) -> None:
            ws.send("<html>Blocked by policy</html>")

        await page.route_web_socket(re.compile(r"/socket\.io/"), handler)

    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}", before=block, wait_joined=False)
    page = viewer.page
    await page.wait_for_selector("#session[data-live=unreachable]", state="attached")
    assert "Mất kết nối" in await page.inner_text("#conn-status")
    await fill_question(page, text=QUESTION)
    await page.click("#send-button")
    await page.wait_for_url(re.compile(r"/q/[0-9A-Z-]+\?new=1$"))
    register = await server.store.register(session.id)
    assert [(r["text"], r["channel"]) for r in register] == [(QUESTION, "form")]
    assert viewer.unexpected_errors() == []


async def test_english_page_and_messages(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    question_id = await store_question(server, session.id, "Câu hỏi được duyệt, hiển thị cho người xem tiếng Anh?",
                                       name_shown="anonymous")
    await server.store.apply_action(question_id, "accept")
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}")
    page = viewer.page
    assert await page.get_attribute("html", "lang") == "vi"
    await page.click("a[lang=en]")
    await page.wait_for_load_state()
    await joined(page)
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("#ask-title") == "Send a question"
    item = page.locator(f"li[data-question-id='{question_id}']")
    assert await item.locator(".interest-label").inner_text() == "Interested"  # the script's words, too
    assert await item.locator(".q-asker").inner_text() == "Anonymous"
    await fill_question(page, phone="12345", text=QUESTION)
    await page.click("#send-button")
    await page.wait_for_selector("#e-phone")
    assert "Not a Vietnamese phone number" in await page.inner_text("#e-phone")  # the server's words, in English
    await screenshot(page, "session-phone-en.png", full_page=False)
    assert viewer.errors == []
