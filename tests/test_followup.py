"""What happens to each question after the session (moderation/followup.py), through the real server:
the deadlines set at the close by the session's rule set, in Vietnam's working-day calendar with the
store's overrides; the steps that meet them; the head's extension; and the outbox rows that tell the
asker and the department, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiohttp
from sqlalchemy import select, update

from moderation import schema as s
from moderation.calendar import Calendar, end_of_day, local_date
from moderation.calendar_store import load
from moderation.sessions import SessionState

from .conftest import RunningServer
from .staff import Staff, submit


async def _post(http: aiohttp.ClientSession, url: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.json()


async def _act(http: aiohttp.ClientSession, server: RunningServer, who: Staff, qid: int, action: str,
               **params: Any) -> tuple[int, Any]:
    version = (await server.store.get_question(qid)).version
    return await _post(http, f"{server.url}/api/v1/questions/{qid}/actions", who.token,
                       {"action": action, "version": version, **params})


async def _outbox(server: RunningServer, qid: int) -> list[tuple[str, str, str]]:
    async with server.store.read_engine.connect() as conn:
        rows = await conn.execute(select(s.notifications.c.kind, s.notifications.c.channel,
                                         s.notifications.c.state)
                                  .where(s.notifications.c.question_id == qid).order_by(s.notifications.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def _calendar(server: RunningServer) -> Calendar:
    async with server.store.read_engine.connect() as conn:
        return await conn.run_sync(load)


async def _receipt(http: aiohttp.ClientSession, server: RunningServer, receipt: str) -> dict[str, Any]:
    async with http.get(f"{server.url}/api/v1/receipts/{receipt}") as resp:
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body


async def test_the_close_sets_each_deadline_by_the_hai_phong_rules(
        server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
        staff: Callable[..., Awaitable[Staff]], http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    editor = await staff("bientap", "editor")
    head = await staff("truongban", "head")
    viewer = await viewer_client(server.url)
    acks = [await submit(viewer, session.id, text=f"Câu hỏi thứ {n} về việc cấp giấy chứng nhận đất ở")
            for n in range(6)]
    accepted, routed, forwarded, outside, refused, unscreened = (a["question_id"] for a in acks)
    for qid in (accepted, routed):
        assert (await _act(http, server, editor, qid, "accept"))[0] == 200
    assert (await _act(http, server, editor, routed, "route", department="Sở Tài nguyên và Môi trường"))[0] == 200
    assert (await _act(http, server, editor, forwarded, "decline", reason="outside_chair_remit"))[0] == 200
    assert (await _act(http, server, editor, outside, "decline", reason="outside_city_remit"))[0] == 200
    assert (await _act(http, server, editor, refused, "decline", reason="will_not_answer",
                       note="Nội dung đã được trả lời tại phiên trước"))[0] == 200
    # told at once, during the session: on the receipt page, and by SMS to the mobile number given
    assert await _outbox(server, outside) == [("outside_remit", "receipt", "sent"), ("outside_remit", "sms", "pending")]
    assert [k for k, ch, _ in await _outbox(server, refused) if ch == "receipt"] == ["will_not_answer"]
    assert [k for k, ch, _ in await _outbox(server, forwarded) if ch == "receipt"] == ["will_forward"]
    # the department hears of its routing by e-mail
    async with server.store.read_engine.connect() as conn:
        dept = (await conn.execute(select(s.notifications.c.department, s.notifications.c.kind)
                                   .where(s.notifications.c.audience == "department"))).all()
    assert [tuple(r) for r in dept] == [("Sở Tài nguyên và Môi trường", "routed")]
    # no date while the session runs: the clock starts at the close, and the message says so
    assert (await _receipt(http, server, acks[2]["receipt"]))["due"] is None
    async with http.get(f"{server.url}/q/{acks[2]['receipt']}") as resp:
        told = await resp.text()
    assert "trong 3 ngày kể từ khi phiên kết thúc" in told and "trước ngày ." not in told

    status, body = await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token,
                               {"action": "close"})
    assert status == 200, body
    closed = await server.store.get_session(session.id)
    assert closed.closed_at is not None
    close_day = local_date(closed.closed_at)
    cal = await _calendar(server)
    written, forward = cal.after_days(close_day, 15), cal.after_days(close_day, 3)
    for qid, receipt in ((accepted, acks[0]["receipt"]), (routed, acks[1]["receipt"])):
        q = await server.store.get_question(qid)
        assert (q.due_on, q.due_rule, q.due_from) == (written, "hai_phong.written_answer", close_day)
        body = await _receipt(http, server, receipt)
        assert body["due"] == written.isoformat() and body["due_rule"] == "hai_phong.written_answer"
        assert [k for k, ch, _ in await _outbox(server, qid) if ch == "receipt"] == ["follow_up"]
    f = await server.store.get_question(forwarded)
    assert (f.due_on, f.due_rule) == (forward, "hai_phong.forward")
    assert f.forward_due == end_of_day(forward)  # the end of its last day, Vietnam time
    for qid in (outside, refused, unscreened):
        assert (await server.store.get_question(qid)).due_on is None
    # a last day off moves to the next working day (Điều 148.5): never a weekend or a holiday
    assert cal.is_working_day(written) and cal.is_working_day(forward)

    # the receipt page says it in words
    async with http.get(f"{server.url}/q/{acks[2]['receipt']}") as resp:
        page = await resp.text()
    assert f'data-due="{forward.isoformat()}"' in page and "Chuyển đến cơ quan có thẩm quyền" in page
    assert "3 ngày" in page and "kể từ khi kết thúc phiên" in page

    # sent on: the deadline met on the record, the asker told where it went
    status, body = await _act(http, server, editor, forwarded, "forward", unit="UBND quận Ngô Quyền")
    assert status == 200, body
    body = await _receipt(http, server, acks[2]["receipt"])
    assert body["due"] is None and body["due_met"] is True and body["forwarded_to"] == "UBND quận Ngô Quyền"
    assert [k for k, ch, _ in await _outbox(server, forwarded) if ch == "receipt"] == ["will_forward", "forwarded"]
    assert (await _act(http, server, editor, forwarded, "forward", unit="Lần nữa"))[0] == 409

    # screened after the close: the clock still counts from the close, and the head must approve it
    assert (await _act(http, server, editor, unscreened, "accept"))[0] == 200
    late = await server.store.get_question(unscreened)
    assert late.due_on == written and late.held

    # the head's extension, with a reason the asker is told; an editor cannot extend
    later = cal.after_days(written, 10).isoformat()
    status, body = await _act(http, server, editor, accepted, "extend", due=later, note="Cần thêm ý kiến sở")
    assert status == 403, body
    status, body = await _act(http, server, head, accepted, "extend", due=written.isoformat(), note="Không lùi")
    assert status == 400 and body["error"]["field"] == "due", body
    status, body = await _act(http, server, head, accepted, "extend", due=later, note="Cần thêm ý kiến của sở")
    assert status == 200, body
    q = await server.store.get_question(accepted)
    assert q.due_on == date.fromisoformat(later) and q.due_extended_from == written
    assert (await _receipt(http, server, acks[0]["receipt"]))["due"] == later
    assert [k for k, ch, _ in await _outbox(server, accepted) if ch == "receipt"] == ["follow_up", "extended"]

    # the written answer approved by the head meets the deadline
    assert (await _act(http, server, editor, routed, "answer", answer="Sở đã rà soát hồ sơ, sẽ cấp trong tháng."))[0] == 200
    assert (await _act(http, server, head, routed, "approve_answer"))[0] == 200
    body = await _receipt(http, server, acks[1]["receipt"])
    assert body["state"] == "answered_in_writing" and body["due"] is None and body["due_met"] is True
    assert [k for k, ch, _ in await _outbox(server, routed) if ch == "receipt"] == ["follow_up", "answered_in_writing"]


async def test_the_override_table_moves_a_deadline(server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
                                                   staff: Callable[..., Awaitable[Staff]],
                                                   http: aiohttp.ClientSession) -> None:
    """A day off the admins enter (a local holiday) on the forwarding deadline's last day moves it on."""
    session = await server.new_session(SessionState.LIVE)
    head = await staff("truongban", "head")
    ack = await submit(await viewer_client(server.url), session.id)
    assert (await _act(http, server, head, ack["question_id"], "decline", reason="outside_chair_remit"))[0] == 200
    cal = await _calendar(server)
    # the last day the close would give, today and (should the test cross midnight) tomorrow, made days
    # off in the table before the close
    from datetime import UTC, datetime, timedelta

    today = local_date(datetime.now(UTC))
    plain = {day: cal.after_days(day, 3) for day in (today, today + timedelta(days=1))}
    async with server.store.write_engine.begin() as conn:
        for last in set(plain.values()):
            await conn.execute(s.calendar_overrides.insert().values(
                day=last, working=False, note="Nghỉ địa phương", created_by="admin", created_at=datetime.now(UTC)))
    await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token, {"action": "close"})
    q = await server.store.get_question(ack["question_id"])
    closed = await server.store.get_session(session.id)
    assert closed.closed_at is not None
    close_day = local_date(closed.closed_at)
    assert q.due_on is not None and q.due_on > plain[close_day]
    assert q.due_on == (await _calendar(server)).after_days(close_day, 3)
    assert not (await _calendar(server)).is_working_day(plain[close_day])


async def test_ha_nam_counts_the_units_working_days_from_the_notice(
        server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
        staff: Callable[..., Awaitable[Staff]], http: aiohttp.ClientSession) -> None:
    session = await server.new_session(SessionState.LIVE)
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.sessions).where(s.sessions.c.id == session.id).values(rule_set="ha_nam"))
    editor = await staff("bientap", "editor")
    head = await staff("truongban", "head")
    ack = await submit(await viewer_client(server.url), session.id)
    qid = ack["question_id"]
    assert (await _act(http, server, editor, qid, "accept"))[0] == 200
    # the notice only after the close
    status, body = await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token,
                               {"action": "notice"})
    assert status == 409 and "quy chế Hà Nam" in body["error"]["message"], body
    await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token, {"action": "close"})
    closed = await server.store.get_session(session.id)
    assert closed.closed_at is not None
    cal = await _calendar(server)
    q = await server.store.get_question(qid)
    assert (q.due_rule, q.due_on) == ("ha_nam.notice", cal.after_working_days(local_date(closed.closed_at), 5))
    # an editor cannot issue it; the head can, once
    status, body = await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", editor.token,
                               {"action": "notice"})
    assert status == 403, body
    status, body = await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token,
                               {"action": "notice"})
    assert status == 200, body
    q = await server.store.get_question(qid)
    noticed = await server.store.get_session(session.id)
    async with server.store.read_engine.connect() as conn:
        notice_at = (await conn.execute(select(s.sessions.c.notice_at).where(s.sessions.c.id == session.id))).scalar()
    assert notice_at is not None and noticed.id == session.id
    assert (q.due_rule, q.due_on) == ("ha_nam.unit_answer", cal.after_working_days(local_date(notice_at), 10))
    assert [k for k, ch, _ in await _outbox(server, qid) if ch == "receipt"] == ["follow_up", "follow_up"]
    async with http.get(f"{server.url}/q/{ack['receipt']}") as resp:
        told = await resp.text()
    assert "Kết luận của phiên về câu hỏi số" in told and "trả lời bằng văn bản trước ngày" in told
    status, body = await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token,
                               {"action": "notice"})
    assert status == 409 and "đã được ban hành" in body["error"]["message"], body


async def test_a_rejected_change_writes_no_message(server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
                                                   staff: Callable[..., Awaitable[Staff]],
                                                   http: aiohttp.ClientSession) -> None:
    """The outbox row and the change commit together: a refused or failing action leaves neither."""
    session = await server.new_session(SessionState.LIVE)
    editor = await staff("bientap", "editor")
    ack = await submit(await viewer_client(server.url), session.id)
    # will_not_answer needs its reason in words: refused before anything is written
    status, body = await _act(http, server, editor, ack["question_id"], "decline", reason="will_not_answer")
    assert status == 400 and body["error"]["field"] == "note", body
    assert await _outbox(server, ack["question_id"]) == []
    q = await server.store.get_question(ack["question_id"])
    assert q.state.value == "received" and q.version == 1
    # a complaint moved to the formal channel is never told through this system
    status, body = await _act(http, server, editor, ack["question_id"], "decline", reason="complaint_or_denunciation")
    assert status == 200, body
    assert await _outbox(server, ack["question_id"]) == []


async def test_the_command_line_forwards_and_extends_under_the_same_rules(
        server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
        staff: Callable[..., Awaitable[Staff]], http: aiohttp.ClientSession) -> None:
    from .conftest import run_cli

    session = await server.new_session(SessionState.LIVE)
    head = await staff("truongban", "head")
    await staff("bientap", "editor")
    viewer = await viewer_client(server.url)
    sent_on, kept = [await submit(viewer, session.id, text=f"Câu hỏi số {n} về đường giao thông nông thôn")
                     for n in range(2)]
    assert (await _act(http, server, head, sent_on["question_id"], "decline", reason="outside_chair_remit"))[0] == 200
    assert (await _act(http, server, head, kept["question_id"], "accept"))[0] == 200
    await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token, {"action": "close"})
    data_dir = server.settings.data_dir
    done = run_cli("questions", "forward", str(sent_on["question_id"]), "--unit", "Sở Giao thông vận tải",
                   "--as", "bientap", data_dir=data_dir)
    assert '"state": "forwarded"' in done.stdout
    q = await server.store.get_question(sent_on["question_id"])
    assert q.forwarded_to == "Sở Giao thông vận tải" and q.due_done_at is not None
    due = (await server.store.get_question(kept["question_id"])).due_on
    assert due is not None
    later = date.fromordinal(due.toordinal() + 7).isoformat()
    refused = run_cli("questions", "extend", str(kept["question_id"]), "--due", later, "--note", "Chờ ý kiến sở",
                      "--as", "bientap", data_dir=data_dir, check=False)
    assert refused.returncode != 0 and (await server.store.get_question(kept["question_id"])).due_on == due
    run_cli("questions", "extend", str(kept["question_id"]), "--due", later, "--note", "Chờ ý kiến của sở",
            "--as", "truongban", data_dir=data_dir)
    assert (await server.store.get_question(kept["question_id"])).due_on == date.fromisoformat(later)


async def test_a_written_answer_reaches_the_askers_merged_into_it(
        server: RunningServer, viewer_client: Callable[..., Awaitable[Any]],
        staff: Callable[..., Awaitable[Staff]], http: aiohttp.ClientSession) -> None:
    """Merged after the close, a duplicate's deadline stops running (it is followed up as the question
    it joined), and when that question is answered in writing its asker is told too."""
    session = await server.new_session(SessionState.LIVE)
    editor = await staff("bientap", "editor")
    head = await staff("truongban", "head")
    viewer = await viewer_client(server.url)
    kept, duplicate = [await submit(viewer, session.id, text=f"Khi nào sửa đường Lê Lợi đoạn số {n}?")
                       for n in range(2)]
    for ack in (kept, duplicate):
        assert (await _act(http, server, editor, ack["question_id"], "accept"))[0] == 200
    await _post(http, f"{server.url}/api/v1/sessions/{session.id}/actions", head.token, {"action": "close"})
    assert (await server.store.get_question(duplicate["question_id"])).due_on is not None
    assert (await _act(http, server, editor, duplicate["question_id"], "merge", into=kept["question_id"]))[0] == 200
    assert (await server.store.get_question(duplicate["question_id"])).due_on is None
    assert (await _act(http, server, editor, kept["question_id"], "answer", answer="Quý I năm sau sẽ thi công."))[0] == 200
    assert (await _act(http, server, head, kept["question_id"], "approve_answer"))[0] == 200
    assert [k for k, ch, _ in await _outbox(server, duplicate["question_id"]) if ch == "receipt"] == [
        "follow_up", "answered_in_writing"]
    async with http.get(f"{server.url}/q/{duplicate['receipt']}") as resp:
        page = await resp.text()
    number = (await server.store.get_question(kept["question_id"])).number
    assert f"đã được gộp với câu hỏi số {number}" in page
