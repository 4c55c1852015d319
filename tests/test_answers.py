"""The departments' side (/staff/answers, server/answer_pages.py) over real HTTP against a real server
and SQLite file: a responder's own list, drafting, submitting, the head's return and approval, PDF
reply letters and where they become public, the deadline met on the record, and rerouting that keeps
the clock."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from moderation import schema as s
from moderation.consent import Channel
from moderation.questions import QuestionState
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.keys import accounts_key
from tests.conftest import RunningServer, valid_payload
from tests.staff import ADDRESS_PART, PASSWORD, PHONE, until

BUILDING = "Sở Xây dựng"
HEALTH = "Sở Y tế"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ANSWER = "Sở Xây dựng trả lời: hồ sơ cấp phép xây dựng được giải quyết trong 15 ngày."
NOTE = "Cần nêu rõ căn cứ pháp lý (Luật Xây dựng 2014, Điều 102)."


@dataclass
class Member:
    name: str
    http: aiohttp.ClientSession
    csrf: str
    token: str


@pytest.fixture
async def members(server: RunningServer) -> Any:
    made: list[aiohttp.ClientSession] = []

    async def member(name: str, role: str, department: str | None = None) -> Member:
        accounts = server.app[accounts_key]
        await accounts.add_user(name, role, PASSWORD, department=department)
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        made.append(http)
        async with http.get(f"{server.url}/login") as resp:
            form = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
        assert form
        async with http.post(f"{server.url}/login", allow_redirects=False,
                             data={"name": name, "password": PASSWORD, "csrf": form.group(1), "next": "/staff"}) as resp:
            assert resp.status == 303
        async with http.get(f"{server.url}/staff") as resp:
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', await resp.text())
        assert csrf
        token = (await accounts.issue_token(name, "tests"))["token"]
        return Member(name, http, csrf.group(1), token)

    yield member
    for http in made:
        await http.close()


async def ask(server: RunningServer, session_id: int, text: str) -> tuple[int, str]:
    receipt = await server.store.submit_question(
        parse_submission(valid_payload(session_id, text=text), channel=Channel.SOCKET))
    return receipt.question_id, receipt.receipt


async def routed(server: RunningServer, session_id: int, text: str, department: str) -> tuple[int, str]:
    qid, receipt = await ask(server, session_id, text)
    await server.store.apply_action(qid, "accept")
    await server.store.apply_action(qid, "route", department=department)
    return qid, receipt


async def page(server: RunningServer, who: Member, query: str = "") -> str:
    async with who.http.get(f"{server.url}/staff/answers{query}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.text()


async def post(server: RunningServer, who: Member, qid: int, op: str, **fields: str) -> tuple[int, str]:
    version = (await server.store.get_question(qid)).version
    async with who.http.post(f"{server.url}/staff/answers/{qid}", allow_redirects=False,
                             data={"csrf": who.csrf, "version": str(version), "op": op, **fields}) as resp:
        return resp.status, await resp.text()


async def upload(server: RunningServer, who: Member, qid: int, body: bytes, name: str = "Công văn trả lời.pdf",
                 ) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", who.csrf)
    form.add_field("file", io.BytesIO(body), filename=name, content_type="application/pdf")
    async with who.http.post(f"{server.url}/staff/answers/{qid}/files", data=form, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def close_session(server: RunningServer, head: Member, session_id: int) -> None:
    async with head.http.post(f"{server.url}/api/v1/sessions/{session_id}/actions", json={"action": "close"},
                              headers={"Authorization": f"Bearer {head.token}"}) as resp:
        assert resp.status == 200, await resp.text()


async def receipt_api(server: RunningServer, receipt: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/receipts/{receipt}") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def public_list(server: RunningServer, session_id: int) -> dict[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/v1/sessions/{session_id}/questions") as r:
        return {q["id"]: q for q in (await r.json())["questions"]}


async def anonymous_get(server: RunningServer, path: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(server.url + path) as resp:
        return resp.status, await resp.read()


async def attachment_rows(server: RunningServer, qid: int) -> list[Any]:
    async with server.store.read_engine.connect() as conn:
        return list(await conn.execute(select(s.answer_attachments).where(s.answer_attachments.c.question_id == qid)))


async def test_a_responder_sees_only_their_department_and_no_identity(server: RunningServer, members: Any) -> None:
    session = await server.new_session(SessionState.LIVE)
    ours, _ = await routed(server, session.id, "Thủ tục cấp phép xây dựng nhà ở riêng lẻ mất bao lâu?", BUILDING)
    theirs, _ = await routed(server, session.id, "Bệnh viện quận có khám ngoài giờ không?", HEALTH)
    responder = await members("sxd", "responder", BUILDING)
    editor = await members("bientap", "editor")

    async with responder.http.get(f"{server.url}/staff") as resp:
        assert 'href="/staff/answers"' in await resp.text()  # the staff home leads there
    html = await page(server, responder)
    assert f'id="q-{ours}"' in html and "cấp phép xây dựng" in html
    assert f'id="q-{theirs}"' not in html and "khám ngoài giờ" not in html
    assert PHONE not in html.replace(" ", "") and ADDRESS_PART not in html  # masked as on the console
    english = await page(server, responder, "?lang=en")
    assert "Save draft" in english and "Submit to the head" in english and "rsp_" not in english
    # a department filter in the address does not widen a responder's list
    assert f'id="q-{theirs}"' not in await page(server, responder, f"?department={HEALTH}")

    everything = await page(server, editor)
    assert f'id="q-{ours}"' in everything and f'id="q-{theirs}"' in everything
    filtered = await page(server, editor, f"?department={HEALTH}")
    assert f'id="q-{theirs}"' in filtered and f'id="q-{ours}"' not in filtered
    # another department's responder cannot draft an answer to it
    status, body = await post(server, responder, theirs, "draft_answer", answer=ANSWER)
    assert status == 403 and "không được chuyển cho đơn vị của bạn" in body
    assert (await server.store.get_question(theirs)).answer is None


async def test_draft_submit_return_resubmit_approve_with_the_deadline_met(server: RunningServer,
                                                                          members: Any) -> None:
    session = await server.new_session(SessionState.LIVE)
    qid, receipt = await routed(server, session.id, "Thủ tục cấp phép xây dựng nhà ở riêng lẻ mất bao lâu?", BUILDING)
    responder = await members("sxd", "responder", BUILDING)
    head = await members("truongban", "head")
    editor = await members("bientap", "editor")
    admin = await members("quantri", "admin")

    # the close gives it its written-answer deadline (moderation/followup.py)
    await close_session(server, head, session.id)
    due_on = (await server.store.get_question(qid)).due_on
    assert due_on is not None
    html = await page(server, responder)
    assert f'data-due="{due_on.isoformat()}"' in html and due_on.strftime("%d/%m/%Y") in html

    # a draft is saved, not submitted: nothing waits for the head, nothing is public
    status, _ = await post(server, responder, qid, "draft_answer", answer="Bản nháp đầu tiên.")
    assert status == 303
    q = await server.store.get_question(qid)
    assert q.state is QuestionState.ROUTED and q.answer == "Bản nháp đầu tiên." and q.answer_submitted_at is None
    assert f'id="q-{qid}"' not in await page(server, head, "?pending=1")
    assert (await receipt_api(server, receipt))["answer"] is None

    # a PDF reply letter, private until the answer is approved
    status, _ = await upload(server, responder, qid, PDF)
    assert status == 303
    [row] = await attachment_rows(server, qid)
    assert row.filename == "Cong-van-tra-loi.pdf" and row.size == len(PDF) and row.content_type == "application/pdf"
    file_path = f"/a/{row.id}/{row.filename}"
    assert (await anonymous_get(server, file_path))[0] == 404
    async with responder.http.get(f"{server.url}/staff/answers/files/{row.id}/{row.filename}") as resp:
        assert resp.status == 200 and (await resp.read()) == PDF  # the department reads its own draft's file

    # submitted: it waits for the head; an editor or an administrator cannot approve it
    status, _ = await post(server, responder, qid, "answer", answer=ANSWER)
    assert status == 303
    q = await server.store.get_question(qid)
    assert q.state is QuestionState.PREPARED and q.answer_submitted_at is not None and q.answer_by == "sxd"
    pending = await page(server, head, "?pending=1")
    assert f'id="q-{qid}"' in pending and ANSWER in pending and row.filename in pending
    for refused in (editor, admin):
        status, body = await post(server, refused, qid, "approve_answer")
        assert status == 403, body
        assert (await server.store.get_question(qid)).state is QuestionState.PREPARED
    # submitted: its files stay as they are
    async with responder.http.post(f"{server.url}/staff/answers/{qid}/files/{row.id}/remove",
                                   data={"csrf": responder.csrf}, allow_redirects=False) as resp:
        assert resp.status == 409
    assert (await public_list(server, session.id))[qid]["answer"] is None

    # the head returns it with a note; a return without one is refused, naming the note
    status, body = await post(server, head, qid, "return_answer", note="")
    assert status == 400 and "lý do trả lại" in body
    status, _ = await post(server, head, qid, "return_answer", note=NOTE)
    assert status == 303
    q = await server.store.get_question(qid)
    assert q.state is QuestionState.ROUTED and q.answer_return_note == NOTE and q.answer == ANSWER
    mine = await page(server, responder)
    assert NOTE in mine and f'id="q-{qid}-returned"' in mine

    # corrected and resubmitted; the head approves
    corrected = ANSWER + " Căn cứ: Luật Xây dựng 2014, Điều 102."
    assert (await post(server, responder, qid, "answer", answer=corrected))[0] == 303
    q = await server.store.get_question(qid)
    assert q.state is QuestionState.PREPARED and q.answer_return_note is None
    assert (await post(server, head, qid, "approve_answer"))[0] == 303

    q = await server.store.get_question(qid)
    assert q.state is QuestionState.ANSWERED_IN_WRITING and q.due_done_at is not None and q.due_on == due_on
    told = await receipt_api(server, receipt)
    assert told["answer"] == corrected and told["due_met"] is True
    assert told["attachments"] == [{"id": row.id, "filename": row.filename, "size": len(PDF), "url": file_path}]
    listed = (await public_list(server, session.id))[qid]
    assert listed["answer"] == corrected and [a["url"] for a in listed["attachments"]] == [file_path]
    status, data = await anonymous_get(server, file_path)
    assert status == 200 and data == PDF
    status, receipt_html = await anonymous_get(server, f"/q/{receipt}")
    assert status == 200 and corrected in receipt_html.decode() and f'href="{file_path}"' in receipt_html.decode()
    assert (await anonymous_get(server, f"/a/{row.id}/other-name.pdf"))[0] == 404
    # on the record: the deadline met
    done = await page(server, responder)
    assert f'id="q-{qid}-done"' in done and "đúng hạn" in done

    async with server.store.read_engine.connect() as conn:
        actions = [r.action for r in await conn.execute(select(s.audit_log.c.action)
                                                       .where(s.audit_log.c.question_id == qid))]
    assert [a for a in actions if a in ("draft_answer", "attach", "answer", "return_answer", "approve_answer")] == [
        "draft_answer", "attach", "answer", "return_answer", "answer", "approve_answer"]


async def test_uploads_refuse_a_file_that_is_not_a_pdf_or_too_large(server: RunningServer, members: Any) -> None:
    session = await server.new_session(SessionState.LIVE)
    qid, _ = await routed(server, session.id, "Thủ tục cấp phép xây dựng nhà ở riêng lẻ mất bao lâu?", BUILDING)
    responder = await members("sxd", "responder", BUILDING)

    status, body = await upload(server, responder, qid, b"<html>not a letter</html>", name="thu.pdf")
    assert status == 400 and "Chỉ nhận tệp PDF" in body
    status, body = await upload(server, responder, qid, PDF + b"0" * (10 * 1024 * 1024), name="lon.pdf")
    assert status == 413 and "tối đa 10 MB" in body
    assert await attachment_rows(server, qid) == []
    folder = server.settings.data_dir / "attachments"
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]  # nothing kept

    # removable before submission
    assert (await upload(server, responder, qid, PDF))[0] == 303
    [row] = await attachment_rows(server, qid)
    async with responder.http.post(f"{server.url}/staff/answers/{qid}/files/{row.id}/remove",
                                   data={"csrf": responder.csrf}, allow_redirects=False) as resp:
        assert resp.status == 303
    [row] = await attachment_rows(server, qid)
    assert row.removed_at is not None
    assert "Cong-van-tra-loi.pdf" not in await page(server, responder)


async def test_rerouting_keeps_the_deadline(server: RunningServer, members: Any) -> None:
    session = await server.new_session(SessionState.LIVE)
    qid, receipt = await routed(server, session.id, "Bệnh viện quận có khám ngoài giờ không?", BUILDING)
    head = await members("truongban", "head")
    editor = await members("bientap", "editor")
    await close_session(server, head, session.id)
    before = await server.store.get_question(qid)
    assert before.due_on is not None
    async with editor.http.post(f"{server.url}/api/v1/questions/{qid}/actions",
                                headers={"Authorization": f"Bearer {editor.token}"},
                                json={"action": "route", "version": before.version, "department": HEALTH}) as resp:
        assert resp.status == 200, await resp.text()
        card = (await resp.json())["question"]
    after = await server.store.get_question(qid)
    assert after.department == HEALTH and after.due_on == before.due_on and after.due_from == before.due_from
    assert card["due_on"] == before.due_on.isoformat() and card["due_rule"] == before.due_rule
    assert (await receipt_api(server, receipt))["due"] == before.due_on.isoformat()
    async with server.store.read_engine.connect() as conn:
        told = (await conn.execute(select(func.count()).select_from(s.notifications)
                                   .where(s.notifications.c.kind == "routed"))).scalar()
    assert told  # the new department is told, with the same deadline


async def test_an_approval_reaches_viewers_with_its_files_and_the_console_with_the_follow_up(
        server: RunningServer, members: Any, staff: Any, viewer_client: Any) -> None:
    session = await server.new_session(SessionState.LIVE)
    qid, _ = await routed(server, session.id, "Thủ tục cấp phép xây dựng nhà ở riêng lẻ mất bao lâu?", BUILDING)
    responder = await members("sxd", "responder", BUILDING)
    head = await members("truongban", "head")
    await close_session(server, head, session.id)
    console = await staff("truongban", "head", create=False)
    await console.join(session.id)
    heard: list[dict[str, Any]] = []
    viewer = await viewer_client(server.url)
    viewer.on("question", heard.append, namespace="/viewer")
    assert (await viewer.call("join", {"session_id": session.id}, namespace="/viewer"))["ok"]

    assert (await upload(server, responder, qid, PDF))[0] == 303
    assert (await post(server, responder, qid, "answer", answer=ANSWER))[0] == 303
    await until(lambda: console.questions[qid]["state"] == "prepared")
    card = console.questions[qid]
    assert card["due_on"] == (await server.store.get_question(qid)).due_on.isoformat()  # type: ignore[union-attr]
    assert card["answer_by"] == "sxd" and card["answer_submitted_at"] and card["attachments"] == 1
    assert "approve_answer" in card["actions"] and "return_answer" in card["actions"]
    assert all(not q.get("attachments") for q in heard)  # nothing of it public yet

    assert (await post(server, head, qid, "approve_answer"))[0] == 303
    await until(lambda: any(q.get("state") == "answered_in_writing" for q in heard))
    [public] = [q for q in heard if q.get("state") == "answered_in_writing"]
    [row] = await attachment_rows(server, qid)
    assert public["answer"] == ANSWER and [a["url"] for a in public["attachments"]] == [f"/a/{row.id}/{row.filename}"]
    await until(lambda: console.questions[qid]["due_done_at"] is not None)
