"""Questions received by phone, e-mail, letter or in person, entered by an officer of the editorial
board (issue 13; Hải Phòng Điều 8.1-8.2): `POST /api/v1/sessions/{id}/questions` with `channel` and a
board member's credential, and the staff page `/staff/intake/{id}`. Against a real server on a real
port, a real SQLite file, and Debian's chromium for the page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser
from sqlalchemy import select

from moderation import audit
from moderation import schema as s
from moderation.consent import CURRENT_CONSENT, Channel
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.keys import accounts_key
from tests.browser import DESKTOP, RECEIPT, log_in, open_viewer, screenshot
from tests.conftest import RunningServer, run_cli, valid_payload, wait_for
from tests.staff import Staff
from tests.test_authorization import DOCS, Callers, callers, documented, walk  # noqa: F401  (the fixture)

PASSWORD = "mật khẩu đủ dài 123"
REASON = "đối chiếu với sổ giấy của Ban Biên tập"
LETTER_TEXT = "Đề nghị cho biết khi nào đường Lạch Tray được sửa lại mặt đường sau khi thi công cống?"


async def token(server: RunningServer, name: str, role: str, department: str | None = None) -> dict[str, str]:
    accounts = server.app[accounts_key]
    await accounts.add_user(name, role, PASSWORD, department=department)
    return {"Authorization": f"Bearer {(await accounts.issue_token(name))['token']}"}


def questions_url(server: RunningServer, session_id: int) -> str:
    return f"{server.url}/api/v1/sessions/{session_id}/questions"


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    async with http.post(url, json=body, headers=headers or {}) as resp:
        return resp.status, await resp.json()


async def register_csv(http: aiohttp.ClientSession, server: RunningServer, session_id: int,
                       headers: dict[str, str]) -> list[dict[str, str]]:
    async with http.get(f"{server.url}/api/v1/sessions/{session_id}/register.csv", headers=headers,
                        params={"reason": REASON}) as resp:
        assert resp.status == 200, await resp.text()
        text = await resp.text()
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def register_xlsx(http: aiohttp.ClientSession, server: RunningServer, session_id: int,
                        headers: dict[str, str]) -> list[dict[str, Any]]:
    async with http.get(f"{server.url}/api/v1/sessions/{session_id}/register.xlsx", headers=headers,
                        params={"reason": REASON}) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.read()
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def stored_count(server: RunningServer, session_id: int) -> int:
    return len(await server.store.register(session_id))


async def sign_in_cookie(server: RunningServer, http: aiohttp.ClientSession, name: str, role: str) -> str:
    """Signs `name` in through /login; returns the staff CSRF token of the staff home."""
    await server.app[accounts_key].add_user(name, role, PASSWORD)
    async with http.get(f"{server.url}/login") as resp:
        form_token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert form_token
    async with http.post(f"{server.url}/login", allow_redirects=False,
                         data={"name": name, "password": PASSWORD, "csrf": form_token.group(1),
                               "next": "/staff"}) as resp:
        assert resp.status == 303
    async with http.get(f"{server.url}/staff") as resp:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', await resp.text())
    assert csrf
    return csrf.group(1)


# ---- the API ----


async def test_a_phone_question_is_in_the_register_with_its_officer_and_channel(
        server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về giao thông")
    editor = await token(server, "Trần Thị Bích", "editor")
    # a web question, accepted by another officer: its receiving officer is the one who accepted it
    web = await server.store.submit_question(parse_submission(valid_payload(session.id), channel=Channel.SOCKET))
    head = await token(server, "Lê Văn Trưởng", "head")
    await server.store.apply_action(web.question_id, "accept", actor=await server.app[accounts_key].token_actor(
        head["Authorization"].removeprefix("Bearer ")))

    body = valid_payload(session.id, channel="phone", field="Giao thông")
    status, ack = await post(http, questions_url(server, session.id), body, editor)
    assert status == 201, ack
    assert ack["ok"] and RECEIPT.match(ack["receipt"]) and ack["channel"] == "phone"
    assert ack["officer"] == "Trần Thị Bích" and ack["number"] == 2
    assert ack["receipt_url"].endswith(f"/q/{ack['receipt']}")
    # what the officer reads out: Vietnamese first, with the receipt and where to follow it
    assert ack["readout"]["vi"].startswith("Ban Biên tập đã tiếp nhận câu hỏi của ông/bà qua điện thoại")
    assert ack["receipt"] in ack["readout"]["vi"] and ack["receipt_url"] in ack["readout"]["vi"]
    assert "by phone" in ack["readout"]["en"]

    rows = {r["receipt"]: r for r in await register_csv(http, server, session.id, editor)}
    assert rows[ack["receipt"]]["channel"] == "phone"
    assert rows[ack["receipt"]]["received_by"] == "Trần Thị Bích"
    assert rows[ack["receipt"]]["asker_phone"] == "0912345678"  # the same validation and normalising
    assert rows[web.receipt]["channel"] == Channel.SOCKET
    assert rows[web.receipt]["received_by"] == rows[web.receipt]["confirmed_by"] == "Lê Văn Trưởng"

    # the command line's copy says the same
    out = run_cli("questions", "export", str(session.id), "--format", "csv", "--reason", REASON,
                  data_dir=server.settings.data_dir).stdout
    cli_rows = {r["receipt"]: r for r in csv.DictReader(io.StringIO(out.removeprefix("\ufeff")))}
    assert cli_rows[ack["receipt"]]["received_by"] == "Trần Thị Bích" and cli_rows[ack["receipt"]]["channel"] == "phone"

    sheet = {r["Mã tra cứu"]: r for r in await register_xlsx(http, server, session.id, editor)}
    assert sheet[ack["receipt"]]["Cán bộ tiếp nhận"] == "Trần Thị Bích"
    assert sheet[ack["receipt"]]["Kênh gửi"] == "phone"
    assert sheet[web.receipt]["Cán bộ tiếp nhận"] == "Lê Văn Trưởng"

    # the entry is a change by staff: audited, without the asker's data
    async with server.store.read_engine.connect() as conn:
        entries = [e for e in await conn.run_sync(audit.entries) if e["action"] == "question_entered"]
        assert (await conn.run_sync(audit.verify)).ok
    assert len(entries) == 1
    assert entries[0]["actor"] == "Trần Thị Bích" and entries[0]["role"] == "editor"
    assert entries[0]["question_id"] == ack["question_id"] and entries[0]["detail"]["channel"] == "phone"
    assert "0912" not in str(entries[0]) and "Lạch Tray" not in str(entries[0])


async def test_the_consent_is_recorded_as_given_to_the_officer(server: RunningServer,
                                                                http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.ANNOUNCED)
    editor = await token(server, "Phạm Văn Cường", "editor")
    status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id, channel="letter"),
                             editor)
    assert status == 201, ack
    web = await server.store.submit_question(parse_submission(valid_payload(session.id), channel=Channel.SOCKET))
    async with server.store.read_engine.connect() as conn:
        consents = {r.question_id: r for r in await conn.execute(select(s.consent_records))}
        entered = {r.id: r.entered_by for r in await conn.execute(select(s.questions.c.id, s.questions.c.entered_by))}
    assert consents[ack["question_id"]].channel == "letter"
    assert consents[ack["question_id"]].officer == "Phạm Văn Cường"
    assert consents[ack["question_id"]].consent_version == CURRENT_CONSENT
    assert entered[ack["question_id"]] == "Phạm Văn Cường"
    assert consents[web.question_id].officer is None and entered[web.question_id] is None


async def test_a_resend_gets_the_same_receipt_and_a_reused_key_does_not(server: RunningServer,
                                                                        http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    editor = await token(server, "Đỗ Thị Hoa", "editor")
    body = valid_payload(session.id, channel="email")
    first = await post(http, questions_url(server, session.id), body, editor)
    again = await post(http, questions_url(server, session.id), body, editor)
    assert first[0] == again[0] == 201
    assert again[1]["receipt"] == first[1]["receipt"] and again[1]["question_id"] == first[1]["question_id"]
    assert again[1]["readout"] == first[1]["readout"]
    status, other = await post(http, questions_url(server, session.id), {**body, "text": LETTER_TEXT}, editor)
    assert status == 400 and other["error"]["field"] == "idempotency_key"
    assert await stored_count(server, session.id) == 1
    # after the close, the resend of what was stored before it still gets its receipt
    await server.store.transition_session(session.id, SessionState.CLOSED)
    status, late = await post(http, questions_url(server, session.id), body, editor)
    assert status == 201 and late["receipt"] == first[1]["receipt"]
    status, refused = await post(http, questions_url(server, session.id),
                                 valid_payload(session.id, channel="email"), editor)
    assert status == 409 and refused["error"]["code"] == "session_closed"


async def test_a_viewer_cannot_claim_a_channel(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    async with http.get(f"{server.url}/s/{session.id}") as resp:  # a viewer's cookies
        assert resp.status == 200
    status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id, channel="letter"))
    assert status == 401 and ack["error"]["field"] == "channel", ack
    assert "Ban Biên tập" in ack["error"]["message"]
    # a made-up token is no credential either
    status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id, channel="phone"),
                             {"Authorization": "Bearer not-a-token"})
    assert status == 401 and ack["error"]["field"] == "channel"
    assert await stored_count(server, session.id) == 0
    # without `channel` the same viewer's question is taken as ever, through the API channel
    status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id))
    assert status == 201
    assert (await server.store.register(session.id))[0]["channel"] == Channel.API


async def test_a_viewer_socket_cannot_claim_a_channel_either(server: RunningServer,
                                                             viewer_client: Callable[..., Awaitable[Any]]) -> None:
    session = await server.new_session(SessionState.LIVE)
    viewer = await viewer_client(server.url)
    ack = await viewer.call("submit_question", valid_payload(session.id, channel="in_person"), namespace="/viewer",
                            timeout=10)
    assert not ack["ok"] and ack["error"]["code"] == "unauthorized" and ack["error"]["field"] == "channel", ack
    assert await stored_count(server, session.id) == 0


@pytest.mark.parametrize("role", ["chair", "responder"])
async def test_a_chair_or_responder_credential_is_refused(server: RunningServer, http: aiohttp.ClientSession,
                                                          role: str) -> None:
    session = await server.new_session(SessionState.LIVE)
    headers = await token(server, f"dt-{role}", role, department="Sở Giao thông" if role == "responder" else None)
    status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id, channel="phone"),
                             headers)
    assert status == 403 and ack["error"]["field"] == "channel", ack
    assert await stored_count(server, session.id) == 0


async def test_a_signed_in_officer_needs_the_csrf_token_and_a_known_channel(server: RunningServer,
                                                                           http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    csrf = await sign_in_cookie(server, http, "Vũ Thị Lan", "head")
    url = questions_url(server, session.id)
    status, ack = await post(http, url, valid_payload(session.id, channel="phone"))
    assert status == 403 and ack["error"]["field"] == "csrf"
    status, ack = await post(http, url, valid_payload(session.id, channel="fax"), {"X-CSRF-Token": csrf})
    assert status == 400 and ack["error"]["field"] == "channel"
    assert await stored_count(server, session.id) == 0
    status, ack = await post(http, url, valid_payload(session.id, channel="in_person"), {"X-CSRF-Token": csrf})
    assert status == 201 and ack["officer"] == "Vũ Thị Lan" and ack["channel"] == "in_person"


async def test_forty_letters_are_not_held_to_a_viewers_rate_limit(
        start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> None:
    server = await start_server(questions_per_ip_burst=3, questions_per_ip_per_minute=1)
    session = await server.new_session(SessionState.LIVE)
    editor = await token(server, "Ngô Thị Mai", "editor")
    url = questions_url(server, session.id)
    for i in range(40):
        status, ack = await post(http, url, valid_payload(session.id, channel="letter", text=f"{LETTER_TEXT} ({i})"),
                                 editor)
        assert status == 201, (i, ack)
    # the officer's letters took nothing from the address's allowance: a viewer there still has it all
    for _ in range(3):
        assert (await post(http, url, valid_payload(session.id)))[0] == 201
    status, ack = await post(http, url, valid_payload(session.id))
    assert status == 429 and ack["error"]["code"] == "rate_limited"
    assert await stored_count(server, session.id) == 43


async def test_an_entry_needs_intake_open(server: RunningServer, http: aiohttp.ClientSession) -> None:
    editor = await token(server, "Hoàng Văn Nam", "editor")
    await sign_in_cookie(server, http, "Hoàng Thị Yến", "editor")
    for state, code in ((SessionState.DRAFT, "session_not_open"), (SessionState.CLOSED, "session_closed")):
        session = await server.new_session(state)
        status, ack = await post(http, questions_url(server, session.id), valid_payload(session.id, channel="phone"),
                                 editor)
        assert status == 409 and ack["error"]["code"] == code, ack
        assert await stored_count(server, session.id) == 0
        async with http.get(f"{server.url}/staff/intake/{session.id}") as resp:  # the page says so, no form
            html = await resp.text()
        assert resp.status == 200 and 'id="oi-closed"' in html and 'id="oi-form"' not in html


# ---- the staff page ----


@pytest.mark.browser
async def test_the_page_enters_a_letter_shows_the_receipt_and_the_console_gets_it(
        server: RunningServer, browser: Browser, http: aiohttp.ClientSession,
        staff: Callable[..., Awaitable[Staff]]) -> None:
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về giao thông đô thị")
    console = await staff("bt-console", "editor")
    await console.join(session.id)
    await server.app[accounts_key].add_user("Bùi Thị Thu", "editor", PASSWORD)
    viewer = await open_viewer(browser, f"{server.url}/login?next=/staff/intake/{session.id}", viewport=DESKTOP,
                               wait_joined=False)
    page = viewer.page
    await log_in(page, "Bùi Thị Thu", PASSWORD, f"/staff/intake/{session.id}", "#oi-form")
    assert (await page.text_content("#oi-officer")) == "Bùi Thị Thu"

    await page.click("#oi-submit")  # nothing filled in: every problem beside its field
    await page.wait_for_selector("#oi-e-channel")
    assert "Hãy chọn câu hỏi được nhận qua kênh nào." in (await page.text_content("#oi-e-channel") or "")
    assert await page.get_attribute("#oi-name", "aria-invalid") == "true"
    assert await stored_count(server, session.id) == 0
    viewer.errors.clear()  # the browser's own line for the form's 400 answer
    await screenshot(page, "officer-intake-errors.png")
    await page.check("#oi-channel-letter")
    await page.fill("#oi-name", "Đặng Văn Khoa")
    await page.fill("#oi-address", "25 Lạch Tray, Ngô Quyền, Hải Phòng")
    await page.fill("#oi-phone", "0987 654 321")
    await page.select_option("#oi-field", "Giao thông")
    await page.fill("#oi-text", LETTER_TEXT)
    await page.check("#oi-consent")
    async with page.expect_navigation():
        await page.click("#oi-submit")
    receipt = (await page.text_content("#oi-receipt") or "").strip()
    assert RECEIPT.match(receipt), receipt
    assert (await page.text_content("#oi-channel") or "").strip() == "Thư (bưu điện)"
    assert receipt in (await page.text_content("#oi-readout") or "")
    assert await page.is_visible("#oi-print")  # the script added the print button
    assert viewer.unexpected_errors() == []
    await screenshot(page, "officer-intake-slip.png")
    await page.emulate_media(media="print")
    await screenshot(page, "officer-intake-slip-print.png")
    await page.emulate_media(media="screen")

    # in the console's feed like any other question, with its channel
    question_id = await server.store.question_by_receipt(receipt)
    qid = question_id[0].id
    await wait_for(lambda: qid in console.questions)
    assert console.questions[qid]["channel"] == "letter" and console.questions[qid]["text"] == LETTER_TEXT
    row = next(r for r in await server.store.register(session.id) if r["receipt"] == receipt)
    assert row["asker"]["name"] == "Đặng Văn Khoa" and row["asker"]["phone"] == "0987654321"

    # reloading the slip posts nothing again
    await page.reload()
    assert await stored_count(server, session.id) == 1

    # the console links to the page
    await page.click("text=Về bàn điều phối")
    await page.wait_for_selector("#console[data-live=joined]", state="attached", timeout=10000)
    await screenshot(page, "officer-intake-console.png", full_page=False)
    async with page.expect_navigation():
        await page.click("#oi-open")
    assert page.url.endswith(f"/staff/intake/{session.id}")


async def test_the_page_posted_twice_gives_one_receipt(server: RunningServer, http: aiohttp.ClientSession) -> None:
    """A double click or a retried post carries the form's key: the same receipt, one question. The
    slip is for questions an officer entered: a web question's receipt shows nothing there."""
    session = await server.new_session(SessionState.LIVE)
    await sign_in_cookie(server, http, "Lý Thị Ngọc", "editor")
    page_url = f"{server.url}/staff/intake/{session.id}"
    async with http.get(f"{server.url}/staff") as resp:  # the staff home links to it
        assert f'href="/staff/intake/{session.id}"' in await resp.text()
    async with http.get(page_url) as resp:
        html = await resp.text()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert key and csrf
    form = {"csrf": csrf.group(1), "idempotency_key": key.group(1), "channel": "in_person", "kind": "person",
            "name": "Trịnh Văn Long", "address": "3 Cầu Đất, Ngô Quyền, Hải Phòng", "phone": "0904 111 222",
            "email": "long.trinh@example.vn",
            "name_shown": "short", "field": "", "text": LETTER_TEXT, "consent": "on", "consent_version": CURRENT_CONSENT}
    async with http.post(page_url, data={**form, "email": "long.trinh@", "idempotency_key": "k-bad-mail-1"},
                         allow_redirects=False) as resp:
        assert resp.status == 400 and 'id="oi-e-email"' in await resp.text()  # beside its field
    locations = []
    for _ in range(2):
        async with http.post(page_url, data=form, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
            locations.append(resp.headers["Location"])
    assert locations[0] == locations[1] and "?receipt=" in locations[0]
    rows = await server.store.register(session.id)
    assert len(rows) == 1 and rows[0]["channel"] == "in_person"
    async with server.store.read_engine.connect() as conn:  # the optional e-mail, for the follow-up
        assert (await conn.execute(select(s.askers.c.email))).scalar_one() == "long.trinh@example.vn"
    async with http.get(server.url + locations[0]) as resp:
        assert resp.status == 200 and rows[0]["receipt"] in await resp.text()
    web = await server.store.submit_question(parse_submission(valid_payload(session.id), channel=Channel.SOCKET))
    async with http.get(page_url, params={"receipt": web.receipt}) as resp:
        assert resp.status == 404 and web.receipt not in await resp.text()


async def test_the_page_is_the_boards(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    async with http.get(f"{server.url}/staff/intake/{session.id}", allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")
    await sign_in_cookie(server, http, "dt-chair", "chair")
    async with http.get(f"{server.url}/staff") as resp:  # no link for the chair
        assert "/staff/intake/" not in await resp.text()
    async with http.get(f"{server.url}/staff/intake/{session.id}", allow_redirects=False) as resp:
        assert resp.status == 403
    async with http.post(f"{server.url}/staff/intake/{session.id}", allow_redirects=False,
                         data={"channel": "phone"}) as resp:
        assert resp.status == 403
    assert await stored_count(server, session.id) == 0


async def test_the_route_table_rows_hold(callers: Callers) -> None:  # noqa: F811  (the fixture)
    """tests/test_authorization.py's walk over this feature's routes: anonymous callers and viewers
    sent to sign in, the chair and responders refused, the board let in, the cookie without the
    CSRF token refused; the public intake route still public."""
    table = documented(DOCS.read_text(encoding="utf-8"))
    mine = [("GET", "/staff/intake/{}"), ("POST", "/staff/intake/{}"), ("POST", "/api/v1/sessions/{}/questions")]
    assert all(key in table for key in mine)
    problems = await walk(callers, table, only=mine)
    assert not problems, "\n".join(problems)
