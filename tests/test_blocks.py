"""Blocking senders (docs/moderation.md, "Blocking senders"): a moderator blocks the sender of a
question by the viewer's cookie, the client address or the phone; every intake channel and interest
marks refuse them before anything is written; what was acknowledged stays; audited; listed and lifted
from the API and the CLI; a block made by the CLI reaches a running server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from moderation import audit
from moderation.accounts import Accounts
from moderation.blocks import SenderKey
from moderation.sessions import SessionState
from server.keys import blocks_key
from server.security import VIEWER_COOKIE, ViewerIds
from tests.conftest import RunningServer, ServerProcess, run_cli, valid_payload, wait_for

PASSWORD = "mật khẩu đủ dài 123"


class Staff:
    """A staff member with an API token, calling the JSON API."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.auth = {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url + path, json=body, headers=self.auth) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.url + path, headers=self.auth) as response:
            return response.status, await response.json()

    async def block(self, question_id: int, **params: Any) -> tuple[int, dict[str, Any]]:
        body = {"scope": "session", "duration": "1d", "reason": "Gửi lời lẽ xúc phạm nhiều lần", **params}
        return await self.post(f"/api/v1/questions/{question_id}/block", body)


async def staff_member(server: RunningServer, http: aiohttp.ClientSession, name: str, role: str) -> Staff:
    accounts = Accounts(server.store)
    await accounts.add_user(name, role, PASSWORD, department="Sở Xây dựng" if role == "responder" else None)
    return Staff(http, server.url, (await accounts.issue_token(name, "tests"))["token"])


def viewer_cookie(server: RunningServer) -> str:
    """A viewer's signed cookie, as the session page hands it out."""
    value = "v" + "a1b2c3" * 4
    return f"{value}.{ViewerIds(server.settings.secret_key)._sign(value)}"


async def socket_viewer(connect: Callable[..., Any], server: RunningServer, cookie: str | None = None,
                        *, forwarded: str | None = None, lang: str = "vi") -> socketio.AsyncClient:
    headers = {"Cookie": f"{VIEWER_COOKIE}={cookie}"} if cookie else {}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    client: socketio.AsyncClient = await connect(server.url, headers=headers, auth={"lang": lang})
    return client


async def ask(client: socketio.AsyncClient, payload: dict[str, Any]) -> dict[str, Any]:
    ack: dict[str, Any] = await client.call("submit_question", payload, namespace="/viewer", timeout=10)
    return ack


async def api_ask(http: aiohttp.ClientSession, server: RunningServer, payload: dict[str, Any],
                  headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{server.url}/api/v1/sessions/{payload['session_id']}/questions", json=payload,
                         headers=headers or {}) as response:
        return response.status, await response.json()


def other_phone(payload: dict[str, Any], phone: str) -> dict[str, Any]:
    payload["asker"] = {**payload["asker"], "phone": phone}
    return payload


async def audit_entries(server: RunningServer, action: str) -> list[dict[str, Any]]:
    async with server.store.read_engine.connect() as conn:
        found = await conn.run_sync(audit.entries)
    return [entry for entry in found if entry["action"] == action]


@pytest.fixture
async def live(start_server: Callable[..., Any]) -> RunningServer:
    # a trusted proxy in front (the tests' own address), so each test client can have an address of its own
    server: RunningServer = await start_server(trusted_proxies=["127.0.0.1/32"])
    return server


async def test_a_sender_blocked_by_cookie_is_refused_on_every_channel(live: RunningServer, viewer_client: Any,
                                                                     http: aiohttp.ClientSession) -> None:
    session = await live.new_session(SessionState.LIVE)
    other_session = await live.new_session(SessionState.LIVE)
    editor = await staff_member(live, http, "bientap", "editor")
    cookie = viewer_cookie(live)
    abuser = await socket_viewer(viewer_client, live, cookie, forwarded="203.0.113.7")
    first = valid_payload(session.id)
    stored = await ask(abuser, first)
    assert stored["ok"] is True

    status, body = await editor.block(stored["question_id"], kinds=["viewer"])
    assert status == 201, body
    block = body["block"]
    assert block["kinds"] == ["viewer"] and block["scope"] == "session" and block["session_id"] == session.id
    assert block["question_number"] == 1 and block["active"] is True
    assert not any("hash" in key for key in block)

    # Socket.IO (the fast path), with another phone: the cookie is enough
    refused = await ask(abuser, other_phone(valid_payload(session.id), "0987 654 321"))
    assert refused["ok"] is False and refused["error"]["code"] == "sender_blocked"
    assert refused["error"]["message"].startswith("Ban Biên tập đã tạm dừng nhận câu hỏi")
    assert "Gửi lời lẽ" not in refused["error"]["message"]  # the moderator's reason stays with the board
    english = await socket_viewer(viewer_client, live, cookie, lang="en")
    refused = await ask(english, valid_payload(session.id))
    assert refused["error"]["code"] == "sender_blocked" and refused["error"]["message"].startswith("The editorial board")
    # interest marks, on a question the public sees
    bystander = await socket_viewer(viewer_client, live, forwarded="203.0.113.8")
    public = await ask(bystander, valid_payload(session.id))
    await live.store.apply_action(public["question_id"], "accept")
    mark = await abuser.call("mark_interest", {"question_id": public["question_id"]}, namespace="/viewer", timeout=10)
    assert mark["ok"] is False and mark["error"]["code"] == "sender_blocked"
    # the JSON API, with the cookie (a browser on the portal's page)
    status, body = await api_ask(http, live, valid_payload(session.id), {"Cookie": f"{VIEWER_COOKIE}={cookie}"})
    assert status == 403 and body["error"]["code"] == "sender_blocked"
    # the HTML form without JavaScript
    async with http.get(f"{live.url}/s/{session.id}", headers={"Cookie": f"{VIEWER_COOKIE}={cookie}"}) as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf
    form = {"csrf": csrf.group(1), "idempotency_key": "k-form-blocked-1", "kind": "person", "name": "Nguyễn Văn An",
            "address": "12 Lạch Tray, Ngô Quyền", "phone": "0977 111 222", "name_shown": "short",
            "text": "Xin hỏi về tiến độ dự án đường Lạch Tray?", "consent": "on"}
    async with http.post(f"{live.url}/s/{session.id}/questions", data=form, allow_redirects=False,
                         headers={"Cookie": f"{VIEWER_COOKIE}={cookie}"}) as response:
        assert response.status == 403
        assert "Ban Biên tập đã tạm dừng nhận câu hỏi" in await response.text()

    # nothing was written for any of them, and what was acknowledged stays as it was
    register = await live.store.register(session.id)
    assert [row["question_id"] for row in register] == [stored["question_id"], public["question_id"]]
    assert register[0]["state"] == "received"
    again = await ask(abuser, first)  # a resend of the stored question (its ack was lost) gets its receipt
    assert again["ok"] is True and again["receipt"] == stored["receipt"]

    # others are not touched: another viewer at another address, and the same viewer in another session
    assert (await ask(bystander, valid_payload(session.id)))["ok"] is True
    mark = await bystander.call("mark_interest", {"question_id": public["question_id"]}, namespace="/viewer",
                                timeout=10)
    assert mark["ok"] is True and mark["count"] == 1
    assert (await ask(abuser, valid_payload(other_session.id)))["ok"] is True

    [entry] = await audit_entries(live, "sender_block")
    assert entry["actor"] == "bientap" and entry["question_id"] == stored["question_id"]
    assert entry["detail"]["reason"] == "Gửi lời lẽ xúc phạm nhiều lần" and entry["detail"]["kinds"] == ["viewer"]
    assert entry["detail"]["duration"] == "1d" and entry["detail"]["block_id"] == block["id"]


async def test_phone_and_address_blocks_keep_no_personal_data(live: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await live.new_session(SessionState.LIVE)
    editor = await staff_member(live, http, "bientap", "editor")
    status, stored = await api_ask(http, live, valid_payload(session.id), {"X-Forwarded-For": "198.51.100.20"})
    assert status == 201

    # sent through the API without a cookie: there is no viewer id to block by
    status, body = await editor.block(stored["question_id"], kinds=["viewer"])
    assert status == 400 and body["error"]["field"] == "kinds"
    status, body = await editor.block(stored["question_id"], kinds=["phone"])
    assert status == 201 and body["block"]["kinds"] == ["phone"]

    # the same phone written another way, from anywhere, is refused; another phone is not
    status, body = await api_ask(http, live, other_phone(valid_payload(session.id), "+84 912 345 678"),
                                 {"X-Forwarded-For": "192.0.2.99"})
    assert status == 403 and body["error"]["code"] == "sender_blocked"
    status, body = await api_ask(http, live, other_phone(valid_payload(session.id), "0987 000 111"),
                                 {"X-Forwarded-For": "198.51.100.20"})
    assert status == 201

    status, body = await editor.block(stored["question_id"], kinds=["address"], duration="1h")
    assert status == 201
    status, body = await api_ask(http, live, other_phone(valid_payload(session.id), "0987 000 222"),
                                 {"X-Forwarded-For": "198.51.100.20"})
    assert status == 403 and body["error"]["code"] == "sender_blocked"
    assert re.search(r"đến \d\d:\d\d \d\d/\d\d/\d{4}", body["error"]["message"])  # a set time: until when
    status, body = await api_ask(http, live, other_phone(valid_payload(session.id), "0987 000 333"),
                                 {"X-Forwarded-For": "198.51.100.21"})
    assert status == 201

    # neither the blocks nor the askers' sender columns hold the phone or the address in clear
    async with live.store.read_engine.connect() as conn:
        blocks = (await conn.exec_driver_sql("SELECT * FROM sender_blocks")).fetchall()
        senders = (await conn.exec_driver_sql("SELECT viewer_hash, address_hash FROM askers")).fetchall()
    stored_text = json.dumps([list(map(str, row)) for row in [*blocks, *senders]])
    for secret in ("0912345678", "912345678", "198.51.100.20"):
        assert secret not in stored_text
    key = SenderKey(live.settings.secret_key)
    address = key.sender(None, "198.51.100.20").address
    assert address is not None and address in stored_text and key.phone("0912345678") in stored_text

    # the list says which kinds are blocked, never a hash
    status, listed = await editor.get(f"/api/v1/blocks?session_id={session.id}")
    assert status == 200 and [b["kinds"] for b in listed["blocks"]] == [["address"], ["phone"]]
    assert key.phone("0912345678") not in json.dumps(listed)


async def test_everywhere_is_for_the_head_and_lifting_is_audited(live: RunningServer, viewer_client: Any,
                                                                 http: aiohttp.ClientSession) -> None:
    one, two = await live.new_session(SessionState.LIVE), await live.new_session(SessionState.ANNOUNCED)
    editor = await staff_member(live, http, "bientap", "editor")
    head = await staff_member(live, http, "truongban", "head")
    abuser = await socket_viewer(viewer_client, live, viewer_cookie(live), forwarded="203.0.113.7")
    stored = await ask(abuser, valid_payload(one.id))

    status, body = await editor.block(stored["question_id"], scope="everywhere")
    assert status == 403 and body["error"]["field"] == "scope"
    status, body = await head.block(stored["question_id"], scope="everywhere", duration="until_lifted")
    assert status == 201 and body["block"]["session_id"] is None and body["block"]["expires_at"] is None
    block_id = body["block"]["id"]
    for session_id in (one.id, two.id):  # every session, with the same phone under another name
        refused = await ask(abuser, other_phone(valid_payload(session_id), "0912 345 678"))
        assert refused["error"]["code"] == "sender_blocked"
        assert refused["error"]["message"].endswith("từ người gửi này.")  # until lifted: no date

    status, body = await editor.post(f"/api/v1/blocks/{block_id}/lift", {"reason": "Đã xác minh nhầm"})
    assert status == 403
    status, body = await head.post(f"/api/v1/blocks/{block_id}/lift", {"reason": "Hi"})
    assert status == 400 and body["error"]["field"] == "reason"
    status, body = await head.post(f"/api/v1/blocks/{block_id}/lift", {"reason": "Đã xác minh nhầm người"})
    assert status == 200 and body["block"]["active"] is False and body["block"]["lifted_by"] == "truongban"
    assert (await ask(abuser, valid_payload(two.id)))["ok"] is True
    status, body = await head.post(f"/api/v1/blocks/{block_id}/lift", {"reason": "Đã xác minh nhầm người"})
    assert status == 409 and body["error"]["field"] == "block_id"
    status, body = await head.post("/api/v1/blocks/999/lift", {"reason": "Đã xác minh nhầm người"})
    assert status == 404

    status, listed = await editor.get("/api/v1/blocks")
    assert status == 200 and listed["blocks"] == []
    status, listed = await editor.get("/api/v1/blocks?ended=1")
    assert [b["lift_reason"] for b in listed["blocks"]] == ["Đã xác minh nhầm người"]
    [lifted] = await audit_entries(live, "sender_unblock")
    assert lifted["actor"] == "truongban" and lifted["detail"] == {"block_id": block_id,
                                                                  "reason": "Đã xác minh nhầm người"}


async def test_who_may_block_and_what_is_checked(live: RunningServer, viewer_client: Any,
                                                 http: aiohttp.ClientSession) -> None:
    session = await live.new_session(SessionState.LIVE)
    editor = await staff_member(live, http, "bientap", "editor")
    head = await staff_member(live, http, "truongban", "head")
    chair = await staff_member(live, http, "chutri", "chair")
    responder = await staff_member(live, http, "sxd", "responder")
    stored = await ask(await socket_viewer(viewer_client, live, viewer_cookie(live)), valid_payload(session.id))
    question_id = stored["question_id"]

    async with http.post(f"{live.url}/api/v1/questions/{question_id}/block", json={}) as response:
        assert response.status == 401
    for outsider in (chair, responder):
        assert (await outsider.block(question_id))[0] == 403
        assert (await outsider.get("/api/v1/blocks"))[0] == 403
    for params, field in (({"scope": "planet"}, "scope"), ({"duration": "forever"}, "duration"),
                          ({"kinds": []}, "kinds"), ({"kinds": ["email"]}, "kinds"), ({"reason": "xx"}, "reason"),
                          ({"reason": None}, "reason")):
        status, body = await editor.block(question_id, **params)
        assert status == 400 and body["error"]["field"] == field, (params, body)
    assert (await editor.block(999_999))[0] == 404

    # the sender of a complaint moved to the formal channel: only the head knows who that is
    async with live.store.write_engine.begin() as conn:
        await conn.exec_driver_sql("UPDATE questions SET protected = 1 WHERE id = ?", (question_id,))
    status, body = await editor.block(question_id)
    assert status == 403 and body["error"]["field"] == "question_id"
    assert (await head.block(question_id))[0] == 201
    assert await audit_entries(live, "sender_block") and len(await audit_entries(live, "sender_block")) == 1


async def test_a_block_for_a_set_time_ends_by_itself(live: RunningServer, viewer_client: Any,
                                                     http: aiohttp.ClientSession) -> None:
    session = await live.new_session(SessionState.LIVE)
    editor = await staff_member(live, http, "bientap", "editor")
    now = [datetime.now(UTC)]
    live.app[blocks_key].clock = lambda: now[0]  # the node's clock, injected
    abuser = await socket_viewer(viewer_client, live, viewer_cookie(live))
    stored = await ask(abuser, valid_payload(session.id))
    status, body = await editor.block(stored["question_id"], duration="1h")
    assert status == 201
    assert datetime.fromisoformat(body["block"]["expires_at"]) == now[0] + timedelta(hours=1)

    now[0] += timedelta(minutes=59)
    assert (await ask(abuser, valid_payload(session.id)))["error"]["code"] == "sender_blocked"
    now[0] += timedelta(minutes=2)
    assert (await ask(abuser, valid_payload(session.id)))["ok"] is True
    status, listed = await editor.get("/api/v1/blocks")
    assert listed["blocks"] == []  # no longer in force
    status, listed = await editor.get("/api/v1/blocks?ended=1")
    assert [b["active"] for b in listed["blocks"]] == [False]


@pytest.mark.slow
def test_the_cli_blocks_and_a_running_server_follows(server_process: Callable[..., ServerProcess],
                                                     tmp_path: Path) -> None:
    import asyncio

    data_dir = tmp_path / "data"
    created = run_cli("session", "create", "--title", "Đối thoại", "--chair", "Nguyễn Văn Tùng", "--start",
                      "2026-12-15T09:00:00+07:00", "--minutes", "90", data_dir=data_dir)
    session_id = json.loads(created.stdout)["id"]
    run_cli("session", "announce", str(session_id), data_dir=data_dir)
    server = server_process()
    server.start()

    async def send(phone: str) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as http, http.post(
                f"{server.url}/api/v1/sessions/{session_id}/questions",
                json=other_phone(valid_payload(session_id), phone)) as response:
            return response.status, await response.json()

    status, stored = asyncio.run(send("0912 345 678"))
    assert status == 201
    refused = run_cli("block", "add", str(stored["question_id"]), "--for", "1d", "--reason", "x", data_dir=data_dir,
                      check=False)
    assert refused.returncode == 1 and "lý do chặn (5 đến 300 ký tự)" in refused.stderr
    added = json.loads(run_cli("block", "add", str(stored["question_id"]), "--for", "30d", "--kind", "phone",
                               "--reason", "Spam liên tục trong phiên", data_dir=data_dir).stdout)
    assert added["kinds"] == ["phone"] and added["created_by"] == "cli" and added["scope"] == "session"

    # the running server hears of it from the store (within its session poll interval)
    async def until_refused() -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            status, body = await send("0912345678")
            if status == 403:
                return body
            assert status == 201
            await asyncio.sleep(0.1)
        raise AssertionError("the server never refused the blocked phone")

    assert asyncio.run(until_refused())["error"]["code"] == "sender_blocked"
    assert asyncio.run(send("0987 654 321"))[0] == 201

    listed = [json.loads(line) for line in run_cli("block", "list", data_dir=data_dir).stdout.splitlines()]
    assert [b["id"] for b in listed] == [added["id"]]
    assert "0912345678" not in json.dumps(listed)
    lifted = json.loads(run_cli("block", "lift", str(added["id"]), "--reason", "Người gửi đã xin lỗi",
                                data_dir=data_dir).stdout)
    assert lifted["active"] is False

    async def until_accepted() -> None:
        deadline = asyncio.get_running_loop().time() + 30
        while (await send("0912345678"))[0] != 201:
            assert asyncio.get_running_loop().time() < deadline, "the lift never reached the server"
            await asyncio.sleep(0.1)

    asyncio.run(until_accepted())
    assert run_cli("block", "list", data_dir=data_dir).stdout == ""
    shown = [json.loads(line) for line in run_cli("audit", "show", data_dir=data_dir).stdout.splitlines()]
    assert [e["action"] for e in shown if e["action"].startswith("sender_")] == ["sender_block", "sender_unblock"]


async def test_poll_picks_up_blocks_made_elsewhere(live: RunningServer, viewer_client: Any,
                                                   http: aiohttp.ClientSession) -> None:
    """A block written by another node (here: straight through the store, as the CLI does) is in
    force on this node after its next poll, with no request to this node's API."""
    from moderation.blocks import SenderBlocks
    from moderation.roles import CLI_ACTOR

    session = await live.new_session(SessionState.LIVE)
    abuser = await socket_viewer(viewer_client, live, viewer_cookie(live))
    stored = await ask(abuser, valid_payload(session.id))
    elsewhere = SenderBlocks(live.store, SenderKey(live.settings.secret_key))
    await elsewhere.block(stored["question_id"], {"duration": "1d", "reason": "Từ nút khác"}, CLI_ACTOR)

    async def refused() -> bool:
        return (await ask(abuser, valid_payload(session.id))).get("error", {}).get("code") == "sender_blocked"

    await wait_for(lambda: bool(live.app[blocks_key].list), 10)
    assert await refused()


@pytest.mark.browser
async def test_the_console_blocks_and_lifts_from_a_question_card(live: RunningServer, browser: Any,
                                                                 viewer_client: Any) -> None:
    """The editor blocks the sender from the card's control, sees the block in the panel, and lifts it
    there; the sender's questions are refused meanwhile. No phone or address reaches the page."""
    from tests.browser import CHROMIUM, log_in, open_viewer
    from tests.test_accessibility import assert_accessible, new_person

    assert CHROMIUM.exists()
    session = await live.new_session(SessionState.LIVE)
    await Accounts(live.store).add_user("bientap", "editor", PASSWORD)
    abuser = await socket_viewer(viewer_client, live, viewer_cookie(live), forwarded="203.0.113.7")
    stored = await ask(abuser, valid_payload(session.id))
    question_id = stored["question_id"]

    context = await new_person(browser, {"width": 1440, "height": 900})  # lets axe in (the page's CSP would not)
    editor = await open_viewer(browser, f"{live.url}/login?next=/mod/{session.id}", context=context,
                               wait_joined=False)
    page = editor.page
    await log_in(page, "bientap", PASSWORD, f"/mod/{session.id}", "#console[data-live=joined]")
    control = page.locator(f"#qc-{question_id} .act-block")
    await control.wait_for(state="attached", timeout=10000)
    await control.scroll_into_view_if_needed()
    await control.click()
    await page.wait_for_selector("#block-dialog[open]")
    assert await page.locator("#blk-kind-viewer").is_checked() and not await page.locator("#blk-kind-address").is_checked()
    assert await page.locator("#blk-scope-everywhere").count() == 0  # every session: the head's
    await assert_accessible(page, "the block dialog")
    await page.check("#blk-duration-1h")
    await page.click("#block-submit")  # no reason yet: refused on the page, focus on the reason
    assert "5" in (await page.text_content("#block-error") or "")
    await page.fill("#blk-reason", "Gửi tin quấy rối liên tục")
    await page.click("#block-submit")
    await page.wait_for_function("() => !document.getElementById('block-dialog').open")
    await page.wait_for_function("() => document.querySelectorAll('#blocks-list .block-row').length === 1")
    await page.click("#blocks-panel summary")
    await assert_accessible(page, "the blocks panel")
    row = await page.text_content("#blocks-list .block-row") or ""
    assert "#1" in row and "bientap" in row and "Gửi tin quấy rối liên tục" in row
    html = await page.content()
    assert "0912" not in html and "345 678" not in html and "203.0.113.7" not in html

    assert (await ask(abuser, valid_payload(session.id)))["error"]["code"] == "sender_blocked"
    [entry] = await audit_entries(live, "sender_block")
    assert entry["detail"]["duration"] == "1h" and entry["detail"]["kinds"] == ["viewer", "phone"]

    await page.click("#blocks-list .block-row button")
    await page.wait_for_selector("#block-dialog[open]")
    await page.fill("#blk-lift-reason", "Đã trao đổi với người gửi")
    await page.click("#block-submit")
    await page.wait_for_function("() => document.querySelectorAll('#blocks-list .block-row').length === 0")
    assert (await ask(abuser, valid_payload(session.id)))["ok"] is True
    assert editor.unexpected_errors() == []
    await editor.close()


@pytest.mark.slow
async def test_blocks_on_postgresql(start_server: Callable[..., Any], http: aiohttp.ClientSession,
                                    viewer_client: Any) -> None:
    """The same rules on PostgreSQL: the sender's hashes stored at intake, the block, the refusal
    before the write, the lift, and the audit chain across them."""
    from tests.postgres import cluster

    for postgres in cluster():
        server: RunningServer = await start_server(database=postgres.new_database(),
                                                   trusted_proxies=["127.0.0.1/32"])
        assert server.store.url.startswith("postgresql+asyncpg://")
        session = await server.new_session(SessionState.LIVE)
        editor = await staff_member(server, http, "bientap", "editor")
        abuser = await socket_viewer(viewer_client, server, viewer_cookie(server), forwarded="203.0.113.7")
        stored = await ask(abuser, valid_payload(session.id))
        status, body = await editor.block(stored["question_id"], kinds=["viewer", "address", "phone"])
        assert status == 201 and body["block"]["kinds"] == ["viewer", "address", "phone"]
        assert (await ask(abuser, other_phone(valid_payload(session.id), "0987 654 321")))["error"]["code"] == \
            "sender_blocked"
        assert (await ask(abuser, valid_payload(session.id)))["error"]["code"] == "sender_blocked"
        status, body = await editor.post(f"/api/v1/blocks/{body['block']['id']}/lift", {"reason": "Nhầm người gửi"})
        assert status == 200
        assert (await ask(abuser, valid_payload(session.id)))["ok"] is True
        async with server.store.read_engine.connect() as conn:
            assert (await conn.run_sync(audit.verify)).ok
        assert len(await server.store.register(session.id)) == 2
