"""Question intake over Socket.IO, the JSON API and the HTML form, against a real server."""

from __future__ import annotations

import asyncio
import html
import logging
import math
import re
import time
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import select

from moderation.consent import CONSENT_TEXTS, CURRENT_CONSENT
from moderation.receipts import normalize_receipt
from moderation.schema import consent_records
from moderation.sessions import SessionState
from tests.conftest import RunningServer, valid_payload, wait_for

RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


async def submit(client: socketio.AsyncClient, payload: Any) -> dict[str, Any]:
    result: dict[str, Any] = await client.call("submit_question", payload, namespace="/viewer", timeout=10)
    return result


async def test_submission_is_acknowledged_with_receipt_and_registered(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session(fields=["Đất đai", "Giao thông"])
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id, field="Đất đai"))
    assert ack["ok"] is True
    assert RECEIPT.match(ack["receipt"])
    register = await server.store.register(session.id)
    assert len(register) == 1
    row = register[0]
    assert row["question_id"] == ack["question_id"] and row["receipt"] == ack["receipt"]
    assert row["asker"] == {"kind": "person", "name": "Nguyễn Văn An", "address": "12 Lạch Tray, Ngô Quyền, Hải Phòng",
                            "phone": "0912345678", "name_shown": "short"}
    assert row["field"] == "Đất đai" and row["state"] == "received" and row["channel"] == "socketio"
    assert row["consent_version"] == "2026-12-v3"


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"asker": {"kind": "person", "name": "", "address": "x, y", "phone": "0912345678"}}, "asker.name", "họ và tên"),
        ({"asker": {"kind": "person", "name": "An", "address": "x, y", "phone": "0912345678"}}, "asker.name", "đầy đủ"),
        ({"asker": {"kind": "organization", "name": "Công ty A", "address": "", "phone": "0912345678"}},
         "asker.address", "trụ sở"),
        ({"asker": {"kind": "person", "name": "Lê Văn B", "address": "x, y", "phone": "12345"}}, "asker.phone",
         "Số điện thoại không hợp lệ"),
        ({"asker": {"kind": "person", "name": "Lê Văn B", "address": "x, y", "phone": "+1 212 555 0100"}},
         "asker.phone", "+84"),
        ({"asker": {"kind": "robot", "name": "Lê Văn B", "address": "x, y", "phone": "0912345678"}}, "asker.kind",
         "không hợp lệ"),
        ({"text": "ngắn"}, "text", "quá ngắn"),
        ({"text": "x" * 2001}, "text", "tối đa 2000"),
        ({"text": "\u0000\u200b  \n"}, "text", "nhập nội dung"),
        ({"consent": False}, "consent", "đồng ý"),
        ({"field": "Không có"}, "field", "Lĩnh vực"),
        ({"idempotency_key": "short"}, "idempotency_key", "8–80"),
        # Điều 21: a person gives a phone, an organisation its name, a person a permanent address
        ({"asker": {"kind": "person", "name": "Lê Văn B", "address": "x, y"}}, "asker.phone",
         "Vui lòng nhập số điện thoại"),
        ({"asker": {"kind": "organization", "name": "", "address": "45 Điện Biên Phủ, Hồng Bàng",
                    "phone": "02253812345"}}, "asker.name", "tên cơ quan, tổ chức"),
        ({"asker": {"kind": "person", "name": "Lê Văn B", "address": "", "phone": "0912345678"}}, "asker.address",
         "địa chỉ thường trú"),
    ],
)
async def test_invalid_submissions_name_the_field(
    server: RunningServer, viewer_client: Any, change: dict[str, Any], field: str, needle: str
) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id, **change))
    assert ack["ok"] is False
    assert ack["error"]["code"] == "validation"
    assert ack["error"]["field"] == field
    assert needle in ack["error"]["message"]
    assert await server.store.register(session.id) == []


async def test_every_problem_is_listed_and_english_is_available(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url, auth={"lang": "en"})
    ack = await submit(client, valid_payload(session.id, asker={"kind": "person", "name": "", "address": "",
                                                                "phone": "abc"}, consent=False))
    fields = [p["field"] for p in ack["error"]["problems"]]
    assert fields == ["asker.name", "asker.address", "asker.phone", "consent"]
    assert ack["error"]["message"] == "Please enter your full name."


@pytest.mark.parametrize("phone", ["0912345678", "091 234 5678", "+84 912 345 678", "0084912345678", "0225.3812.345"])
async def test_vietnamese_phone_numbers_accepted(server: RunningServer, viewer_client: Any, phone: str) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    payload = valid_payload(session.id)
    payload["asker"]["phone"] = phone
    assert (await submit(client, payload))["ok"] is True


async def test_text_is_nfc_normalised_and_controls_removed(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    decomposed = unicodedata.normalize("NFD", "Đất đai ở phường Lạch Tray\u202e có\u0007 vấn đề gì?")
    payload = valid_payload(session.id, text=decomposed)
    payload["asker"]["name"] = unicodedata.normalize("NFD", "  Nguyễn   Thị\tHà ")
    assert (await submit(client, payload))["ok"]
    row = (await server.store.register(session.id))[0]
    assert row["text"] == "Đất đai ở phường Lạch Tray có vấn đề gì?"
    assert unicodedata.is_normalized("NFC", row["text"])
    assert row["asker"]["name"] == "Nguyễn Thị Hà"


async def test_state_errors(server: RunningServer, viewer_client: Any) -> None:
    draft = await server.new_session(SessionState.DRAFT)
    closed = await server.new_session(SessionState.CLOSED)
    client = await viewer_client(server.url)
    assert (await submit(client, valid_payload(draft.id)))["error"]["code"] == "session_not_open"
    # a draft is not public: joining it is refused like an unknown session
    assert (await client.call("join", {"session_id": draft.id}, namespace="/viewer"))["error"]["code"] == "not_found"
    assert (await submit(client, valid_payload(closed.id)))["error"]["code"] == "session_closed"
    assert (await submit(client, valid_payload(99999)))["error"]["code"] == "not_found"
    assert (await submit(client, valid_payload("abc")))["error"]["code"] == "validation"
    assert (await submit(client, ["not", "an", "object"]))["error"]["code"] == "validation"
    # a closed session's message says so, even when the form is also wrong
    ack = await submit(client, valid_payload(closed.id, text=""))
    assert ack["error"]["code"] == "session_closed"
    assert "kết thúc" in ack["error"]["message"]


async def test_draft_session_over_http_answers_session_not_open(server: RunningServer,
                                                                http: aiohttp.ClientSession) -> None:
    draft = await server.new_session(SessionState.DRAFT)
    async with http.post(f"{server.url}/api/v1/sessions/{draft.id}/questions", json=valid_payload(draft.id)) as resp:
        assert resp.status == 409
        body = await resp.json()
    assert body["ok"] is False
    assert (body["error"]["code"], body["error"]["field"]) == ("session_not_open", "session_id")
    assert "chưa mở nhận câu hỏi" in body["error"]["message"]
    # the HTML form has no page to come from: a draft is not public, so it answers like an unknown id
    async with http.post(f"{server.url}/s/{draft.id}/questions", data={"text": "x"}, allow_redirects=False) as resp:
        assert resp.status == 404
    assert await server.store.register(draft.id) == []


async def test_too_large(server: RunningServer, viewer_client: Any, http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id, text="a" * 20_000))
    assert ack["error"]["code"] == "too_large"
    # far above the limit, still an answer (not a dropped connection an outbox would resend into)
    huge = valid_payload(session.id)
    huge["asker"]["phone"] = "9" * 150_000
    assert (await submit(client, huge))["error"]["code"] == "too_large"
    assert client.connected
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions",
                         json=valid_payload(session.id, text="a" * 20_000)) as resp:
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "too_large"


async def test_rate_limited_per_connection_with_retry_time(start_server: Any, viewer_client: Any) -> None:
    server = await start_server(questions_per_connection_burst=2, questions_per_connection_per_minute=6)
    session = await server.new_session()
    client = await viewer_client(server.url)
    acks = [await submit(client, valid_payload(session.id)) for _ in range(3)]
    assert [a["ok"] for a in acks] == [True, True, False]
    err = acks[2]["error"]
    assert err["code"] == "rate_limited" and 1 <= err["retry_after"] <= 10
    assert f"{err['retry_after']} giây" in err["message"]
    # another connection from the same address still has its own allowance
    other = await viewer_client(server.url)
    assert (await submit(other, valid_payload(session.id)))["ok"]


async def test_rate_limited_per_ip_and_trusted_proxy(start_server: Any, http: aiohttp.ClientSession) -> None:
    server = await start_server(questions_per_ip_burst=2, questions_per_ip_per_minute=2,
                                trusted_proxies=["127.0.0.0/8"])
    session = await server.new_session()
    url = f"{server.url}/api/v1/sessions/{session.id}/questions"

    async def post(forwarded_for: str) -> int:
        async with http.post(url, json=valid_payload(session.id), headers={"X-Forwarded-For": forwarded_for}) as r:
            return r.status

    assert [await post("203.0.113.7") for _ in range(3)] == [201, 201, 429]
    # behind the trusted proxy, another client address is another bucket
    assert await post("203.0.113.8") == 201
    # a client cannot dodge the limit by prepending its own X-Forwarded-For entries
    assert await post("1.2.3.4, 203.0.113.7") == 429


async def test_rate_limited_per_ip_over_http_says_when_to_retry(start_server: Any,
                                                                http: aiohttp.ClientSession) -> None:
    # one question a minute per address: the second must wait for a whole token to refill
    server = await start_server(questions_per_ip_burst=1, questions_per_ip_per_minute=1)
    session = await server.new_session()
    url = f"{server.url}/api/v1/sessions/{session.id}/questions"
    first = time.monotonic()
    async with http.post(url, json=valid_payload(session.id)) as resp:
        assert resp.status == 201
    async with http.post(url, json=valid_payload(session.id)) as resp:
        assert resp.status == 429
        error = (await resp.json())["error"]
        header = resp.headers["Retry-After"]
    took = time.monotonic() - first
    assert error["code"] == "rate_limited" and error["field"] is None
    # 60 s for a token, less the moment since the first question, rounded up to whole seconds
    assert 60 - math.ceil(took) <= error["retry_after"] <= 60, (error, took)
    assert header == str(error["retry_after"])
    assert f"thử lại sau {error['retry_after']} giây" in error["message"]
    async with http.post(url, json=valid_payload(session.id), headers={"Accept-Language": "en-US"}) as resp:
        assert resp.status == 429
        english = (await resp.json())["error"]
        assert resp.headers["Retry-After"] == str(english["retry_after"])
    assert f"try again in {english['retry_after']} seconds" in english["message"]
    assert len(await server.store.register(session.id)) == 1


async def test_rate_limit_can_be_turned_off(start_server: Any, viewer_client: Any) -> None:
    server = await start_server(rate_limit=False, questions_per_connection_burst=1)
    session = await server.new_session()
    client = await viewer_client(server.url)
    acks = await asyncio.gather(*(submit(client, valid_payload(session.id)) for _ in range(20)))
    assert all(a["ok"] for a in acks)


async def test_idempotent_resend_returns_same_receipt(start_server: Any, viewer_client: Any,
                                                      http: aiohttp.ClientSession) -> None:
    # Rate limits off: resends count against them like any message (the server cannot know a
    # message is a resend before it looks), and this test sends many on one connection.
    server = await start_server(rate_limit=False)
    session = await server.new_session()
    client = await viewer_client(server.url)
    payload = valid_payload(session.id)
    first = await submit(client, payload)
    # the same key again: sequentially, concurrently (lands in one write batch), and over HTTP
    again = await submit(client, payload)
    burst = await asyncio.gather(*(submit(client, payload) for _ in range(5)))
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions", json=payload) as resp:
        assert resp.status == 201
        over_http = await resp.json()
    for ack in [again, *burst, over_http]:
        assert ack == first
    # a brand-new key sent twice at once is stored once
    fresh = valid_payload(session.id)
    pair = await asyncio.gather(submit(client, fresh), submit(client, fresh))
    assert pair[0] == pair[1]
    assert len(await server.store.register(session.id)) == 2


async def test_resend_after_close_still_gets_its_receipt(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    payload = valid_payload(session.id)
    first = await submit(client, payload)
    await server.store.transition_session(session.id, SessionState.CLOSED)
    assert await submit(client, payload) == first
    assert (await submit(client, valid_payload(session.id)))["error"]["code"] == "session_closed"


async def test_close_racing_with_submissions_is_atomic(start_server: Any, viewer_client: Any) -> None:
    server = await start_server(rate_limit=False)
    session = await server.new_session(SessionState.LIVE)
    clients = [await viewer_client(server.url) for _ in range(10)]
    acks: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def flood(client: socketio.AsyncClient) -> None:
        while not stop.is_set():
            acks.append(await submit(client, valid_payload(session.id)))

    tasks = [asyncio.create_task(flood(c)) for c in clients]
    await wait_for(lambda: len(acks) > 150, timeout=15)
    closed = await server.store.transition_session(session.id, SessionState.CLOSED)
    refused_after = len([a for a in acks if not a["ok"]])
    await wait_for(lambda: len([a for a in acks if not a["ok"]]) >= refused_after + 20, timeout=10)
    stop.set()
    await asyncio.gather(*tasks)

    ok = [a for a in acks if a["ok"]]
    refused = [a for a in acks if not a["ok"]]
    assert ok and refused
    assert {a["error"]["code"] for a in refused} == {"session_closed"}
    register = await server.store.register(session.id)
    # every acknowledged question is stored, and nothing else is
    assert sorted(r["receipt"] for r in register) == sorted(a["receipt"] for a in ok)
    assert all(r["received_at"] <= closed.closed_at.isoformat() for r in register)
    # askers and consent rows are complete for every stored question (nothing half-stored)
    assert all(r["asker"]["phone"] and r["consent_version"] for r in register)


async def test_http_api(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    url = f"{server.url}/api/v1/sessions/{session.id}/questions"
    async with http.post(url, json=valid_payload(session.id)) as resp:
        assert resp.status == 201
        body = await resp.json()
        assert body["ok"] and RECEIPT.match(body["receipt"])
    async with http.post(url, json=valid_payload(session.id, consent=None)) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["field"] == "consent"
    async with http.post(url, data="{not json", headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "validation"
    async with http.post(url, data="text=hi") as resp:  # a cross-site form cannot send JSON
        assert resp.status == 400 and "application/json" in (await resp.json())["error"]["message"]
    async with http.post(f"{server.url}/api/v1/sessions/424242/questions", json=valid_payload(424242)) as resp:
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    async with http.post(url, json=valid_payload(session.id + 1)) as resp:  # body names another session
        assert resp.status == 400 and (await resp.json())["error"]["field"] == "session_id"
    async with http.post(url, json=valid_payload(session.id), headers={"Origin": "https://evil.example"}) as resp:
        assert resp.status == 403
    async with http.get(f"{server.url}/api/v1/sessions/{session.id}") as resp:
        assert (await resp.json())["intake_open"] is True
    async with http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200
    await server.store.transition_session(session.id, SessionState.CLOSED)
    async with http.post(url, json=valid_payload(session.id)) as resp:
        assert resp.status == 409 and (await resp.json())["error"]["code"] == "session_closed"
    assert len(await server.store.register(session.id)) == 1


async def test_receipts_never_show_phone_or_address(server: RunningServer, viewer_client: Any,
                                                    http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id))
    receipt = ack["receipt"]
    for variant in (receipt, receipt.lower(), receipt.replace("-", "")):
        async with http.get(f"{server.url}/api/v1/receipts/{variant}") as resp:
            assert resp.status == 200
            body = await resp.json()
            assert body["receipt"] == receipt and body["state"] == "received" and body["public"] is False
            raw = await resp.text()
    async with http.get(f"{server.url}/q/{receipt}") as resp:
        page = await resp.text()
        assert resp.status == 200 and receipt in page
    for secret in ("0912345678", "912 345 678", "Lạch Tray", "Nguyễn Văn An"):
        assert secret not in raw and secret not in page
    await server.store.apply_action(ack["question_id"], "decline", reason="outside_city_remit")
    async with http.get(f"{server.url}/api/v1/receipts/{receipt}") as resp:
        assert (await resp.json())["decline_reason"] == "outside_city_remit"
    async with http.get(f"{server.url}/q/{receipt}") as resp:
        assert "Ngoài thẩm quyền của thành phố" in await resp.text()
    async with http.get(f"{server.url}/api/v1/receipts/AAAA-BBBB-CCCC") as resp:
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    async with http.get(f"{server.url}/q/nonsense") as resp:
        assert resp.status == 404


def test_receipt_normalisation() -> None:
    assert normalize_receipt("abcd efgh jkmn") == "ABCD-EFGH-JKMN"
    assert normalize_receipt("0O1I-LLLL-UUUU") == "0011-1111-VVVV"  # confusable letters read as digits
    assert normalize_receipt("ABC") is None


async def test_public_questions_and_interest_counted_once_live(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    asker = await viewer_client(server.url)
    ack = await submit(asker, valid_payload(session.id, text="Câu hỏi công khai về đường Lạch Tray?"))
    hidden = await submit(asker, valid_payload(session.id, text="Câu hỏi chưa được duyệt thì không công khai."))

    watcher = await viewer_client(server.url)
    events: list[tuple[str, Any]] = []
    watcher.on("question", lambda data: events.append(("question", data)), namespace="/viewer")
    watcher.on("interest", lambda data: events.append(("interest", data)), namespace="/viewer")
    joined = await watcher.call("join", {"session_id": session.id}, namespace="/viewer")
    assert joined["ok"] and joined["questions"] == []  # nothing public before a moderator accepts

    await server.store.apply_action(ack["question_id"], "accept")
    await wait_for(lambda: any(kind == "question" for kind, _ in events))
    shown = next(data for kind, data in events if kind == "question")
    assert shown["id"] == ack["question_id"] and shown["public_name"] == "Nguyễn V. A."
    assert "phone" not in str(shown) and "Lạch Tray, Ngô Quyền" not in str(shown)

    viewer_key = "viewer-" + uuid.uuid4().hex
    first = await watcher.call("mark_interest", {"question_id": ack["question_id"], "viewer_key": viewer_key},
                               namespace="/viewer")
    second = await watcher.call("mark_interest", {"question_id": ack["question_id"], "viewer_key": viewer_key},
                                namespace="/viewer")
    other = await asker.call("mark_interest", {"question_id": ack["question_id"], "viewer_key": "another-viewer-1"},
                             namespace="/viewer")
    assert (first["count"], first["counted"]) == (1, True)
    assert (second["count"], second["counted"]) == (1, False)
    assert other["count"] == 2
    await wait_for(lambda: ("interest", {"question_id": ack["question_id"], "count": 2}) in events)
    # a question that is not public cannot be marked
    refused = await watcher.call("mark_interest", {"question_id": hidden["question_id"], "viewer_key": viewer_key},
                                 namespace="/viewer")
    assert refused["error"]["code"] == "not_found"
    rejoined = await watcher.call("join", {"session_id": session.id}, namespace="/viewer")
    assert [(q["id"], q["interest_count"]) for q in rejoined["questions"]] == [(ack["question_id"], 2)]


async def test_xss_is_rendered_inert(server: RunningServer, viewer_client: Any, http: aiohttp.ClientSession) -> None:
    session = await server.new_session(title="<script>alert('title')</script>")
    client = await viewer_client(server.url)
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    payload = valid_payload(session.id, text=f"Câu hỏi {evil}")
    payload["asker"]["name"] = '<b onmouseover="x()">Trần</b> Văn Bình'
    payload["asker"]["name_shown"] = "full"
    ack = await submit(client, payload)
    await server.store.apply_action(ack["question_id"], "accept")
    for path in (f"/s/{session.id}", f"/q/{ack['receipt']}", "/"):
        async with http.get(server.url + path) as resp:
            html = await resp.text()
            assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        assert "&lt;img src=x onerror=" in await resp.text()


async def test_websocket_origin_check(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    # no Origin (a script, the portal's back end): served
    plain = await viewer_client(server.url)
    assert (await submit(plain, valid_payload(session.id)))["ok"]
    # the page's own origin: served
    own = await viewer_client(server.url, headers={"Origin": server.url})
    assert (await submit(own, valid_payload(session.id)))["ok"]
    # another site's page (cross-site websocket hijacking): refused
    with pytest.raises(socketio.exceptions.ConnectionError):
        await viewer_client(server.url, headers={"Origin": "https://evil.example"})


async def test_configured_origin_allowed(start_server: Any, viewer_client: Any) -> None:
    server = await start_server(allowed_origins=["https://congthongtin.haiphong.gov.vn"])
    session = await server.new_session()
    portal = await viewer_client(server.url, headers={"Origin": "https://congthongtin.haiphong.gov.vn"})
    assert (await submit(portal, valid_payload(session.id)))["ok"]


async def test_html_form_needs_csrf_token(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    form = {"kind": "person", "name": "Nguyễn Văn An", "address": "12 Lạch Tray, Ngô Quyền", "phone": "0912345678",
            "text": "Câu hỏi gửi qua biểu mẫu không có JavaScript?", "consent": "on",
            "idempotency_key": "form-" + uuid.uuid4().hex}
    async with http.post(f"{server.url}/s/{session.id}/questions", data=form, allow_redirects=False) as resp:
        assert resp.status == 403
    async with http.get(f"{server.url}/s/{session.id}") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token
    async with http.post(f"{server.url}/s/{session.id}/questions", data={**form, "csrf": token.group(1)},
                         allow_redirects=False) as resp:
        assert resp.status == 303
        receipt_path = resp.headers["Location"]
    assert receipt_path.startswith("/q/")
    # the browser's double submit (back button, second click) returns the same receipt
    async with http.post(f"{server.url}/s/{session.id}/questions", data={**form, "csrf": token.group(1)},
                         allow_redirects=False) as resp:
        assert resp.headers["Location"] == receipt_path
    register = await server.store.register(session.id)
    assert len(register) == 1 and register[0]["channel"] == "form"


async def test_consent_record_keeps_version_time_and_channel(server: RunningServer, viewer_client: Any,
                                                              http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    before = datetime.now(UTC)
    client = await viewer_client(server.url)
    by_socket = await submit(client, valid_payload(session.id))
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions",
                         json=valid_payload(session.id)) as resp:
        by_api = await resp.json()
    assert by_socket["ok"] and by_api["ok"]
    assert (await _form_post(http, server, session.id))[0] == 303
    after = datetime.now(UTC)

    # the consent record is the staff's proof of consent: read it where it is kept
    async with server.store.read_engine.connect() as conn:
        rows = (await conn.execute(select(consent_records).order_by(consent_records.c.question_id))).all()
    assert len(rows) == 3
    channels = {row.question_id: row.channel for row in rows}
    assert channels.pop(by_socket["question_id"]) == "socketio"
    assert channels.pop(by_api["question_id"]) == "api"
    assert list(channels.values()) == ["form"]
    for row in rows:
        assert row.consent_version == CURRENT_CONSENT
        assert row.accepted_at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= row.accepted_at <= after + timedelta(seconds=1)


async def test_form_states_the_purpose_beside_the_consent_box(server: RunningServer,
                                                              http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    consent = CONSENT_TEXTS[CURRENT_CONSENT]
    # in plain Vietnamese: why the data is asked for, who sees it, how long it is kept
    for phrase in ("ghi nhận câu hỏi", "chỉ Ban Biên tập", "không bao giờ công khai", "12 tháng"):
        assert phrase in consent.summary_vi
    for query, summary, full in (("", consent.summary_vi, consent.purpose_vi),
                                 ("?lang=en", consent.summary_en, consent.purpose_en)):
        async with http.get(f"{server.url}/s/{session.id}{query}") as resp:
            page = await resp.text()
        # what a viewer sees without opening anything: the short statement, and right after it the box
        unfolded = html.unescape(re.sub(r"<details.*?</details>", "", page, flags=re.S))
        assert summary in unfolded
        next_input = re.search(r"<input[^>]*>", unfolded[unfolded.index(summary):])
        assert next_input and 'id="f-consent"' in next_input.group(0)
        assert 'aria-describedby="consent-purpose"' in next_input.group(0)
        assert full in html.unescape(page) and full not in unfolded  # the full text is one click away


async def test_personal_data_never_logged(server: RunningServer, viewer_client: Any,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    session = await server.new_session()
    client = await viewer_client(server.url)
    payload = valid_payload(session.id)
    payload["asker"] = {"kind": "person", "name": "Phạm Minh Châu", "address": "99 Cầu Đất, Ngô Quyền",
                        "phone": "0987000111"}
    assert (await submit(client, payload))["ok"]
    bad = valid_payload(session.id)
    bad["asker"] = {"kind": "person", "name": "Phạm Minh Châu", "address": "99 Cầu Đất", "phone": "0987000"}
    assert not (await submit(client, bad))["ok"]
    logged = caplog.text
    assert "question" in logged  # the store did log the event
    for secret in ("Phạm Minh Châu", "Cầu Đất", "0987000111", "0987000"):
        assert secret not in logged


async def _csrf_token(http: aiohttp.ClientSession, server: RunningServer, session_id: int) -> str:
    async with http.get(f"{server.url}/s/{session_id}") as resp:
        token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert token
    return token.group(1)


async def _form_post(http: aiohttp.ClientSession, server: RunningServer, session_id: int,
                     token: str | None = None) -> tuple[int, str]:
    form = {"kind": "person", "name": "Nguyễn Văn An", "address": "12 Lạch Tray, Ngô Quyền", "phone": "0912345678",
            "text": "Câu hỏi gửi qua biểu mẫu không có JavaScript?", "consent": "on",
            "csrf": token or await _csrf_token(http, server, session_id), "idempotency_key": "form-" + uuid.uuid4().hex}
    async with http.post(f"{server.url}/s/{session_id}/questions", data=form, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def test_html_form_rate_limited_answers_429(start_server: Any, http: aiohttp.ClientSession) -> None:
    server = await start_server(questions_per_ip_burst=1, questions_per_ip_per_minute=1)
    session = await server.new_session()
    assert (await _form_post(http, server, session.id))[0] == 303
    status, page = await _form_post(http, server, session.id)
    assert status == 429 and "Vui lòng thử lại sau" in page
    assert len(await server.store.register(session.id)) == 1


async def test_html_form_after_close_answers_409(server: RunningServer, http: aiohttp.ClientSession) -> None:
    session = await server.new_session()
    token = await _csrf_token(http, server, session.id)  # the page was loaded while intake was open
    await server.store.transition_session(session.id, SessionState.CLOSED)
    status, page = await _form_post(http, server, session.id, token)
    assert status == 409 and "kết thúc" in page
    assert await server.store.register(session.id) == []


async def test_reused_key_with_other_content_is_refused_not_swallowed(server: RunningServer,
                                                                       viewer_client: Any) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    first = valid_payload(session.id)
    assert (await submit(client, first))["ok"]
    other = {**first, "text": "Một câu hỏi khác hẳn, gửi lại với mã cũ?"}
    ack = await submit(client, other)
    assert ack["ok"] is False
    assert (ack["error"]["code"], ack["error"]["field"]) == ("validation", "idempotency_key")
    assert "receipt" not in str(ack)  # nobody learns another question's receipt this way
    # the same content with the same key is still a resend
    assert (await submit(client, first))["ok"]
    assert len(await server.store.register(session.id)) == 1


async def test_one_bad_item_does_not_fail_the_batch(start_server: Any, viewer_client: Any) -> None:
    """A write that fails in the database (here: an id beyond 64 bits, were it let through) must
    cost only its own item, never the other questions committed in the same transaction."""
    server = await start_server(rate_limit=False)
    session = await server.new_session()
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id))
    await server.store.apply_action(ack["question_id"], "accept")
    bad = [client.call("mark_interest", {"question_id": 2**70}, namespace="/viewer", timeout=10)]
    good = [submit(client, valid_payload(session.id)) for _ in range(20)]
    results = await asyncio.gather(*bad, *good)
    assert results[0]["error"]["code"] == "not_found"
    assert all(r["ok"] for r in results[1:])
    assert len(await server.store.register(session.id)) == 21


async def test_interest_cannot_be_inflated_with_invented_keys(server: RunningServer, viewer_client: Any) -> None:
    session = await server.new_session()
    client = await viewer_client(server.url)
    ack = await submit(client, valid_payload(session.id))
    await server.store.apply_action(ack["question_id"], "accept")
    counts = [
        (await client.call("mark_interest", {"question_id": ack["question_id"], "viewer_key": f"invented-{i:04d}"},
                           namespace="/viewer"))["count"]
        for i in range(5)
    ]
    assert counts == [1, 1, 1, 1, 1]


async def test_hostile_inputs_get_clear_errors(server: RunningServer, http: aiohttp.ClientSession,
                                               viewer_client: Any) -> None:
    huge = "9" * 25
    async with http.get(f"{server.url}/api/v1/sessions/{huge}") as resp:
        assert resp.status == 404
    async with http.get(f"{server.url}/s/{huge}") as resp:
        assert resp.status == 404
    session = await server.new_session()
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions", data="[" * 5000,
                         headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "validation"
    client = await viewer_client(server.url)
    assert (await submit(client, valid_payload(int(huge))))["error"]["field"] == "session_id"
    # an event with two arguments gets an error ack, not silence
    two = await client.call("submit_question", (valid_payload(session.id), "extra"), namespace="/viewer")
    assert two["error"]["code"] == "validation"


async def test_database_errors_do_not_log_personal_data(server: RunningServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    from sqlalchemy import text as sql

    from moderation.consent import Channel
    from moderation.submission import parse_submission

    session = await server.new_session()
    payload = valid_payload(session.id)
    payload["asker"] = {"kind": "person", "name": "Đỗ Thị Hoa", "address": "7 Cầu Rào, Lê Chân", "phone": "0966111222"}
    # Break the askers table so the insert fails inside the batch.
    async with server.store.write_engine.begin() as conn:
        await conn.execute(sql("CREATE TRIGGER no_askers BEFORE INSERT ON askers BEGIN SELECT RAISE(ABORT, 'x'); END"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception):  # noqa: B017 - any database error: what matters is the log
        await server.store.submit_question(parse_submission(payload, channel=Channel.API))
    assert "write failed" in caplog.text
    for secret in ("Đỗ Thị Hoa", "Cầu Rào", "0966111222"):
        assert secret not in caplog.text
    assert await server.store.register(session.id) == []


async def test_healthz_answers_503_when_the_store_is_unreachable(server: RunningServer,
                                                                  http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.url}/healthz") as resp:
        assert resp.status == 200 and await resp.json() == {"ok": True}
    # The database file leaves the place the store opens it from: every new connection now fails, as
    # on a lost disk, although the pooled ones (still holding the moved file open) go on working.
    data_dir = server.settings.data_dir
    moved = data_dir.with_name("data-moved")
    data_dir.rename(moved)
    try:
        async with http.get(f"{server.url}/healthz") as resp:
            assert resp.status == 503
            assert await resp.json() == {"ok": False, "store": "unreachable"}
    finally:
        moved.rename(data_dir)
    async with http.get(f"{server.url}/healthz") as resp:  # and healthy again once it is back
        assert resp.status == 200
    # A missing database file is reported, not replaced by a new empty one.
    database = data_dir / "doithoai.sqlite3"
    database.rename(data_dir / "elsewhere.sqlite3")
    try:
        async with http.get(f"{server.url}/healthz") as resp:
            assert resp.status == 503
        assert not database.exists()
    finally:
        (data_dir / "elsewhere.sqlite3").rename(database)


async def test_cors_for_the_portal(start_server: Any, http: aiohttp.ClientSession) -> None:
    portal = "https://congthongtin.haiphong.gov.vn"
    server = await start_server(allowed_origins=[portal])
    session = await server.new_session()
    url = f"{server.url}/api/v1/sessions/{session.id}/questions"
    async with http.options(url, headers={"Origin": portal, "Access-Control-Request-Method": "POST"}) as resp:
        assert resp.status == 204 and resp.headers["Access-Control-Allow-Origin"] == portal
    async with http.post(url, json=valid_payload(session.id), headers={"Origin": portal}) as resp:
        assert resp.status == 201 and resp.headers["Access-Control-Allow-Origin"] == portal
    async with http.post(url, json=valid_payload(session.id), headers={"Origin": "https://evil.example"}) as resp:
        assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers


def test_rate_limiter_forgets_least_recently_used() -> None:
    from server.ratelimit import RateLimiter

    limiter = RateLimiter(60, 1, max_keys=3)
    for key in ("a", "b", "c"):
        assert limiter.take(key, now=0) == 0
    assert limiter.take("a", now=0.1) > 0  # "a" is now the most recently used
    assert limiter.take("d", now=0.2) == 0  # evicts "b", the least recently used
    assert limiter.take("a", now=0.3) > 0  # "a" was kept, still limited
    assert limiter.take("b", now=0.4) == 0  # "b" was forgotten: a fresh bucket


async def test_a_caller_that_goes_away_does_not_cancel_the_write(server: RunningServer) -> None:
    """A viewer whose connection drops mid-write stops waiting; the question is stored all the
    same, and the resend from its outbox finds it by key."""
    from moderation.consent import Channel
    from moderation.submission import parse_submission

    session = await server.new_session()
    submission = parse_submission(valid_payload(session.id), channel=Channel.SOCKET)
    waiting = asyncio.create_task(server.store.submit_question(submission))
    await asyncio.sleep(0)  # queued
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await wait_for(lambda: server.store.writer.items >= 1)
    resent = await server.store.submit_question(submission)
    assert resent.duplicate
    assert [r["receipt"] for r in await server.store.register(session.id)] == [resent.receipt]


async def test_staff_password_is_verified_against_its_argon2_hash(server: RunningServer) -> None:
    from moderation.accounts import Accounts
    from moderation.errors import Unauthorized

    accounts = Accounts(server.store)
    await accounts.add_user("lan", "editor", "mật khẩu đủ dài")
    signed = await accounts.sign_in("lan", "mật khẩu đủ dài", client="127.0.0.1")
    assert (signed.actor.name, signed.actor.role.value) == ("lan", "editor")
    assert await accounts.session_actor(signed.token) == signed.actor
    for name, password in (("lan", "sai mật khẩu"), ("nobody", "mật khẩu đủ dài")):
        with pytest.raises(Unauthorized):
            await accounts.sign_in(name, password, client="127.0.0.1")
