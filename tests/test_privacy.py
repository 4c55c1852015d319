"""What the consent text promises about personal data, against a real server, a real SQLite file
and the real command line: the retention job erases askers' identities (from the rows and from the
file's bytes) and keeps the questions, answers, counts and consent records; askers' requests to see
or erase their data, from the receipt page (checked with the phone they gave) or entered by staff,
are due in 2 working days and are carried out from /staff/privacy."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser
from sqlalchemy import insert, select, update

from moderation import audit
from moderation import schema as s
from moderation.asker import ERASED_BY_RETENTION, ERASED_ON_REQUEST
from moderation.calendar import VIETNAM, local_date
from moderation.calendar_store import current
from moderation.data_requests import due_on
from moderation.register import copy_register
from moderation.roles import Actor, Role
from moderation.sessions import SessionState
from server.keys import accounts_key

from .browser import PHONE, open_viewer, screenshot
from .conftest import RunningServer, run_cli
from .leaks import shows_phone
from .staff import PASSWORD, submit
from .test_authorization import sign_in

QUYNH = {"kind": "person", "name": "Phạm Thị Quỳnh", "address": "7 Trần Phú, Lê Chân, Hải Phòng",
         "phone": "0987 111 222", "name_shown": "full"}
KHOA = {"kind": "person", "name": "Đỗ Minh Khoa", "address": "15 Văn Cao, Hải An, Hải Phòng",
        "phone": "0356 444 999", "name_shown": "short"}
BAO = {"kind": "person", "name": "Lê Văn Bảo", "address": "3 Hoàng Văn Thụ, Hồng Bàng, Hải Phòng",
       "phone": "0909 333 111", "name_shown": "full"}
SECRETS = [b"Ph\xe1\xba\xa1m Th\xe1\xbb\x8b Qu\xe1\xbb\xb3nh", "Đỗ Minh Khoa".encode(), "Trần Phú".encode(),
           "Văn Cao".encode(), b"0987111222", b"0356444999", b"quynh.pham@example.vn", "Đỗ M. K.".encode()]
TEXT_Q = "Xin hỏi bao giờ đường Trần Nguyên Hãn được mở rộng xong?"
TEXT_K = "Thủ tục cấp phép xây dựng nhà ở riêng lẻ mất bao nhiêu ngày?"


async def cli(*args: str, data_dir: Path, check: bool = True) -> Any:
    """The command line, off the event loop: the in-process server keeps serving (and finishes its
    reads) while it runs, as a server beside an operator's command would."""
    return await asyncio.to_thread(run_cli, *args, data_dir=data_dir, check=check)


def db_bytes(server: RunningServer) -> bytes:
    """The SQLite file and its write-ahead log, as they are on disk."""
    base = Path(server.settings.data_dir) / "doithoai.sqlite3"
    return b"".join(p.read_bytes() for p in (base, Path(f"{base}-wal")) if p.exists())


async def entries(server: RunningServer, action: str) -> list[dict[str, Any]]:
    async with server.store.read_engine.connect() as conn:
        found = await conn.run_sync(audit.entries, limit=1000)
    return [e for e in reversed(found) if e["action"] == action]


async def asker_row(server: RunningServer, question_id: int) -> Any:
    async with server.store.read_engine.connect() as conn:
        return (await conn.execute(select(s.askers).where(s.askers.c.question_id == question_id))).one()


async def closed_session_with_askers(server: RunningServer, viewer_client: Any) -> tuple[Any, int, int]:
    """A session with Quỳnh's question (accepted, two viewers interested, consent text v1, an e-mail
    and an outbox row that carries her address) and Khoa's, then closed."""
    session = await server.new_session(SessionState.LIVE)
    viewer = await viewer_client(server.url)
    quynh = (await submit(viewer, session.id, asker=QUYNH, text=TEXT_Q,
                          consent={"accepted": True, "version": "2026-11-v1"}))["question_id"]
    khoa = (await submit(viewer, session.id, asker=KHOA, text=TEXT_K))["question_id"]
    await server.store.apply_action(quynh, "accept")
    for _ in range(2):
        other = await viewer_client(server.url)
        assert (await other.call("mark_interest", {"question_id": quynh}, namespace="/viewer"))["ok"]
    now = datetime.now(UTC)
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.askers).where(s.askers.c.question_id == quynh).values(
            email="quynh.pham@example.vn", viewer_hash="v" * 32, address_hash="a" * 32))
        await conn.execute(insert(s.notifications), {
            "created_at": now, "session_id": session.id, "question_id": quynh, "audience": "asker",
            "channel": "email", "address": "quynh.pham@example.vn", "kind": "forwarded", "params": {},
            "dedupe": f"test-{quynh}", "state": "sent"})
    await server.store.transition_session(session.id, SessionState.CLOSED)
    return session, quynh, khoa


async def test_retention_erases_identities_and_keeps_the_questions(server: RunningServer,
                                                                   viewer_client: Any) -> None:
    session, quynh, khoa = await closed_session_with_askers(server, viewer_client)
    live = await server.new_session(SessionState.LIVE, title="Phiên chưa kết thúc")
    bao = (await submit(await viewer_client(server.url), live.id, asker=BAO))["question_id"]
    data = server.settings.data_dir
    closed_on = local_date(datetime.now(UTC))

    # before the period ends: nothing is erased, and the run says so (and is recorded)
    # (dates relative to today's close: a fixed year would stop erasing once the calendar passes it)
    early = f"{closed_on + timedelta(days=360)}T23:00:00+07:00"
    late = f"{closed_on + timedelta(days=400)}"
    none = json.loads((await cli("privacy", "retention", "--as-of", early, data_dir=data)).stdout)
    assert (none["sessions"], none["askers"], none["erased"]) == (0, 0, [])
    assert (await asker_row(server, quynh)).name == QUYNH["name"]
    dry = json.loads((await cli("privacy", "retention", "--as-of", late, "--dry-run", data_dir=data)).stdout)
    assert (dry["dry_run"], dry["sessions"], dry["askers"]) == (True, 1, 2)
    assert (await asker_row(server, khoa)).phone == "0356444999"  # a dry run changes nothing

    ran = json.loads((await cli("privacy", "retention", "--as-of", late, data_dir=data)).stdout)
    assert (ran["sessions"], ran["askers"], ran["erased"]) == (1, 2, [{"session_id": session.id, "askers": 2}])

    for qid, kind, shown in ((quynh, "person", "full"), (khoa, "person", "short")):
        row = await asker_row(server, qid)
        assert (row.name, row.address, row.phone, row.email) == (ERASED_BY_RETENTION, "", "", None)
        assert (row.kind, row.name_shown, row.viewer_hash, row.address_hash) == (kind, shown, None, None)
        assert row.erased_at is not None
    kept = await server.store.get_question(quynh)
    assert kept.text == TEXT_Q and kept.interest_count == 2 and kept.state.value == "accepted"
    assert kept.public_name == ""  # shown as the anonymous asker from now on
    assert (await server.store.get_question(khoa)).text == TEXT_K
    async with server.store.read_engine.connect() as conn:
        versions = dict((await conn.execute(select(s.consent_records.c.question_id,
                                                   s.consent_records.c.consent_version))).all())
        addresses = (await conn.execute(select(s.notifications.c.address)
                                        .where(s.notifications.c.question_id == quynh))).scalars().all()
        stamped = (await conn.execute(select(s.sessions.c.erased_at).where(s.sessions.c.id == session.id))).scalar()
    assert versions[quynh] == "2026-11-v1" and versions[khoa] == "2026-12-v3"  # each keeps the text it accepted
    assert addresses and set(addresses) == {None} and stamped is not None
    assert (await asker_row(server, bao)).name == BAO["name"]  # a session not closed keeps its askers

    # the register, with identities and masked, shows the placeholder
    head = Actor("tb", Role.HEAD)
    full = json.loads((await copy_register(server.store, session.id, head, fmt="json", identities="full",
                                           reason="kiểm tra thời hạn lưu trữ")).body)
    masked = json.loads((await copy_register(server.store, session.id, head, fmt="json",
                                             identities="masked")).body)
    assert {r["asker"]["name"] for r in full["register"]} == {ERASED_BY_RETENTION}
    assert {(r["asker"]["name"], r["asker"]["area"], r["asker"]["phone_last3"])
            for r in masked["register"]} == {(ERASED_BY_RETENTION, "", "")}
    assert {r["text"] for r in full["register"]} == {TEXT_Q, TEXT_K}

    # gone from the file's bytes too, where the other session's asker and the questions remain
    on_disk = db_bytes(server)
    for secret in SECRETS:
        assert secret not in on_disk, secret
    assert BAO["name"].encode() in on_disk and TEXT_Q.encode() in on_disk

    # the audit log says it ran, with counts and no data
    erased = await entries(server, "retention_erase")
    assert [(e["actor"], e["session_id"], e["detail"]["askers"], e["detail"]["months"]) for e in erased] == [
        ("cli", session.id, 2, 12)]
    runs = await entries(server, "retention_run")
    assert [(r["detail"]["sessions"], r["detail"]["askers"]) for r in runs] == [(0, 0), (1, 2)]
    trail = json.dumps(erased + runs, ensure_ascii=False)
    assert "Quỳnh" not in trail and not shows_phone(trail, QUYNH["phone"]) and "Trần Phú" not in trail

    # run again: nothing left to erase
    again = json.loads((await cli("privacy", "retention", "--as-of", late, data_dir=data)).stdout)
    assert (again["sessions"], again["askers"]) == (0, 0)
    assert len(await entries(server, "retention_erase")) == 1
    bad = (await cli("privacy", "retention", "--as-of", "next year", data_dir=data, check=False))
    assert bad.returncode == 1 and "ISO 8601" in bad.stderr


async def test_the_server_runs_the_job_by_itself(start_server: Any, viewer_client: Any) -> None:
    server = await start_server(privacy_retention_seconds=0.2)
    session = await server.new_session(SessionState.LIVE)
    qid = (await submit(await viewer_client(server.url), session.id, asker=KHOA))["question_id"]
    await server.store.transition_session(session.id, SessionState.CLOSED)
    async with server.store.write_engine.begin() as conn:  # closed 13 months ago
        await conn.execute(update(s.sessions).where(s.sessions.c.id == session.id).values(
            closed_at=datetime.now(UTC) - timedelta(days=400)))
    for _ in range(200):  # the job's next run, every 0.2 s: a condition waited on, not a timing
        if (await asker_row(server, qid)).erased_at is not None:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the server's retention job did not run")
    assert (await asker_row(server, qid)).name == ERASED_BY_RETENTION
    assert [e["actor"] for e in await entries(server, "retention_erase")] == ["retention"]


async def test_the_forum_erases_each_question_a_period_after_it_was_received(server: RunningServer) -> None:
    """The standing forum never closes: each asker is erased retention_months after their question."""
    from moderation.consent import Channel
    from moderation.sessions import SessionDraft
    from moderation.submission import parse_submission

    from .conftest import valid_payload

    forum = await server.store.create_session(SessionDraft("Trao đổi và tháo gỡ", "Nguyễn Văn Cao", None, None,
                                                           kind="forum", fields=["Đất đai"]))
    await server.store.transition_session(forum.id, SessionState.ANNOUNCED)
    old, recent = [(await server.store.submit_question(parse_submission(
        valid_payload(forum.id, asker=asker, text=TEXT_K), channel=Channel.API))).question_id for asker in (KHOA, BAO)]
    async with server.store.write_engine.begin() as conn:  # the first came 13 months ago
        await conn.execute(update(s.questions).where(s.questions.c.id == old).values(
            received_at=datetime.now(UTC) - timedelta(days=400)))
    ran = json.loads((await cli("privacy", "retention", data_dir=server.settings.data_dir)).stdout)
    assert (ran["sessions"], ran["askers"]) == (1, 1)
    assert (await asker_row(server, old)).name == ERASED_BY_RETENTION
    assert (await asker_row(server, recent)).name == BAO["name"]
    async with server.store.read_engine.connect() as conn:
        assert (await conn.execute(select(s.sessions.c.erased_at).where(s.sessions.c.id == forum.id))).scalar() is None
    again = json.loads((await cli("privacy", "retention", data_dir=server.settings.data_dir)).stdout)
    assert (again["sessions"], again["askers"]) == (0, 0)


async def receipt_form(http: aiohttp.ClientSession, server: RunningServer, receipt: str) -> str:
    async with http.get(f"{server.url}/q/{receipt}") as resp:
        assert resp.status == 200
        page = await resp.text()
    found = re.search(r'id="privacy-form".*?name="csrf" value="([^"]+)"', page, re.S)
    assert found, "the receipt page carries the privacy form"
    return found.group(1)


async def ask(http: aiohttp.ClientSession, server: RunningServer, receipt: str, kind: str,
              phone: str) -> tuple[int, str]:
    token = await receipt_form(http, server, receipt)
    async with http.post(f"{server.url}/q/{receipt}/privacy", allow_redirects=False,
                         data={"csrf": token, "request_kind": kind, "request_phone": phone}) as resp:
        return resp.status, (resp.headers.get("Location", "") if resp.status == 303 else await resp.text())


async def requests_of(server: RunningServer, question_id: int) -> list[Any]:
    async with server.store.read_engine.connect() as conn:
        return list((await conn.execute(select(s.data_requests).where(s.data_requests.c.question_id == question_id)
                                        .order_by(s.data_requests.c.id))).all())


async def test_a_request_from_the_receipt_page_needs_the_askers_phone(server: RunningServer, viewer_client: Any,
                                                                      http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    ack = await submit(await viewer_client(server.url), session.id, asker=QUYNH)
    receipt = ack["receipt"]

    status, page = await ask(http, server, receipt, "erasure", "0912 345 678")  # a valid number, not hers
    assert status == 400 and "không khớp với số đã gửi kèm câu hỏi" in page
    assert not shows_phone(page, QUYNH["phone"]) and "Quỳnh" not in page and "Trần Phú" not in page  # nothing of hers
    status, page = await ask(http, server, receipt, "erasure", "12345")
    assert status == 400 and "Số điện thoại không hợp lệ" in page
    assert await requests_of(server, ack["question_id"]) == []

    status, location = await ask(http, server, receipt, "erasure", "+84 987 111 222")  # hers, written otherwise
    assert status == 303 and location == f"/q/{receipt}?privacy=sent#privacy"
    [made] = await requests_of(server, ack["question_id"])
    today = local_date(made.received_at)
    assert (made.kind, made.channel, made.state, made.entered_by) == ("erasure", "receipt", "open", None)
    assert made.due_on == (await current(server.store)).after_working_days(today, 2)
    async with http.get(f"{server.url}/q/{receipt}?privacy=sent") as resp:
        shown = await resp.text()
    assert "Đã nhận yêu cầu của bạn." in shown
    assert f"Đang xử lý, hạn trả lời: {made.due_on:%d/%m/%Y}" in shown
    # asking again while it is open is the same request
    assert (await ask(http, server, receipt, "erasure", "0987111222"))[0] == 303
    assert len(await requests_of(server, ack["question_id"])) == 1

    # a question whose identity is already erased: the same answer as a wrong number
    other = await submit(await viewer_client(server.url), session.id, asker=KHOA)
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.askers).where(s.askers.c.question_id == other["question_id"]).values(
            name=ERASED_ON_REQUEST, address="", phone="", erased_at=datetime.now(UTC)))
    async with http.get(f"{server.url}/q/{other['receipt']}") as resp:
        page = await resp.text()
    assert 'id="privacy-form"' not in page and 'id="privacy-erased"' in page  # nothing is left to see or erase
    async with http.post(f"{server.url}/q/{other['receipt']}/privacy",
                         data={"csrf": await receipt_form(http, server, receipt), "request_kind": "access",
                               "request_phone": "0356 444 999"}) as resp:
        assert resp.status == 400 and "không khớp với số đã gửi kèm câu hỏi" in await resp.text()

    # the tries at one receipt are limited, the right number included once the limit is reached
    for _ in range(2):
        await ask(http, server, receipt, "access", "0912 345 678")
    status, page = await ask(http, server, receipt, "access", "0987111222")
    assert status == 429 and "thử quá nhiều lần" in page
    assert [r.kind for r in await requests_of(server, ack["question_id"])] == ["erasure"]


async def test_the_due_date_counts_working_days_in_the_current_calendar(server: RunningServer) -> None:
    thursday = datetime(2026, 12, 3, 16, 30, tzinfo=VIETNAM)
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=VIETNAM)
    late_thursday = datetime(2026, 12, 3, 23, 30, tzinfo=VIETNAM)  # 16:30 UTC: still Thursday in Vietnam
    async with server.store.write_engine.begin() as conn:
        assert await conn.run_sync(due_on, thursday) == date(2026, 12, 7)  # Fri 4, (weekend), Mon 7
        assert await conn.run_sync(due_on, friday) == date(2026, 12, 8)  # Mon 7, Tue 8
        assert await conn.run_sync(due_on, late_thursday.astimezone(UTC)) == date(2026, 12, 7)
        await conn.execute(insert(s.calendar_overrides), {"day": date(2026, 12, 7), "working": False,
                                                          "note": "nghỉ bù", "created_by": "qt",
                                                          "created_at": datetime.now(UTC)})
        assert await conn.run_sync(due_on, thursday) == date(2026, 12, 8)  # the board's day off counts


async def signed_in_head(server: RunningServer, name: str = "tb", role: str = "head") -> tuple[aiohttp.ClientSession,
                                                                                                 str]:
    await server.app[accounts_key].add_user(name, role, PASSWORD)
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    return http, await sign_in(server, http, name)


async def test_staff_carry_out_erasure_and_access_requests(server: RunningServer, viewer_client: Any,
                                                           http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    viewer = await viewer_client(server.url)
    gone = await submit(viewer, session.id, asker=QUYNH)
    seen = await submit(viewer, session.id, asker=KHOA)
    data = server.settings.data_dir
    await server.app[accounts_key].add_user("bt", "editor", PASSWORD)

    # an editor enters the erasure request received by phone; a chair may not
    entered = json.loads((await cli("privacy", "request", gone["receipt"], "--kind", "erasure", "--as", "bt",
                                 data_dir=data)).stdout)
    assert (entered["state"], entered["channel"], entered["entered_by"]) == ("open", "staff", "bt")
    await server.app[accounts_key].add_user("ct", "chair", PASSWORD)
    refused = (await cli("privacy", "request", gone["receipt"], "--kind", "access", "--as", "ct", data_dir=data,
                      check=False))
    assert refused.returncode == 1
    # the asker asks to see theirs from the receipt page
    assert (await ask(http, server, seen["receipt"], "access", "0356444999"))[0] == 303

    staff, csrf = await signed_in_head(server)
    editor, _ = await signed_in_head(server, "bt2", "editor")
    listed = [json.loads(line) for line in (await cli("privacy", "requests", "--as", "tb", data_dir=data)).stdout
              .splitlines()]
    assert sorted(r["kind"] for r in listed) == ["access", "erasure"] and "0356444999" not in json.dumps(listed)
    assert (await cli("privacy", "requests", "--as", "bt", data_dir=data, check=False)).returncode == 1
    try:
        async with editor.get(f"{server.url}/staff/privacy") as resp:
            assert resp.status == 403
        async with staff.get(f"{server.url}/staff/privacy") as resp:
            page = await resp.text()
        ids = [int(n) for n in re.findall(r'id="privacy-request-(\d+)"', page)]
        assert len(ids) == 2 and "Quỳnh" not in page and "0356444999" not in page  # the list shows no identity
        erasure_id, access_id = entered["id"], next(i for i in ids if i != entered["id"])

        # erasure: not without the confirmation (it cannot be undone); then the asker is erased
        # now, the other question's asker is not
        async with staff.post(f"{server.url}/staff/privacy/{erasure_id}/done", data={"csrf": csrf}) as resp:
            assert resp.status == 400 and "không thể hoàn tác" in await resp.text()
        assert (await asker_row(server, gone["question_id"])).erased_at is None
        async with staff.post(f"{server.url}/staff/privacy/{erasure_id}/done", data={"csrf": csrf, "confirmed": "yes"},
                              allow_redirects=False) as resp:
            assert resp.status == 303
        row = await asker_row(server, gone["question_id"])
        assert (row.name, row.phone, row.address) == (ERASED_ON_REQUEST, "", "") and row.erased_at is not None
        assert (await server.store.get_question(gone["question_id"])).text.startswith("Xin hỏi")
        assert (await asker_row(server, seen["question_id"])).name == KHOA["name"]
        async with http.get(f"{server.url}/q/{gone['receipt']}") as resp:
            receipt_page = await resp.text()
        assert "Đã xoá ngày" in receipt_page and 'id="privacy-erased"' in receipt_page
        closed = await entries(server, "privacy_request_closed")
        assert [(e["actor"], e["detail"]["kind"], e["detail"]["askers_erased"]) for e in closed] == [
            ("tb", "erasure", 1)]

        # access: shown to the head (audited like a reveal), then closed
        async with staff.post(f"{server.url}/staff/privacy/{access_id}/show", data={"csrf": csrf}) as resp:
            shown = await resp.text()
        assert resp.status == 200 and "Đỗ Minh Khoa" in shown and "0356444999" in shown and "Văn Cao" in shown
        assert [e["detail"]["request_id"] for e in await entries(server, "privacy_access_shown")] == [access_id]
        async with staff.post(f"{server.url}/staff/privacy/{access_id}/refuse", data={"csrf": csrf, "note": "x"}) as resp:
            assert resp.status == 400 and "lý do" in (await resp.text()).lower()
        async with staff.post(f"{server.url}/staff/privacy/{access_id}/done", data={"csrf": csrf},
                              allow_redirects=False) as resp:
            assert resp.status == 303
        async with staff.post(f"{server.url}/staff/privacy/{access_id}/done", data={"csrf": csrf}) as resp:
            assert resp.status == 409  # closed already
        async with staff.post(f"{server.url}/staff/privacy/{access_id}/done", data={}) as resp:
            assert resp.status == 403  # no CSRF token
    finally:
        await staff.close()
        await editor.close()
    async with http.get(f"{server.url}/q/{seen['receipt']}") as resp:
        assert "Đã gửi dữ liệu cho bạn ngày" in await resp.text()
    assert (await asker_row(server, seen["question_id"])).erased_at is None


async def test_a_refusal_is_told_on_the_receipt_page(server: RunningServer, viewer_client: Any,
                                                     http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    ack = await submit(await viewer_client(server.url), session.id, asker=KHOA)
    assert (await ask(http, server, ack["receipt"], "erasure", "0356444999"))[0] == 303
    [made] = await requests_of(server, ack["question_id"])
    staff, csrf = await signed_in_head(server)
    note = "Câu hỏi đang được xử lý, cần liên hệ lại người hỏi"
    try:
        async with staff.post(f"{server.url}/staff/privacy/{made.id}/refuse", data={"csrf": csrf, "note": note},
                              allow_redirects=False) as resp:
            assert resp.status == 303
    finally:
        await staff.close()
    async with http.get(f"{server.url}/q/{ack['receipt']}") as resp:
        page = await resp.text()
    assert f"Lý do: {note}" in page and 'id="privacy-form"' in page  # the asker may ask again
    assert (await asker_row(server, ack["question_id"])).erased_at is None


@pytest.mark.browser
async def test_the_receipt_pages_form_on_a_phone(server: RunningServer, viewer_client: Any, browser: Browser) -> None:
    """In Chromium on a phone, without help: a wrong number is refused beside the field (and the page
    passes axe-core), the right one gives the request's state and due date."""
    from .test_accessibility import assert_accessible, new_person

    session = await server.new_session(SessionState.LIVE)
    ack = await submit(await viewer_client(server.url), session.id, asker=KHOA)
    context = await new_person(browser, PHONE)
    viewer = await open_viewer(browser, f"{server.url}/q/{ack['receipt']}", context=context, wait_joined=False)
    page = viewer.page
    try:
        await page.get_by_label("Xoá dữ liệu của tôi").check()
        await page.get_by_label("Số điện thoại đã gửi kèm câu hỏi").fill("0912 345 678")
        await page.click("#privacy-submit")
        await page.wait_for_selector("#privacy-phone[aria-invalid=true]")
        assert "không khớp" in await page.inner_text("#privacy-alert")
        assert await page.is_checked("#privacy-kind-erasure")  # what was chosen is kept, the number is not
        assert await page.input_value("#privacy-phone") == ""
        await assert_accessible(page, "the receipt page with a refused data request")
        await page.get_by_label("Số điện thoại đã gửi kèm câu hỏi").fill("0356444999")
        await page.click("#privacy-submit")
        await page.wait_for_selector("#privacy-sent")
        [made] = await requests_of(server, ack["question_id"])
        state = await page.inner_text(f"#privacy-request-{made.id}")
        assert "Xoá dữ liệu" in state and f"hạn trả lời: {made.due_on:%d/%m/%Y}" in state
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the phone
        await assert_accessible(page, "the receipt page with a data request")
        await screenshot(page, "receipt-privacy-request.png")
        # the refusal's own 400, which the browser reports as a failed load, and nothing else
        assert [e for e in viewer.unexpected_errors() if "status of 400" not in e] == []
    finally:
        await viewer.close()


@pytest.mark.browser
async def test_the_heads_privacy_page_in_a_browser(server: RunningServer, viewer_client: Any, browser: Browser,
                                                   http: aiohttp.ClientSession) -> None:
    """The head's /staff/privacy on a phone: the open request with its due date, the data shown on
    request, the erasure carried out; axe-core on the page."""
    from .browser import log_in
    from .test_accessibility import assert_accessible, new_person

    session = await server.new_session(SessionState.LIVE)
    ack = await submit(await viewer_client(server.url), session.id, asker=KHOA)
    assert (await ask(http, server, ack["receipt"], "access", "0356444999"))[0] == 303
    [made] = await requests_of(server, ack["question_id"])
    await server.app[accounts_key].add_user("tb", "head", PASSWORD)
    context = await new_person(browser, PHONE)
    page = await context.new_page()
    try:
        await page.goto(f"{server.url}/staff/privacy")
        await log_in(page, "tb", PASSWORD, "/staff/privacy", f"#privacy-request-{made.id}")
        card = page.locator(f"#privacy-request-{made.id}")
        assert f"{made.due_on:%d/%m/%Y}" in await card.locator(".privacy-due").inner_text()
        assert "0356444999" not in await page.content()
        await assert_accessible(page, "the head's data requests")
        async with page.expect_navigation():
            await card.locator("button[data-action=show]").click()
        assert await page.inner_text("#privacy-data-phone") == "0356444999"
        await assert_accessible(page, "an access request's data")
        async with page.expect_navigation():
            await page.locator(f"#privacy-request-{made.id} button[data-action=done]").click()
        assert f"#{made.id}" in await page.inner_text("#privacy-status")
        assert await page.locator(f"#privacy-request-{made.id}").count() == 0  # no longer open
        await screenshot(page, "staff-privacy.png")
    finally:
        await context.close()
    assert [e["actor"] for e in await entries(server, "privacy_access_shown")] == ["tb"]
