"""Telling the askers and the departments (notify/): a real SMTP server (aiosmtpd) and a local HTTP
server standing in for the SMS gateway, the real server in-process and as a process killed mid-send.

The notifications come from the real flow: questions submitted with an e-mail and a mobile number,
accepted, and the session closed (moderation/followup.py tells each asker when to expect the written
answer), or routed to a department (the department's mail and its reminders)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import sqlite3
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from moderation import schema as s
from moderation.accounts import Accounts
from moderation.asker import Asker, AskerKind
from moderation.calendar import VIETNAM
from moderation.calendar_store import current
from moderation.consent import Channel
from moderation.roles import Actor, Role
from moderation.sessions import SessionState
from moderation.store import Store, sqlite_url
from moderation.submission import parse_submission
from notify import messages
from notify.sender import Sender
from server.keys import accounts_key
from tests.conftest import (
    RunningServer,
    ServerProcess,
    free_port,
    make_session,
    run_cli,
    valid_payload,
    wait_for,
)
from tests.staff import PASSWORD, Staff

MAIL_FROM = "Cổng đối thoại <doithoai@haiphong.gov.vn>"
PUBLIC_URL = "https://doithoai.haiphong.gov.vn"
SMS_TOKEN = "gateway-secret-token"
DEPARTMENT = "Sở Xây dựng"
DEPARTMENT_MAIL = "vanthu.sxd@haiphong.gov.vn"


# ---- a real SMTP server, and an HTTP server standing in for the SMS gateway ----


@dataclass
class Delivered:
    to: list[str]
    message_id: str
    subject: str
    body: str


class SmtpSink:
    """aiosmtpd on a free port. `stall_once` makes the next DATA wait (after the message is recorded,
    before the 250 is sent) until `release()`: what a server that accepted a message looks like to a
    client that dies before the 250 arrives."""

    def __init__(self, **controller: Any) -> None:
        self.port = free_port()
        self.delivered: list[Delivered] = []
        self.stall_once = False
        self.stalled = threading.Event()
        self._release = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **controller)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self.delivered.append(Delivered(list(envelope.rcpt_tos), str(parsed["Message-ID"]), str(parsed["Subject"]),
                                        body.get_content() if body is not None else ""))
        if self.stall_once:
            self.stall_once = False
            self.stalled.set()
            # the sink's loop (aiosmtpd's thread) waits for the test's release, the test waits on `stalled`
            await asyncio.get_running_loop().run_in_executor(None, self._release.wait)
        return "250 OK"

    def release(self) -> None:
        self._release.set()

    def ids(self) -> list[str]:
        return [d.message_id for d in self.delivered]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
        self.controller.stop()


@dataclass
class Gateway:
    """The SMS gateway: records each POST; fails the first `fail` ones with HTTP 503; `hang_once`
    makes one request (recorded first) wait until released."""

    port: int = field(default_factory=free_port)
    posts: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    fail: int = 0
    hang_once: bool = False
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.auth.append(request.headers.get("Authorization", ""))
        if self.fail > 0:
            self.fail -= 1
            return web.json_response({"error": "busy"}, status=503)
        self.posts.append(body)
        if self.hang_once:
            self.hang_once = False
            self.hanging.set()
            await self.release.wait()
        return web.json_response({"accepted": True})

    def refs(self) -> list[str]:
        return [p["ref"] for p in self.posts]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"


@pytest.fixture
def smtp() -> Any:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    app = web.Application()
    app.router.add_post("/send", gw.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", gw.port)
    await site.start()
    yield gw
    gw.release.set()
    await runner.cleanup()


def channel_settings(smtp: SmtpSink | None, gateway: Gateway | None) -> dict[str, Any]:
    out: dict[str, Any] = {"public_url": PUBLIC_URL}
    if smtp is not None:
        out.update(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, mail_from=MAIL_FROM)
    if gateway is not None:
        out.update(sms_url=gateway.url, sms_token=SMS_TOKEN, sms_sender="HAIPHONG")
    return out


# ---- the flow that makes notifications ----


def asker_email(i: int) -> str:
    return f"nguoihoi{i}@example.vn"


async def closed_session_with_askers(store: Store, count: int, *, route: str | None = None) -> tuple[int, list[Any]]:
    """A live session, `count` questions with an e-mail and a mobile number, accepted (and routed
    when `route`), then the close: each asker is told when to expect the written answer."""
    session = await make_session(store, SessionState.LIVE)
    receipts = []
    for i in range(count):
        payload = valid_payload(session.id)
        payload["asker"] = {**payload["asker"], "email": asker_email(i), "phone": f"09123456{i:02d}"}
        receipts.append(await store.submit_question(parse_submission(payload, channel=Channel.SOCKET)))
    for receipt in receipts:
        await store.apply_action(receipt.question_id, "accept")
        if route:
            await store.apply_action(receipt.question_id, "route", department=route)
    await store.transition_session(session.id, SessionState.CLOSED)
    return session.id, receipts


async def rows(store: Store) -> list[Any]:
    async with store.read_engine.connect() as conn:
        return list((await conn.execute(select(s.notifications).order_by(s.notifications.c.id))).all())


def expected_ids(found: list[Any], channel: str) -> set[str]:
    return {messages.message_id(r.dedupe, MAIL_FROM) if channel == "email" else r.dedupe
            for r in found if r.channel == channel and r.audience == "asker"}


# ---- sent exactly once to each ----


async def test_each_asker_gets_one_mail_and_one_sms_and_a_second_round_sends_nothing(
        start_server: Callable[..., Awaitable[RunningServer]], smtp: SmtpSink, gateway: Gateway) -> None:
    server = await start_server(notify=False, **channel_settings(smtp, gateway))
    _, receipts = await closed_session_with_askers(server.store, 3)
    sender = Sender(server.store, server.settings)
    result = await sender.run_once()
    await sender.stop()
    assert result.sent == 6 + 0 and result.failed == 0 and result.dead == 0, result

    found = await rows(server.store)
    assert {r.state for r in found} == {"sent"}
    assert sorted(smtp.ids()) == sorted(expected_ids(found, "email"))  # one each, its id from the dedupe key
    assert sorted(d.to[0] for d in smtp.delivered) == sorted(asker_email(i) for i in range(3))
    assert sorted(gateway.refs()) == sorted(expected_ids(found, "sms"))
    assert set(gateway.auth) == {f"Bearer {SMS_TOKEN}"}
    assert {p["sender"] for p in gateway.posts} == {"HAIPHONG"}
    for mail in smtp.delivered:
        receipt = next(r.receipt for r in receipts if f"/q/{r.receipt}" in mail.body)
        assert f"{PUBLIC_URL}/q/{receipt}" in mail.body
        assert "Nguyễn Văn An" not in mail.body and "Lạch Tray" not in mail.body and "0912" not in mail.body
        assert mail.subject.startswith("Câu hỏi số ")
    for post in gateway.posts:
        assert post["to"].startswith("09123456")
        assert messages.sms_parts(post["text"]) <= 2 and f"{PUBLIC_URL}/q/" in post["text"]
        assert "Nguyễn" not in post["text"] and post["to"] not in post["text"]

    again = Sender(server.store, server.settings)
    assert (await again.run_once()).sent == 0
    await again.stop()
    assert len(smtp.delivered) == 3 and len(gateway.posts) == 3


async def test_the_server_loop_sends_without_being_asked(
        start_server: Callable[..., Awaitable[RunningServer]], smtp: SmtpSink, gateway: Gateway) -> None:
    server = await start_server(notify_poll_seconds=0.05, **channel_settings(smtp, gateway))
    await closed_session_with_askers(server.store, 2)
    await wait_for(lambda: len(smtp.delivered) == 2 and len(gateway.posts) == 2, timeout=15)
    found = await rows(server.store)
    await wait_for(lambda: True)
    assert sorted(smtp.ids()) == sorted(expected_ids(found, "email"))


# ---- a restart in the middle of sending ----


def db_rows(data_dir: Path) -> list[Any]:
    """The outbox as the killed (or running) server left it, read with sqlite3 itself."""
    with sqlite3.connect(data_dir / "doithoai.sqlite3", timeout=10) as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute("SELECT * FROM notifications ORDER BY id"))


async def test_sigkill_mid_send_then_restart_every_message_arrives_none_twice(
        server_process: Callable[..., ServerProcess], smtp: SmtpSink, gateway: Gateway, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    store = await Store.open(sqlite_url(data_dir))
    try:
        await closed_session_with_askers(store, 4)
        expected = await rows(store)
    finally:
        await store.close()
    for name, value in channel_settings(smtp, gateway).items():
        monkeypatch.setenv(f"DOITHOAI_{name.upper()}", str(value))
    monkeypatch.setenv("DOITHOAI_NOTIFY_POLL_SECONDS", "0.1")
    # a claim holds 3 s: long enough for the kill below, short enough for the restarted server to
    # take back the row it held (it waits for the lease to end, not for a sleep of the test's)
    monkeypatch.setenv("DOITHOAI_NOTIFY_LEASE_SECONDS", "3")
    smtp.stall_once = True
    gateway.hang_once = True

    first = server_process()
    first.start()
    # the first mail is in DATA (recorded by the SMTP server, its 250 held back) and one SMS is held
    # by the gateway: the server has sent both and not yet heard back
    await asyncio.get_running_loop().run_in_executor(None, smtp.stalled.wait, 30)
    await asyncio.wait_for(gateway.hanging.wait(), 30)
    first.kill()
    smtp.release()
    gateway.release.set()
    in_flight = [r for r in db_rows(data_dir) if r["state"] == "sending"]
    assert in_flight, "the kill came while rows were claimed and being sent"

    second = server_process()
    second.start()
    mails, sms_refs = expected_ids(expected, "email"), expected_ids(expected, "sms")

    def all_sent() -> bool:
        return all(r["state"] == "sent" for r in db_rows(data_dir))

    await wait_for(lambda: set(smtp.ids()) == mails and set(gateway.refs()) == sms_refs, timeout=60)
    await wait_for(all_sent, timeout=60)
    second.stop()

    # Nothing lost: every notification arrived. At least once: the mail whose 250 was lost, and the
    # SMS whose answer was lost, were sent again by the restarted server, since it cannot know they
    # had arrived (an SMTP server that accepted a message and then lost the connection before its
    # 250 reached us delivers it; the client must send it again or risk losing it). Shown once: the
    # resend carries the same Message-ID and the same `ref` (both from the row's dedupe key), so the
    # receiving mail system and the gateway see one message twice and can drop the copy; counted by
    # id, each asker got each message once.
    assert sorted(set(smtp.ids())) == sorted(mails) and sorted(set(gateway.refs())) == sorted(sms_refs)
    resent_mail = [i for i in set(smtp.ids()) if smtp.ids().count(i) > 1]
    resent_sms = [r for r in set(gateway.refs()) if gateway.refs().count(r) > 1]
    assert all(smtp.ids().count(i) == 2 for i in resent_mail)
    assert all(gateway.refs().count(r) == 2 for r in resent_sms)
    # only what was in flight at the kill (claimed, sent, not yet marked) may come twice
    held_mail = {messages.message_id(r["dedupe"], MAIL_FROM) for r in in_flight if r["channel"] == "email"}
    held_sms = {r["dedupe"] for r in in_flight if r["channel"] == "sms"}
    assert set(resent_mail) <= held_mail and set(resent_sms) <= held_sms
    stalled_id = smtp.delivered[0].message_id
    assert stalled_id in resent_mail, "the mail whose 250 was lost was sent again, with the same Message-ID"
    assert gateway.posts[0]["ref"] in resent_sms, "the SMS whose answer was lost was sent again, same ref"
    after = db_rows(data_dir)
    assert all(r["attempts"] == 2 for r in after if r["dedupe"] in held_sms or
               messages.message_id(r["dedupe"], MAIL_FROM) in held_mail), "a crashed try counts as one"


# ---- back-off, dead, and the staff outbox ----


async def sign_in(server: RunningServer, http: aiohttp.ClientSession, name: str) -> str:
    async with http.get(f"{server.url}/login") as resp:
        form_token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert form_token
    async with http.post(f"{server.url}/login", allow_redirects=False,
                         data={"name": name, "password": PASSWORD, "csrf": form_token.group(1), "next": "/staff"}) as r:
        assert r.status == 303
    async with http.get(f"{server.url}/staff") as resp:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', await resp.text())
    assert csrf
    return csrf.group(1)


async def test_failures_back_off_go_dead_and_show_on_the_outbox_with_a_retry(
        start_server: Callable[..., Awaitable[RunningServer]], gateway: Gateway) -> None:
    server = await start_server(notify=False, notify_backoff_seconds=60, notify_backoff_max_seconds=200,
                                notify_max_attempts=4, **channel_settings(None, gateway))
    await closed_session_with_askers(server.store, 1)
    gateway.fail = 99
    t0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    clock = [t0]
    sender = Sender(server.store, server.settings, clock=lambda: clock[0], rng=lambda: 0.0)

    async def sms_row() -> Any:
        return next(r for r in await rows(server.store) if r.channel == "sms")

    assert (await sender.run_once(remind=False)).failed == 1
    row = await sms_row()
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.next_attempt_at == t0 + timedelta(seconds=30)  # 60 s x 2^0, jitter 0.5
    assert row.last_error == "sms gateway: HTTP 503 Service Unavailable"
    assert (await sender.run_once(remind=False)).failed == 0, "not due before its back-off ends"
    assert len(gateway.auth) == 1

    clock[0] = t0 + timedelta(seconds=31)
    await sender.run_once(remind=False)
    row = await sms_row()
    assert (row.state, row.attempts) == ("failed", 2)
    assert row.next_attempt_at == clock[0] + timedelta(seconds=60)  # 60 x 2^1 x 0.5

    clock[0] += timedelta(seconds=61)
    await sender.run_once(remind=False)
    row = await sms_row()
    assert row.next_attempt_at == clock[0] + timedelta(seconds=100), "60 x 2^2 = 240, capped at 200, x 0.5"

    clock[0] += timedelta(seconds=101)
    assert (await sender.run_once(remind=False)).dead == 1
    row = await sms_row()
    assert (row.state, row.attempts, row.next_attempt_at) == ("dead", 4, None)
    clock[0] += timedelta(days=1)
    await sender.run_once(remind=False)
    assert len(gateway.auth) == 4, "a dead row is not tried again"

    accounts: Accounts = server.app[accounts_key]
    await accounts.add_user("bbt-editor", "editor", PASSWORD)
    await accounts.add_user("bbt-head", "head", PASSWORD)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as editor, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as head:
        editor_csrf = await sign_in(server, editor, "bbt-editor")
        await sign_in(server, head, "bbt-head")
        async with editor.get(f"{server.url}/staff/outbox") as resp:
            assert resp.status == 200
            page = await resp.text()
        assert f'data-id="{row.id}" data-state="dead"' in page and "HTTP 503" in page
        assert "0912345600" not in page and "outbox-body" not in page, "no address or text for an editor"
        async with head.get(f"{server.url}/staff/outbox") as resp:
            head_page = await resp.text()
        assert "0912345600" in head_page and "outbox-body" in head_page
        async with editor.get(f"{server.url}/api/v1/staff/outbox") as resp:
            body = await resp.json()
        assert body["counts"]["dead"]["sms"] == 1 and body["unconfigured"] == ["email"]
        assert "address" not in json.dumps(body["problems"]) and "body" not in body["problems"][0]
        async with editor.post(f"{server.url}/staff/outbox/{row.id}/retry", data={"csrf": editor_csrf},
                               allow_redirects=False) as resp:
            assert resp.status == 303
    row = await sms_row()
    assert (row.state, row.attempts) == ("pending", 0)
    gateway.fail = 0
    assert (await sender.run_once(remind=False)).sent == 1
    assert (await sms_row()).state == "sent" and len(gateway.posts) == 1
    await sender.stop()
    async with server.store.read_engine.connect() as conn:
        entry = (await conn.execute(select(s.audit_log).where(s.audit_log.c.action == "notification_retry"))).one()
    assert entry.actor == "bbt-editor" and "0912" not in json.dumps(entry.detail)


async def test_a_chair_may_not_see_the_outbox(server: RunningServer, http: aiohttp.ClientSession) -> None:
    await server.app[accounts_key].add_user("chu-tri", "chair", PASSWORD)
    token = (await server.app[accounts_key].issue_token("chu-tri"))["token"]
    async with http.get(f"{server.url}/api/v1/staff/outbox", headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 403


# ---- no settings: the outbox keeps them, the receipt page shows the message ----


async def test_without_settings_rows_stay_pending_and_the_receipt_page_shows_the_message(
        start_server: Callable[..., Awaitable[RunningServer]], http: aiohttp.ClientSession) -> None:
    server = await start_server(notify=False)
    _, receipts = await closed_session_with_askers(server.store, 2)
    sender = Sender(server.store, server.settings)
    result = await sender.run_once()
    await sender.stop()
    assert result.sent == 0 and result.unconfigured == {"email": 2, "sms": 2}
    assert {r.state for r in await rows(server.store) if r.channel != "receipt"} == {"pending"}
    async with http.get(f"{server.url}/q/{receipts[0].receipt}") as resp:
        page = await resp.text()
    assert 'id="notify-messages"' in page
    assert page.count('class="card notify-message"') == 1
    assert "sẽ được trả lời bằng văn bản trước ngày" in page
    async with http.get(f"{server.url}/q/{receipts[0].receipt}", headers={"Cookie": "lang=en"}) as resp:
        assert "will be answered in writing by" in await resp.text()

    # the head extends the deadline: a second message, listed after the first, each once
    question = await server.store.get_question(receipts[0].question_id)
    assert question.due_on is not None
    later = question.due_on + timedelta(days=10)
    await server.store.apply_action(question.id, "extend", actor=Actor("truong-ban", Role.HEAD),
                                    due=later.isoformat(), note="Cần lấy ý kiến của Sở Tài chính")
    for _ in range(2):
        async with http.get(f"{server.url}/q/{receipts[0].receipt}") as resp:
            page = await resp.text()
        kinds = re.findall(r'class="card notify-message" data-kind="(\w+)"', page)
        assert kinds == ["follow_up", "extended"]
    assert f"được gia hạn đến ngày {later.strftime('%d/%m/%Y')}. Cần lấy ý kiến của Sở Tài chính." in page
    async with http.get(f"{server.url}/q/{receipts[1].receipt}") as resp:
        assert re.findall(r'data-kind="(\w+)"', await resp.text()) == ["follow_up"], "each asker's own only"


# ---- the asker's e-mail: validated, never public ----


async def test_email_is_validated_and_kept_off_public_and_chair_data(
        server: RunningServer, http: aiohttp.ClientSession, staff: Callable[..., Awaitable[Staff]]) -> None:
    session = await server.new_session(SessionState.LIVE)
    bad = valid_payload(session.id)
    bad["asker"] = {**bad["asker"], "email": "an.nguyen@@gmail"}
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions", json=bad) as resp:
        assert resp.status == 400
        error = (await resp.json())["error"]
    assert error["field"] == "asker.email" and "E-mail" in error["message"]

    good = valid_payload(session.id)
    good["asker"] = {**good["asker"], "email": "An.Nguyen@Gmail.COM"}
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions", json=good) as resp:
        assert resp.status in (200, 201), await resp.text()
        receipt = await resp.json()
    async with server.store.read_engine.connect() as conn:
        stored = (await conn.execute(select(s.askers.c.email))).scalar()
    assert stored == "An.Nguyen@gmail.com"
    question, _ = await server.store.question_by_receipt(receipt["receipt"])
    await server.store.apply_action(question.id, "accept")

    async with http.get(f"{server.url}/s/{session.id}") as resp:
        page = await resp.text()
    assert 'id="f-email"' in page and "Gmail" not in page and "gmail.com" not in page
    async with http.get(f"{server.url}/api/v1/sessions/{session.id}/questions") as resp:
        assert "gmail" not in (await resp.text()).lower()
    async with http.get(f"{server.url}/q/{receipt['receipt']}") as resp:
        assert "gmail" not in (await resp.text()).lower()
    chair = await staff("chu-tri", "chair", namespace="/chair")
    ack = await chair.join(session.id)
    assert "gmail" not in json.dumps(ack, ensure_ascii=False).lower()
    editor = await staff("bbt", "editor")
    ack = await editor.join(session.id)
    assert "An.Nguyen@gmail.com" not in json.dumps(ack, ensure_ascii=False)

    masked = Asker(AskerKind.PERSON, "Nguyễn Văn An", "Ngô Quyền", "0912345678", email="an.nguyen@gmail.com")
    assert masked.masked()["email"] == "a…@gmail.com" and masked.full()["email"] == "an.nguyen@gmail.com"


async def test_the_form_without_javascript_names_the_email_field(server: RunningServer,
                                                                  http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert csrf
    form = {"csrf": csrf.group(1), "idempotency_key": "form-key-123456", "kind": "person", "name": "Nguyễn Văn An",
            "address": "12 Lạch Tray, Ngô Quyền", "phone": "0912345678", "email": "khong phai email",
            "text": "Xin hỏi thời hạn cấp giấy chứng nhận là bao lâu?", "consent": "on"}
    async with http.post(f"{server.url}/s/{session.id}/questions", data=form, allow_redirects=False,
                         headers={"Origin": server.url}) as resp:
        assert resp.status == 400
        page = await resp.text()
    assert 'id="e-email"' in page and 'aria-invalid="true"' in page and "khong phai email" in page


# ---- departments: routed, reminded, overdue ----


async def test_department_mail_reminders_before_and_overdue_once_each(
        start_server: Callable[..., Awaitable[RunningServer]], smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in channel_settings(smtp, None).items():  # for the command line's run-once
        monkeypatch.setenv(f"DOITHOAI_{name.upper()}", str(value))
    server = await start_server(notify=False, **channel_settings(smtp, None))
    data_dir = server.settings.data_dir
    session_id, receipts = await closed_session_with_askers(server.store, 1, route=DEPARTMENT)
    async with server.store.read_engine.connect() as conn:
        found_due = (await conn.execute(select(s.questions.c.due_on))).scalar()
    assert isinstance(found_due, date)
    due_on = found_due

    listed = [json.loads(line) for line in run_cli("department", "list", data_dir=data_dir).stdout.splitlines()]
    assert listed == [{"name": DEPARTMENT, "email": None, "listed": False}]
    await server.app[accounts_key].add_user("bbt-editor", "editor", PASSWORD)
    refused = run_cli("department", "set", DEPARTMENT, "--email", DEPARTMENT_MAIL, "--as", "bbt-editor",
                      data_dir=data_dir, check=False)
    assert refused.returncode == 1 and "e-mail" in refused.stderr
    bad = run_cli("department", "set", DEPARTMENT, "--email", "van thu@", data_dir=data_dir, check=False)
    assert bad.returncode == 1
    run_cli("department", "set", DEPARTMENT, "--email", DEPARTMENT_MAIL, data_dir=data_dir)

    # far from the deadline: only the routing mail (and the askers', which have no SMTP for SMS here)
    # (in working days, by the calendar the server uses: before Tết nine days can hold only two)
    calendar = await current(server.store)
    far = due_on - timedelta(days=9)
    while calendar.working_days_between(far, due_on) <= server.settings.remind_working_days_before:
        far -= timedelta(days=1)
    week_before = datetime.combine(far, datetime.min.time(), VIETNAM).isoformat()
    first = json.loads(run_cli("notify", "run-once", "--as-of", week_before, data_dir=data_dir).stdout)
    assert first["reminders"] == 0
    dept = [d for d in smtp.delivered if d.to == [DEPARTMENT_MAIL]]
    assert len(dept) == 1 and "Câu hỏi số 1 " in dept[0].body  # routed while live: no deadline yet
    assert f"được chuyển đến {DEPARTMENT} để chuẩn bị trả lời" in dept[0].body
    assert f"{PUBLIC_URL}/staff/answers?department=S%E1%BB%9F%20X%C3%A2y%20d%E1%BB%B1ng" in dept[0].body and "Nguyễn" not in dept[0].body

    day_before = datetime.combine(due_on - timedelta(days=1), datetime.min.time(), VIETNAM).replace(hour=9)
    for _ in range(2):  # run twice: one reminder
        run_cli("notify", "run-once", "--as-of", day_before.isoformat(), data_dir=data_dir)
    after = datetime.combine(due_on + timedelta(days=1), datetime.min.time(), VIETNAM).replace(hour=9)
    for _ in range(2):
        run_cli("notify", "run-once", "--as-of", after.isoformat(), data_dir=data_dir)
    dept = [d for d in smtp.delivered if d.to == [DEPARTMENT_MAIL]]
    subjects = [d.subject for d in dept]
    assert len(dept) == 3, subjects
    assert subjects[1].startswith("[Đối thoại] Nhắc hạn") and subjects[2].startswith("[Đối thoại] Quá hạn")
    assert all(due_on.strftime("%d/%m/%Y") in d.body for d in dept[1:])
    assert len(set(smtp.ids())) == len(smtp.ids())
    dedupes = [r.dedupe for r in await rows(server.store) if r.audience == "department"]
    assert any(f"remind:{due_on.isoformat()}:before" in d for d in dedupes)
    assert any(f"remind:{due_on.isoformat()}:overdue" in d for d in dedupes)

    # answered: no more reminders, even for a new last day
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.questions).values(due_done_at=after))
    later = (after + timedelta(days=5)).isoformat()
    assert json.loads(run_cli("notify", "run-once", "--as-of", later, data_dir=data_dir).stdout)["reminders"] == 0
    assert receipts


# ---- STARTTLS, with the server's certificate checked ----


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


async def test_starttls_is_used_and_the_certificate_checked(
        start_server: Callable[..., Awaitable[RunningServer]], tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpSink(tls_context=context, require_starttls=True) as sink:
        settings = channel_settings(sink, None)
        server = await start_server(notify=False, **{**settings, "smtp_starttls": False})
        await closed_session_with_askers(server.store, 1)
        plain = Sender(server.store, server.settings)
        assert (await plain.run_once(remind=False)).dead == 1, "the server demands STARTTLS: refused for good"
        row = next(r for r in await rows(server.store) if r.channel == "email")
        assert row.last_error.startswith("smtp: 530") and sink.delivered == []

        server.settings.smtp_starttls = True  # the certificate is not trusted yet: a temporary failure
        async with server.store.write_engine.begin() as conn:
            await conn.execute(update(s.notifications).where(s.notifications.c.id == row.id)
                               .values(state="pending", attempts=0))
        assert (await plain.run_once(remind=False)).failed == 1 and sink.delivered == []
        assert "CERTIFICATE_VERIFY_FAILED" in next(r for r in await rows(server.store) if r.id == row.id).last_error

        server.settings.smtp_ca_file = str(cert)
        async with server.store.write_engine.begin() as conn:
            await conn.execute(update(s.notifications).where(s.notifications.c.id == row.id)
                               .values(next_attempt_at=None))
        assert (await plain.run_once(remind=False)).sent == 1
        await plain.stop()
        assert [d.to for d in sink.delivered] == [[asker_email(0)]]


# ---- the texts ----


def test_sms_is_counted_in_parts_and_kept_to_two() -> None:
    assert messages.sms_parts("a" * 160) == 1 and messages.sms_parts("a" * 161) == 2  # GSM-7: 160, then 153 a part
    assert messages.sms_parts("[" * 80) == 1 and messages.sms_parts("[" * 81) == 2, "GSM-7 extension characters count twice"
    assert messages.sms_parts("ệ" * 70) == 1 and messages.sms_parts("ệ" * 71) == 2  # UCS-2: 70, then 67
    assert messages.sms_units("Câu hỏi") == ("ucs2", 7)
    params = {"number": 12, "receipt": "7KQ2-M9TD-X4RA", "due": "2026-12-23", "session_title": "Đối thoại",
              "unit": "Sở Tài nguyên và Môi trường thành phố Hải Phòng",
              "note": "Câu hỏi thuộc thẩm quyền của Trung ương; đề nghị ông/bà gửi đến Bộ Tài nguyên và Môi "
                      "trường theo địa chỉ đăng trên cổng thông tin điện tử của Bộ, kèm theo hồ sơ liên quan " * 3}
    short = messages.sms("follow_up", params, PUBLIC_URL)
    assert short == "Câu hỏi số 12 sẽ được trả lời bằng văn bản trước ngày 23/12/2026. " \
                    f"Xem: {PUBLIC_URL}/q/7KQ2-M9TD-X4RA", "with its diacritics when it fits"
    for kind in messages.ASKER_KINDS:
        text = messages.sms(kind, params, PUBLIC_URL)
        assert messages.sms_parts(text) <= 2, (kind, text)
        assert text.endswith(f"{PUBLIC_URL}/q/7KQ2-M9TD-X4RA"), "the link survives any shortening"
    folded = messages.sms("will_not_answer", params, PUBLIC_URL)
    assert folded.startswith("Cau hoi so 12 se khong duoc tra loi. Ly do: Cau hoi thuoc tham quyen") and "..." in folded
    assert messages.sms("forwarded", params, "").endswith("Mã tra cứu: 7KQ2-M9TD-X4RA"), "no public_url: the code"


# ---- the e-mail field in a real browser (the page's script sends it over Socket.IO) ----


@pytest.mark.browser
async def test_the_email_field_in_the_browser(server: RunningServer, browser: Any) -> None:
    from tests.browser import PHONE, fill_question, open_viewer

    session = await server.new_session(SessionState.LIVE)
    viewer = await open_viewer(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    assert await page.inner_text("label[for=f-email]") == "E-mail (không bắt buộc)"
    assert "không công khai" in await page.inner_text("#h-email")
    await fill_question(page, text="Xin hỏi thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ là bao lâu?")
    await page.fill("#f-email", "an.nguyen@gmail")
    await page.click("#send-button")
    await page.wait_for_selector("#e-email")
    assert "E-mail: địa chỉ e-mail không hợp lệ" in await page.inner_text("#e-email")
    assert await page.get_attribute("#f-email", "aria-invalid") == "true"
    await page.fill("#f-email", "an.nguyen@gmail.com")
    await page.click("#send-button")
    await page.locator("#ask-result .receipt-code").wait_for()
    async with server.store.read_engine.connect() as conn:
        assert (await conn.execute(select(s.askers.c.email))).scalar() == "an.nguyen@gmail.com"
    assert viewer.errors == []
