"""The standing forum "Trao đổi và tháo gỡ" (Huế, QĐ 1834/2013, seed 000): a session of kind `forum`,
made by the command line and the staff API, that takes questions on any day, never goes live, takes
no video, and is closed (retired) by an administrator alone; the board's ordinary paths screen,
route, answer and approve its questions; its public page lists the approved answers, searched by
field and by words on the server; the register and the receipts are a session's; and each question
is due 5 working days after its receipt once it is accepted (moderation/followup.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from moderation import forum as forum_reads
from moderation import schema as s
from moderation.accounts import Accounts
from moderation.attachments import Attachments, receive
from moderation.consent import Channel
from moderation.roles import Actor, Role
from moderation.sessions import SessionDraft, SessionState
from moderation.submission import Submission, parse_submission
from server.i18n import message
from server.keys import accounts_key
from server.ui_text import ui
from tests.browser import PHONE, fill_question, open_viewer, screenshot
from tests.conftest import RunningServer, run_cli, valid_payload
from tests.staff import PASSWORD, Staff, no_identity, submit, until

TITLE = "Trao đổi và tháo gỡ"
CHAIR = "Nguyễn Văn Cao"
DEPARTMENT = "Sở Kế hoạch và Đầu tư"
LAND = "Xin hỏi thủ tục thuê đất trong cụm công nghiệp Phong Điền mất bao lâu?"
LAND_ANSWER = "Thời hạn giải quyết hồ sơ thuê đất là 30 ngày kể từ ngày nhận đủ hồ sơ hợp lệ."
TAX = "Doanh nghiệp mới thành lập được miễn giảm thuế thu nhập doanh nghiệp như thế nào?"
TAX_ANSWER = "Doanh nghiệp nhỏ và vừa được miễn thuế thu nhập doanh nghiệp 2 năm đầu theo quy định."
PENDING = "Khi nào tỉnh công bố quy hoạch khu công nghiệp La Sơn cho nhà đầu tư?"
PENDING_ANSWER = "Dự thảo: quy hoạch sẽ được công bố trong quý tới."


# ---- helpers ----

def cli(*args: str, data_dir: Path, check: bool = True, stdin: str | None = None) -> Any:
    result = run_cli(*args, data_dir=data_dir, check=check, stdin=stdin)
    return json.loads(result.stdout) if check else result


def both(reason: str, field: str | None = None, **params: Any) -> str:
    """The CLI's two lines for a refusal: Vietnamese, then English."""
    return "\n".join(f"doithoai: {message(reason, lang, field, **params)}" for lang in ("vi", "en"))


async def api(http: aiohttp.ClientSession, method: str, url: str, token: str | None,
              body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def act(http: aiohttp.ClientSession, server: RunningServer, who: Staff, qid: int, action: str,
              **params: Any) -> dict[str, Any]:
    version = (await server.store.get_question(qid)).version
    status, body = await api(http, "POST", f"{server.url}/api/v1/questions/{qid}/actions", who.token,
                             {"action": action, "version": version, **params})
    assert status == 200, body
    return dict(body)


async def new_forum(http: aiohttp.ClientSession, server: RunningServer, head: Staff, **extra: Any) -> dict[str, Any]:
    body = {"kind": "forum", "title": TITLE, "chair": CHAIR, "chair_position": "Phó Chủ tịch UBND tỉnh",
            "fields": ["Đất đai", "Thuế - tài chính", "Đầu tư - doanh nghiệp"], **extra}
    status, created = await api(http, "POST", f"{server.url}/api/v1/sessions", head.token, body)
    assert status == 201, created
    session: dict[str, Any] = created["session"]
    status, announced = await api(http, "POST", f"{server.url}/api/v1/sessions/{session['id']}/actions", head.token,
                                  {"action": "announce"})
    assert status == 200 and announced["session"]["state"] == "announced", announced
    return session


async def page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        assert resp.status == 200
        return await resp.text()


async def page_until(http: aiohttp.ClientSession, url: str, predicate: Callable[[str], bool]) -> str:
    """The page once it shows what `predicate` looks for: the counts are cached for 2 s and a
    session's change reaches the server's cache at its next poll."""
    text = ""
    for _ in range(100):
        text = await page(http, url)
        if predicate(text):
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never showed what was expected")


def listed(html: str) -> set[int]:
    """The question ids the forum page lists as answered."""
    return {int(n) for n in re.findall(r'class="question forum-item" data-question-id="(\d+)"', html)}


async def set_received(server: RunningServer, qid: int, at: datetime) -> None:
    """The receipt's time, injected (the clock is the one fake a test may use)."""
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.questions).where(s.questions.c.id == qid).values(received_at=at))


# ---- making a forum ----

def test_a_forum_is_made_and_kept_by_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # a dialogue still needs its start and its length; a forum has neither
    refused = cli("session", "create", "--title", "Đối thoại", "--chair", CHAIR, data_dir=data, check=False)
    assert refused.returncode == 1 and message("required", "vi", "start") in refused.stderr
    refused = cli("session", "create", "--kind", "forum", "--title", TITLE, "--chair", CHAIR, "--minutes", "90",
                  data_dir=data, check=False)
    assert refused.returncode == 1 and both("forum_no_minutes", "minutes") in refused.stderr
    refused = cli("session", "create", "--kind", "forum", "--rule-set", "hai_phong", "--title", TITLE, "--chair", CHAIR,
                  data_dir=data, check=False)
    assert refused.returncode == 1 and message("forum_bad_rule_set", "en", "rule_set", kind="forum",
                                               choices="hue_forum") in refused.stderr

    forum = cli("session", "create", "--kind", "forum", "--title", TITLE, "--chair", CHAIR, data_dir=data)
    assert (forum["kind"], forum["rule_set"], forum["minutes"], forum["ends_at"], forum["deadlines"]) == (
        "forum", "hue_forum", 0, None, [])
    assert forum["state"] == "draft"
    opened = datetime.fromisoformat(forum["starts_at"])
    assert abs((datetime.now(UTC) - opened).total_seconds()) < 120  # the day it opens: today
    fid = str(forum["id"])
    assert cli("session", "announce", fid, data_dir=data)["state"] == "announced"

    # no live hour, no video
    refused = cli("session", "start", fid, data_dir=data, check=False)
    assert refused.returncode == 1 and both("forum_no_live", "action") in refused.stderr
    refused = cli("stream", "source", fid, "--test-pattern", data_dir=data, check=False)
    assert refused.returncode == 1 and both("forum_no_video", "feed") in refused.stderr
    assert cli("stream", "source", fid, "--none", data_dir=data)["feed"] is None  # "no video" stays allowed

    # it never closes by itself; the head cannot close it; an administrator retires it
    run_cli("user", "add", "truongban", "--role", "head", stdin=PASSWORD + "\n", data_dir=data)
    refused = cli("session", "close", fid, "--as", "truongban", data_dir=data, check=False)
    assert refused.returncode == 1 and both("forum_retire_admin", "action", role="head") in refused.stderr
    assert cli("session", "show", fid, data_dir=data)["state"] == "announced"
    assert cli("session", "close", fid, data_dir=data)["state"] == "closed"
    entries = [json.loads(line) for line in run_cli("audit", "show", "--session", fid, data_dir=data).stdout.splitlines()]
    assert [e["action"] for e in entries if e["action"].startswith("session_")] == [
        "session_create", "session_announced", "session_closed"]


async def test_a_forum_is_made_by_the_staff_api(server: RunningServer, staff: Callable[..., Awaitable[Staff]],
                                               http: aiohttp.ClientSession) -> None:
    head = await staff("truongban", "head")
    editor = await staff("bientap", "editor")
    url = f"{server.url}/api/v1/sessions"
    status, body = await api(http, "POST", url, editor.token, {"kind": "forum", "title": TITLE, "chair": CHAIR})
    assert status == 403, body
    status, body = await api(http, "POST", url, head.token, {"kind": "standing", "title": TITLE, "chair": CHAIR})
    assert status == 400 and body["error"]["field"] == "kind"
    status, body = await api(http, "POST", url, head.token, {"kind": "forum", "title": TITLE, "chair": CHAIR,
                                                            "minutes": 90})
    assert status == 400 and body["error"]["field"] == "minutes"
    status, body = await api(http, "POST", url, head.token, {"title": "Đối thoại", "chair": CHAIR, "minutes": 90,
                                                            "start": "2030-01-01T09:00:00+07:00"})
    assert status == 201 and (body["session"]["kind"], body["session"]["rule_set"]) == ("dialogue", "hai_phong")

    forum = await new_forum(http, server, head)
    assert (forum["kind"], forum["rule_set"], forum["minutes"]) == ("forum", "hue_forum", 0)
    sid = forum["id"]
    status, public = await api(http, "GET", f"{server.url}/api/v1/sessions/{sid}", None)
    assert status == 200 and public["kind"] == "forum" and public["intake_open"] and public["ends_at"] is None

    # the session actions that do not apply, refused with the reason, before anything is written
    actions = f"{server.url}/api/v1/sessions/{sid}/actions"
    status, body = await api(http, "POST", actions, head.token, {"action": "start"})
    assert status == 409 and body["error"]["message"] == message("forum_no_live", "vi", "action")
    status, body = await api(http, "POST", actions, head.token, {"action": "approve_script"})
    assert status == 409 and body["error"]["message"] == message("forum_no_script", "vi", "action")
    status, body = await api(http, "POST", actions, head.token, {"action": "close"})
    assert status == 403 and body["error"]["message"] == message("forum_retire_admin", "vi", "action", role="head")
    status, body = await api(http, "PUT", f"{server.url}/api/v1/staff/sessions/{sid}/stream", head.token,
                             {"feed": "test"})
    assert status == 409 and body["error"]["message"] == message("forum_no_video", "vi", "feed")
    session = await server.store.get_session(sid)
    assert (session.state, session.feed, session.script_approved_at) == (SessionState.ANNOUNCED, None, None)
    async with server.store.read_engine.connect() as conn:
        created = (await conn.execute(select(s.audit_log.c.actor, s.audit_log.c.detail)
                                      .where(s.audit_log.c.session_id == sid)
                                      .where(s.audit_log.c.action == "session_create"))).one()
    assert created.actor == "truongban" and '"kind": "forum"' in json.dumps(created.detail)


# ---- the forum at work ----

async def test_the_board_answers_a_forum_and_its_page_publishes_what_the_head_approved(
        server: RunningServer, staff: Callable[..., Awaitable[Staff]], viewer_client: Callable[..., Awaitable[Any]],
        http: aiohttp.ClientSession) -> None:
    head = await staff("truongban", "head")
    editor = await staff("bientap", "editor")
    responder = await staff("sokhdt", "responder", department=DEPARTMENT)
    forum = await new_forum(http, server, head)
    sid = forum["id"]

    # any day: a question over Socket.IO and one by the page's form without JavaScript
    viewer = await viewer_client(server.url)
    land_ack = await submit(viewer, sid, text=LAND)
    land = land_ack["question_id"]
    pending = (await submit(viewer, sid, text=PENDING))["question_id"]
    form_page = await page(http, f"{server.url}/s/{sid}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form_page)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form_page)
    assert csrf and key
    form = {"csrf": csrf[1], "idempotency_key": key[1], "kind": "organization", "name": "Công ty TNHH Hương Giang",
            "address": "12 Lê Lợi, thành phố Huế", "phone": "0905 111 222", "name_shown": "full",
            "field": "Thuế - tài chính", "text": TAX, "consent": "on"}
    async with http.post(f"{server.url}/s/{sid}/questions", data=form, allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
        tax_receipt = resp.headers["Location"].removeprefix("/q/").removesuffix("?new=1")
    tax = (await server.store.question_by_receipt(tax_receipt))[0].id
    # the form's errors come back on the forum's page, not a session's
    async with http.post(f"{server.url}/s/{sid}/questions", data={**form, "text": ""}) as resp:
        assert resp.status == 400
        again = await resp.text()
    assert 'id="forum-search"' in again and 'id="video"' not in again
    assert message("required_text", "vi") in again

    # the 5-working-day clock from the receipt: a question sent on Saturday 5 December 2026 is due on
    # Friday the 11th (Monday 7 to Friday 11: five working days)
    await set_received(server, land, datetime(2026, 12, 5, 9, 30, tzinfo=UTC))
    editor_ack = await editor.join(sid)
    assert editor_ack["ok"]
    for qid in (land, tax, pending):
        assert (await act(http, server, editor, qid, "accept"))["ok"]
    accepted = await server.store.get_question(land)
    assert (accepted.due_on, accepted.due_rule, accepted.due_from) == (
        date(2026, 12, 11), "hue_forum.forum_answer", date(2026, 12, 5))
    # the date the forum's page promises is on the asker's receipt page
    assert 'data-due="2026-12-11" data-rule="hue_forum.forum_answer"' in await page(
        http, f"{server.url}/q/{land_ack['receipt']}")
    await act(http, server, editor, land, "classify", field="Đất đai")
    await act(http, server, editor, pending, "classify", field="Đầu tư - doanh nghiệp")

    # routed to the department, which answers; the head approves
    for qid in (land, pending):
        await act(http, server, editor, qid, "route", department=DEPARTMENT)
    await until(lambda: editor.questions.get(land, {}).get("state") == "routed")
    letter = Attachments(server.store, server.settings.data_dir)  # the department's reply letter
    upload = await receive(server.settings.data_dir, "cong-van-tra-loi.pdf", _chunks(b"%PDF-1.4 tra loi\n%%EOF\n"))
    attached = await letter.add(land, upload, Actor("sokhdt", Role.RESPONDER, department=DEPARTMENT))
    await act(http, server, responder, land, "answer", answer=LAND_ANSWER)
    await act(http, server, responder, pending, "answer", answer=PENDING_ANSWER)  # not approved: stays off the page
    await act(http, server, editor, tax, "answer", answer=TAX_ANSWER)
    for qid in (land, tax):
        assert (await act(http, server, head, qid, "approve_answer"))["question"]["state"] == "answered_in_writing"
    done = await server.store.get_question(land)
    assert done.due_done_at is not None  # the step the rule asks for is met
    # the same notifications as a session's: the department told of its routing, the asker of the answer
    async with server.store.read_engine.connect() as conn:
        told = {(r.audience, r.kind, r.channel) for r in await conn.execute(
            select(s.notifications.c.audience, s.notifications.c.kind, s.notifications.c.channel)
            .where(s.notifications.c.question_id == land))}
    assert ("department", "routed", "email") in told and ("asker", "answered_in_writing", "receipt") in told

    # the public page: the approved answers, not the one waiting for the head, no identity
    html = await page(http, f"{server.url}/s/{sid}")
    assert listed(html) == {land, tax}
    assert LAND_ANSWER in html and TAX_ANSWER in html and PENDING not in html and PENDING_ANSWER not in html
    assert f'href="/a/{attached.id}/cong-van-tra-loi.pdf"' in html  # the letter, downloadable once approved
    assert f'{ui("forum_answered_by", "vi")}: <span lang="vi">{DEPARTMENT}</span>' in html  # who answered
    assert "111 222" not in html and "Lê Lợi" not in html and "Lạch Tray" not in html and "Công ty TNHH Hương Giang" in html  # the name as shown
    assert 'id="video"' not in html and "/live/" not in html and "viewer.js" not in html
    assert "05 ngày làm việc" in html  # the promise, with the rule's days
    # search by field, by words without diacritics, both; the others are filtered out
    assert listed(await page(http, f"{server.url}/s/{sid}?field=Đất+đai")) == {land}
    assert listed(await page(http, f"{server.url}/s/{sid}?q=thue+thu+nhap")) == {tax}
    assert listed(await page(http, f"{server.url}/s/{sid}?q=cum+cong+nghiep&field=Đất+đai")) == {land}
    nothing = await page(http, f"{server.url}/s/{sid}?q=cum+cong+nghiep&field=Thuế+-+tài+chính")
    assert listed(nothing) == set() and ui("forum_none_found", "vi") in nothing
    assert listed(await page(http, f"{server.url}/s/{sid}?field=not-a-field&page=x")) == {land, tax}  # ignored

    # the transparency counts
    text = await page_until(http, f"{server.url}/s/{sid}", lambda t: 'data-stat="answered_in_writing">2<' in t)
    assert 'data-stat="received">3<' in text and 'data-stat="accepted">3<' in text

    # the receipts and the register, as for a session
    status, receipt = await api(http, "GET", f"{server.url}/api/v1/receipts/{tax_receipt}", None)
    assert status == 200 and receipt["state"] == "answered_in_writing" and receipt["answer"] == TAX_ANSWER
    no_identity(receipt)
    assert TAX_ANSWER in await page(http, f"{server.url}/q/{tax_receipt}")
    status, _ = await api(http, "GET", f"{server.url}/api/v1/sessions/{sid}/register.json?identities=masked",
                          editor.token)
    assert status == 200
    async with http.get(f"{server.url}/api/v1/sessions/{sid}/register.json",
                        params={"reason": "Đối chiếu sổ tiếp nhận diễn đàn"},
                        headers={"Authorization": f"Bearer {head.token}"}) as resp:
        assert resp.status == 200
        register = json.loads(await resp.read())
    by_id = {r["question_id"]: r for r in register["register"]}
    assert set(by_id) == {land, tax, pending}
    assert by_id[tax]["asker"]["name"] == "Công ty TNHH Hương Giang" and by_id[tax]["channel"] == "form"
    assert by_id[land]["confirmed_by"] == "bientap" and by_id[land]["department"] == DEPARTMENT

    # /forum lists it; a retired forum moves to the second list and its page keeps the answers
    listing = await page(http, f"{server.url}/forum")
    assert f'href="/s/{sid}"' in listing and TITLE in listing
    await server.store.transition_session(sid, SessionState.CLOSED)  # the administrator (command line)
    listing = await page_until(http, f"{server.url}/forum", lambda t: 'id="retired-forums"' in t)
    assert 'id="retired-forums"' in listing and 'id="no-forums"' in listing
    retired = await page_until(http, f"{server.url}/s/{sid}", lambda t: 'id="ask-form"' not in t)
    assert listed(retired) == {land, tax} and ui("forum_retired_notice", "vi") in retired


async def test_the_answers_come_a_page_at_a_time_and_the_search_stays_with_the_pages(
        server: RunningServer, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forum_reads, "PAGE_SIZE", 2)
    forum = await server.store.create_session(SessionDraft(TITLE, CHAIR, None, None, kind="forum", fields=["Đất đai"]))
    await server.store.transition_session(forum.id, SessionState.ANNOUNCED)
    head = Actor("truongban", Role.HEAD)
    for n in range(5):
        qid = (await server.store.submit_question(_submission(forum.id, f"Câu hỏi thứ {n} về giá đất năm 2027"))).question_id
        await server.store.apply_action(qid, "accept")
        await server.store.apply_action(qid, "answer", answer=f"Trả lời câu hỏi thứ {n}.")
        await server.store.apply_action(qid, "approve_answer", actor=head)
    newest = await page(http, f"{server.url}/s/{forum.id}?q=gia+dat")
    assert len(listed(newest)) == 2 and "Trả lời câu hỏi thứ 4." in newest  # newest answer first
    assert ui("forum_page_of", "vi", page=1, pages=3) in newest
    assert 'href="?q=gia+dat&amp;page=2#answers" rel="next"' in newest
    last = await page(http, f"{server.url}/s/{forum.id}?q=gia+dat&page=3")
    assert len(listed(last)) == 1 and "Trả lời câu hỏi thứ 0." in last and 'rel="next"' not in last
    beyond = await page(http, f"{server.url}/s/{forum.id}?q=gia+dat&page=99")
    assert listed(beyond) == listed(last)  # past the end: the last page


async def test_the_console_of_a_forum_has_no_live_lanes_and_no_start(
        server: RunningServer, staff: Callable[..., Awaitable[Staff]], http: aiohttp.ClientSession) -> None:
    head = await staff("truongban", "head")
    forum = await new_forum(http, server, head)
    dialogue = await server.new_session(SessionState.ANNOUNCED)
    accounts: Accounts = server.app[accounts_key]
    signed = await accounts.sign_in("truongban", PASSWORD, client="127.0.0.1")
    cookies = {"doithoai_staff": signed.token}
    async with aiohttp.ClientSession(cookies=cookies) as browser_like:
        async with browser_like.get(f"{server.url}/mod/{forum['id']}") as resp:
            assert resp.status == 200
            console = await resp.text()
        async with browser_like.get(f"{server.url}/mod/{dialogue.id}") as resp:
            ordinary = await resp.text()
    live = re.compile(r'<div class="board-group board-live" hidden>')
    assert live.search(console) and not live.search(ordinary)
    assert 'id="session-start"' not in console and 'id="session-start"' in ordinary
    assert 'id="session-close"' not in console  # the head does not retire a forum
    assert 'id="approve-script"' not in console and 'id="approve-script"' in ordinary
    assert 'id="forum-note"' in console and 'id="lane-received"' in console
    # the work lanes take the live lanes' room (static/css/forum-console.css, static/js/moderator.js)
    assert 'class="board board-forum"' in console and "forum-console.css" in console
    assert 'class="board"' in ordinary and "forum-console.css" not in ordinary


# ---- in a browser ----

@pytest.mark.browser
async def test_the_forum_page_on_a_phone(server: RunningServer, staff: Callable[..., Awaitable[Staff]],
                                         http: aiohttp.ClientSession, browser: Any) -> None:
    head = await staff("truongban", "head")
    editor = await staff("bientap", "editor")
    forum = await new_forum(http, server, head)
    sid = forum["id"]
    ids = []
    for text, field, answer in ((LAND, "Đất đai", LAND_ANSWER), (TAX, "Thuế - tài chính", TAX_ANSWER)):
        receipt = await server.store.submit_question(_submission(sid, text))
        await act(http, server, editor, receipt.question_id, "accept")
        await act(http, server, editor, receipt.question_id, "classify", field=field)
        await act(http, server, editor, receipt.question_id, "answer", answer=answer)
        await act(http, server, head, receipt.question_id, "approve_answer")
        ids.append(receipt.question_id)

    viewer = await open_viewer(browser, f"{server.url}/s/{sid}", viewport=PHONE, wait_joined=False)
    p = viewer.page
    assert await p.locator("#forum-list > li").count() == 2
    assert await p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # nothing off the side
    await screenshot(p, "forum-phone.png")
    # search by field with the page's own GET form
    await p.select_option("#s-field", "Đất đai")
    async with p.expect_navigation():
        await p.click("#search-button")
    assert "field=" in p.url
    assert await p.locator("#forum-list > li").count() == 1
    assert LAND_ANSWER in await p.locator("#forum-list").inner_text()
    # by words, diacritics left out
    await p.select_option("#s-field", "")
    await p.fill("#s-q", "mien giam thue")
    async with p.expect_navigation():
        await p.press("#s-q", "Enter")
    assert [int(x) for x in await p.locator("#forum-list > li").evaluate_all(
        "items => items.map(li => li.dataset.questionId)")] == [ids[1]]
    # a question sent on any day, through the same form, to its receipt page
    await p.goto(f"{server.url}/s/{sid}")
    await fill_question(p, text="Doanh nghiệp cần giấy tờ gì để được hỗ trợ lãi suất vay vốn?")
    async with p.expect_navigation():
        await p.click("#send-button")
    assert "/q/" in p.url
    assert await p.locator(".receipt-code").count() >= 1
    assert viewer.unexpected_errors() == []


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _submission(session_id: int, text: str) -> Submission:
    return parse_submission(valid_payload(session_id, text=text), channel=Channel.SOCKET)


async def test_nothing_on_a_forum_is_queued_or_aired(server: RunningServer, staff: Callable[..., Awaitable[Staff]],
                                                     viewer_client: Callable[..., Awaitable[Any]],
                                                     http: aiohttp.ClientSession) -> None:
    """The state table knows a forum has no live hour: its cards offer neither queue nor air, and the
    API refuses both before anything is written."""
    head = await staff("truongban", "head")
    editor = await staff("bientap", "editor")
    forum = await new_forum(http, server, head)
    qid = (await submit(await viewer_client(server.url), forum["id"], text=LAND))["question_id"]
    await act(http, server, editor, qid, "accept")
    await editor.join(forum["id"])
    card = editor.questions[qid]
    assert "queue" not in card["actions"] and "air" not in card["actions"] and "route" in card["actions"]
    for action in ("queue", "air"):
        version = (await server.store.get_question(qid)).version
        status, body = await api(http, "POST", f"{server.url}/api/v1/questions/{qid}/actions", editor.token,
                                 {"action": action, "version": version})
        assert status == 409, body
    assert (await server.store.get_question(qid)).state.value == "accepted"
