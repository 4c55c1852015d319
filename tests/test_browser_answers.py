"""The departments' side in a real browser (Debian's chromium through Playwright) against a real
server: a responder's day at /staff/answers (the routed question with its deadline, a draft, a PDF
reply letter, the submission) and the head's approvals (a return with a note from the console, the
responder's correction, an extension, the approval), then the public receipt page with the answer
and its file."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, FilePayload

from moderation.consent import Channel
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.keys import accounts_key
from tests.browser import DESKTOP, PHONE, open_viewer, screenshot
from tests.conftest import RunningServer, valid_payload
from tests.test_browser_staff import CONSOLE, PASSWORD, sign_in

pytestmark = pytest.mark.browser

BUILDING = "Sở Xây dựng"
QUESTION = "Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ tại quận Lê Chân mất bao nhiêu ngày?"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DRAFT = "Sở Xây dựng đang tổng hợp hồ sơ."
ANSWER = "Hồ sơ cấp giấy phép xây dựng nhà ở riêng lẻ được giải quyết trong 15 ngày kể từ ngày nhận đủ hồ sơ."
NOTE = "Cần nêu căn cứ pháp lý (Luật Xây dựng, Điều 102) và nơi nộp hồ sơ."
NATIONAL = "Đề nghị sửa quy định về cấp chứng chỉ hành nghề kiến trúc trên cả nước."
AGENCY = "Bộ Xây dựng"
CORRECTED = ANSWER + " Căn cứ: Luật Xây dựng, Điều 102; nộp tại Bộ phận một cửa quận Lê Chân."


async def test_a_responders_day_and_the_heads_approvals(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về xây dựng đô thị")
    receipt = await server.store.submit_question(parse_submission(valid_payload(session.id, text=QUESTION),
                                                                  channel=Channel.SOCKET))
    qid = receipt.question_id
    await server.store.apply_action(qid, "accept")
    await server.store.apply_action(qid, "route", department=BUILDING)
    other = await server.store.submit_question(parse_submission(valid_payload(session.id, text=NATIONAL),
                                                                channel=Channel.SOCKET))
    await server.store.apply_action(other.question_id, "decline", reason="outside_chair_remit")
    await server.store.transition_session(session.id, SessionState.CLOSED)  # the deadline starts (followup.py)
    due_on = (await server.store.get_question(qid)).due_on
    assert due_on is not None
    accounts = server.app[accounts_key]
    await accounts.add_user("sxd", "responder", PASSWORD, department=BUILDING)
    await accounts.add_user("truongban", "head", PASSWORD)

    # the responder signs in and finds the routed question with its deadline
    responder = await sign_in(browser, server, "sxd", "/staff/answers", viewport=PHONE, ready=f"#q-{qid}")
    page = responder.page
    due_text = await page.inner_text(f"#q-{qid}-due")
    assert due_on.strftime("%d/%m/%Y") in due_text and "15 ngày" in due_text
    assert QUESTION in await page.inner_text(f"#q-{qid}")

    # a draft, saved and not submitted
    await page.fill(f"#q-{qid}-answer", DRAFT)
    async with page.expect_navigation():
        await page.click(f"#q-{qid} button[value=draft_answer]")
    assert await page.inner_text("#rsp-status") == "Đã lưu nháp."
    assert await page.input_value(f"#q-{qid}-answer") == DRAFT
    assert await page.get_attribute(f"#q-{qid}", "data-state") == "routed"

    # a PDF reply letter
    letter: FilePayload = {"name": "Công văn trả lời.pdf", "mimeType": "application/pdf", "buffer": PDF}
    await page.set_input_files(f"#q-{qid}-file", files=[letter])
    async with page.expect_navigation():
        await page.click(f"#q-{qid} .rsp-upload button")
    assert await page.inner_text("#rsp-status") == "Đã đính kèm tệp."
    assert await page.inner_text(f"#q-{qid} .rsp-file") == "Cong-van-tra-loi.pdf"

    # the answer, submitted to the head
    await page.fill(f"#q-{qid}-answer", ANSWER)
    async with page.expect_navigation():
        await page.click(f"#q-{qid} button[value=answer]")
    assert await page.inner_text("#rsp-status") == "Đã gửi Trưởng Ban duyệt."
    assert await page.get_attribute(f"#q-{qid}", "data-state") == "prepared"
    await screenshot(page, "answers-responder.png")

    # the head's console: the card shows the deadline and the submission; the head returns it with a note
    head = await sign_in(browser, server, "truongban", f"/mod/{session.id}", viewport=CONSOLE,
                         ready="#console[data-live=joined]")
    card = head.page.locator(f"#qc-{qid}")
    await card.wait_for(state="attached", timeout=10000)
    follow = await card.locator(".qc-follow").inner_text()
    assert due_on.strftime("%d/%m/%Y") in follow and "Đã gửi duyệt (sxd)" in follow and "1 tệp" in follow
    await card.focus()
    await card.locator('button[data-action="return_answer"]').click()
    await head.page.wait_for_selector("#action-dialog[open]")
    assert ANSWER in await head.page.inner_text("#action-body")
    await head.page.click("#action-submit")  # an empty note is refused in the dialog
    assert await head.page.inner_text("#action-error") == "Vui lòng điền mục này."
    await head.page.fill("#dlg-return-note", NOTE)
    await head.page.click("#action-submit")
    await head.page.wait_for_selector("#action-dialog:not([open])", state="attached")
    await head.page.wait_for_selector(f"#cards-routed #qc-{qid}", state="attached")

    # the responder sees the note, corrects the answer and submits it again
    await page.reload()
    assert NOTE in await page.inner_text(f"#q-{qid}-returned")
    assert await page.input_value(f"#q-{qid}-answer") == ANSWER  # the draft is kept
    await page.fill(f"#q-{qid}-answer", CORRECTED)
    async with page.expect_navigation():
        await page.click(f"#q-{qid} button[value=answer]")
    assert await page.get_attribute(f"#q-{qid}", "data-state") == "prepared"

    # the head extends the deadline from the console (the asker is told), then approves on the list
    await head.page.wait_for_selector(f"#cards-prepared #qc-{qid}", state="attached")
    await card.focus()
    await card.locator('button[data-action="extend"]').click()
    await head.page.wait_for_selector("#action-dialog[open]")
    later = await head.page.input_value("#dlg-due")
    assert later > due_on.isoformat()
    await head.page.fill("#dlg-extend-note", "Chờ ý kiến của Sở Tư pháp về căn cứ pháp lý.")
    await head.page.click("#action-submit")
    await head.page.wait_for_selector("#action-dialog:not([open])", state="attached")
    assert (await server.store.get_question(qid)).due_on.isoformat() == later  # type: ignore[union-attr]

    # an outside-the-remit question was sent on: the board records to whom (the asker is told)
    await head.page.click(".lane-chip[data-lane=forwarded]")
    sent = head.page.locator(f"#cards-forwarded #qc-{other.question_id}")
    # the card first takes the focus (its key hints appear and widen its buttons), then the button
    await sent.focus()
    await sent.locator('button[data-action="forward"]').click()
    await head.page.wait_for_selector("#action-dialog[open]")
    await head.page.fill("#dlg-unit", AGENCY)
    await head.page.click("#action-submit")
    await head.page.wait_for_selector("#action-dialog:not([open])", state="attached")
    await head.page.wait_for_function(
        f"() => document.querySelector('#qc-{other.question_id} .qc-forwarded')?.textContent.includes('{AGENCY}')")
    assert (await server.store.get_question(other.question_id)).forwarded_to == AGENCY
    assert await sent.locator('button[data-action="forward"]').count() == 0  # once

    approvals = await open_viewer(browser, f"{server.url}/staff/answers?pending=1", viewport=DESKTOP,
                                  context=head.context, wait_joined=False)
    item = approvals.page.locator(f"#q-{qid}")
    assert CORRECTED in await item.inner_text() and "Cong-van-tra-loi.pdf" in await item.inner_text()
    await screenshot(approvals.page, "answers-approvals.png")
    async with approvals.page.expect_navigation():
        await approvals.page.click(f"#q-{qid}-approve")
    assert await approvals.page.inner_text("#rsp-status") == "Đã duyệt: trả lời đã công khai."
    assert await approvals.page.locator(f"#q-{qid}").count() == 0  # no longer waiting

    # the public receipt page: the answer, its file, the deadline met
    asker = await open_viewer(browser, f"{server.url}/q/{receipt.receipt}", viewport=PHONE, wait_joined=False)
    assert CORRECTED in await asker.page.inner_text("#q-answer")
    link = asker.page.locator("#q-answer a.q-file")
    assert await link.inner_text() == "Cong-van-tra-loi.pdf"
    fetched = await asker.page.request.get(server.url + str(await link.get_attribute("href")))
    assert fetched.status == 200 and await fetched.body() == PDF
    assert "đúng hạn" in await asker.page.inner_text("#q-due")
    await screenshot(asker.page, "answers-receipt.png")
    for viewer in (responder, head, approvals, asker):
        assert viewer.unexpected_errors() == [], viewer.errors
