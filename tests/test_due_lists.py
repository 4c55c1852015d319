"""The follow-up deadline lists (moderation/due_lists.py): how a deadline stands as of a moment (the pure
rule), and the lists over the real server: a session closed over the API with an accepted, a routed and
a forwarded question shows each with the deadline the close gave it (moderation/followup.py); per
session, per department and overall; a responder sees their own department's only; the page, the JSON
API and `doithoai deadlines --as-of`."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from moderation import schema as s
from moderation.calendar import VIETNAM, Calendar, Override, end_of_day, local_date
from moderation.calendar_store import current
from moderation.consent import Channel
from moderation.due_lists import Status, classify
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.keys import accounts_key
from tests.conftest import RunningServer, run_cli, valid_payload
from tests.test_authorization import PASSWORD, sign_in
from tests.test_calendar import insert_question

D = date
BUILDING, TRANSPORT = "Sở Xây dựng", "Sở Giao thông vận tải"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment in Vietnam."""
    return datetime.combine(day, time(hour, minute), VIETNAM)


# ---- the rule, pure ----


def test_overdue_from_midnight_in_vietnam() -> None:
    cal, due = Calendar(), D(2026, 12, 7)  # Monday
    assert classify(cal, due, None, end_of_day(due) - timedelta(microseconds=1)) is Status.DUE_SOON
    assert classify(cal, due, None, end_of_day(due)) is Status.OVERDUE
    assert classify(cal, due, None, at(D(2026, 12, 8), 0, 1)) is Status.OVERDUE


def test_due_soon_counts_working_days() -> None:
    cal, due = Calendar(), D(2026, 12, 7)  # Monday
    assert classify(cal, due, None, at(D(2026, 12, 2), 9)) is Status.PENDING  # Thu, Fri, Mon: 3 away
    assert classify(cal, due, None, at(D(2026, 12, 3), 9)) is Status.DUE_SOON  # Fri, Mon: 2
    assert classify(cal, due, None, at(D(2026, 12, 2), 9), soon=3) is Status.DUE_SOON
    # over Tết 2027: on Wednesday 3/2 a last day of Friday 12/2 is 2 working days away (11, 12)
    assert classify(cal, D(2027, 2, 12), None, at(D(2027, 2, 3), 9)) is Status.DUE_SOON
    assert classify(cal, D(2027, 2, 15), None, at(D(2027, 2, 3), 9)) is Status.PENDING
    # ... and not once Saturday 13/2 is worked (a swap in the table): 11, 12, 13 are three
    swapped = Calendar({D(2027, 2, 13): Override(D(2027, 2, 13), True, "swap")})
    assert classify(swapped, D(2027, 2, 15), None, at(D(2027, 2, 11), 9)) is Status.PENDING
    assert classify(cal, D(2027, 2, 15), None, at(D(2027, 2, 11), 9)) is Status.DUE_SOON


def test_met_or_missed_by_the_day_in_vietnam() -> None:
    cal, due = Calendar(), D(2026, 12, 7)
    assert classify(cal, due, at(due, 23, 30), at(D(2027, 1, 1), 9)) is Status.MET  # 16:30 UTC
    # 00:10 on the 8th in Vietnam is still the 7th in UTC: missed all the same
    late = at(D(2026, 12, 8), 0, 10)
    assert late.astimezone(UTC).date() == due and classify(cal, due, late, at(due, 9)) is Status.MISSED


# ---- over the real server ----


class Caller:
    def __init__(self, server: RunningServer, http: aiohttp.ClientSession, token: str) -> None:
        self.server, self.http, self.token = server, http, token

    async def get(self, path: str, **query: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.server.url}{path}", params=query,
                                 headers={"Authorization": f"Bearer {self.token}"}) as resp:
            return resp.status, await resp.json()

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(f"{self.server.url}{path}", json=body,
                                  headers={"Authorization": f"Bearer {self.token}"}) as resp:
            answer: dict[str, Any] = await resp.json()
            assert resp.status == 200, answer
            return answer


@pytest.fixture
async def people(server: RunningServer, http: aiohttp.ClientSession) -> AsyncIterator[dict[str, Caller]]:
    accounts = server.app[accounts_key]
    found = {}
    for name, role, department in (("bien_tap", "editor", None), ("truong_ban", "head", None),
                                   ("so_xd", "responder", BUILDING), ("so_gt", "responder", TRANSPORT),
                                   ("chu_tri", "chair", None)):
        await accounts.add_user(name, role, PASSWORD, department=department)
        found[name] = Caller(server, http, (await accounts.issue_token(name))["token"])
    yield found


async def act(editor: Caller, question_id: int, version: int, action: str, **params: Any) -> int:
    answer = await editor.post(f"/api/v1/questions/{question_id}/actions",
                               {"action": action, "version": version, **params})
    return int(answer["question"]["version"])


async def test_a_session_closed_over_the_api_lists_its_deadlines(server: RunningServer,
                                                                 people: dict[str, Caller]) -> None:
    editor, head, building = people["bien_tap"], people["truong_ban"], people["so_xd"]
    session = await server.new_session(SessionState.LIVE, title="Đất đai và xây dựng")
    ids = []
    for text in ("Thời hạn cấp phép xây dựng nhà ở riêng lẻ là bao lâu?", "Khi nào sửa đường Lạch Tray?",
                 "Xin hỏi về chính sách của Trung ương"):
        receipt = await server.store.submit_question(parse_submission(valid_payload(session.id, text=text),
                                                                      channel=Channel.SOCKET))
        ids.append(receipt.question_id)
    routed, accepted, forwarded = ids
    version = await act(editor, routed, 1, "accept")
    await act(editor, routed, version, "route", department=BUILDING)
    await act(editor, accepted, 1, "accept")
    await act(editor, forwarded, 1, "decline", reason="outside_chair_remit")
    # before the close nothing is counted yet
    status, body = await editor.get("/api/v1/staff/deadlines", session=str(session.id))
    assert status == 200 and body["questions"] == []
    await head.post(f"/api/v1/sessions/{session.id}/actions", {"action": "close"})

    closed_at = (await server.store.get_session(session.id)).closed_at
    assert closed_at is not None
    cal, closed = await current(server.store), local_date(closed_at)
    answer_due, forward_due = cal.after_days(closed, 15), cal.after_days(closed, 3)
    status, body = await editor.get("/api/v1/staff/deadlines", session=str(session.id))
    assert status == 200
    listed = {q["question_id"]: q for q in body["questions"]}
    assert set(listed) == {routed, accepted, forwarded}
    assert (listed[routed]["due_on"], listed[routed]["due_rule"], listed[routed]["unit"]) == (
        answer_due.isoformat(), "hai_phong.written_answer", BUILDING)
    assert listed[accepted]["due_on"] == answer_due.isoformat() and listed[accepted]["unit"] == ""
    assert (listed[forwarded]["due_on"], listed[forwarded]["due_rule"], listed[forwarded]["step"]) == (
        forward_due.isoformat(), "hai_phong.forward", "forward")
    assert listed[routed]["counting"] == "days" and listed[routed]["days"] == 15
    assert listed[routed]["due_from"] == closed.isoformat() and listed[routed]["session_title"] == "Đất đai và xây dựng"
    assert "0912" not in json.dumps(body) and "Lạch Tray, Ngô Quyền" not in json.dumps(body)  # no asker

    # the forwarding deadline passed, the answers' last day is today
    last_moment = (end_of_day(answer_due) - timedelta(seconds=1)).isoformat()
    status, body = await editor.get("/api/v1/staff/deadlines", session=str(session.id), as_of=last_moment)
    by_status = {q["question_id"]: q["status"] for q in body["questions"]}
    assert by_status == {forwarded: "overdue", routed: "due_soon", accepted: "due_soon"}
    assert body["counts"] == {"overdue": 1, "due_soon": 2, "pending": 0, "met": 0, "missed": 0}
    overdue = [q for q in body["questions"] if q["status"] == "overdue"][0]
    assert overdue["days_late"] == (answer_due - forward_due).days
    status, body = await editor.get("/api/v1/staff/deadlines", status="overdue", as_of=last_moment)
    assert [q["question_id"] for q in body["questions"]] == [forwarded]

    # the department sees its own only, and may not ask for another's
    status, body = await building.get("/api/v1/staff/deadlines", as_of=last_moment)
    assert status == 200 and [q["question_id"] for q in body["questions"]] == [routed]
    assert body["department"] == BUILDING
    status, body = await building.get("/api/v1/staff/deadlines", department=TRANSPORT)
    assert status == 403 and body["error"]["field"] == "department"
    status, body = await people["chu_tri"].get("/api/v1/staff/deadlines")
    assert status == 403

    # sent on to the competent unit today: met (its last day is three days after the close, or later)
    await act(editor, forwarded, await current_version(server, forwarded), "forward", unit="UBND quận Lê Chân")
    status, body = await editor.get("/api/v1/staff/deadlines", status="done")
    assert [(q["question_id"], q["status"], q["unit"]) for q in body["questions"]] == [
        (forwarded, "met", "UBND quận Lê Chân")]


async def current_version(server: RunningServer, question_id: int) -> int:
    return (await server.store.get_question(question_id)).version


async def fixture_deadlines(server: RunningServer) -> dict[str, int]:
    """Two sessions' follow-up written straight into the due columns (the store's write engine)."""
    first = await server.new_session(SessionState.CLOSED, title="Phiên một")
    second = await server.new_session(SessionState.CLOSED, title="Phiên hai")
    rule = {"due_rule": "hai_phong.written_answer", "due_from": D(2027, 1, 27)}
    made = {
        # as of Wednesday 3/2/2027 09:00
        "late": await insert_question(server, first.id, "routed", department=BUILDING, due_on=D(2027, 2, 2), **rule),
        "soon": await insert_question(server, first.id, "routed", department=TRANSPORT, due_on=D(2027, 2, 11), **rule),
        "later": await insert_question(server, second.id, "routed", department=BUILDING, due_on=D(2027, 2, 16),
                                       **rule),
        "met": await insert_question(server, second.id, "answered_in_writing", department=TRANSPORT,
                                     due_on=D(2027, 2, 1), due_done_at=at(D(2027, 2, 1), 23, 50), **rule),
        "missed": await insert_question(server, second.id, "forwarded", forwarded_to=BUILDING, due_on=D(2027, 1, 30),
                                        due_done_at=at(D(2027, 2, 1), 8), due_rule="hai_phong.forward",
                                        due_from=D(2027, 1, 27)),
        "protected": await insert_question(server, first.id, "routed", department=BUILDING, protected=True,
                                           due_on=D(2027, 2, 12), **rule),
    }
    made["first"], made["second"] = first.id, second.id
    await insert_question(server, first.id, "accepted")  # no deadline: never listed
    return made


AS_OF = "2027-02-03T09:00"  # Vietnam time (no offset)


async def test_lists_per_session_department_and_overall(server: RunningServer, people: dict[str, Caller]) -> None:
    q = await fixture_deadlines(server)
    editor, head = people["bien_tap"], people["truong_ban"]
    status, body = await editor.get("/api/v1/staff/deadlines", as_of=AS_OF)
    assert status == 200 and body["as_of"] == "2027-02-03T09:00:00+07:00"
    assert [(x["question_id"], x["status"]) for x in body["questions"]] == [
        (q["late"], "overdue"), (q["soon"], "due_soon"), (q["protected"], "due_soon"), (q["later"], "pending"),
        (q["missed"], "missed"), (q["met"], "met")]
    assert body["counts"] == {"overdue": 1, "due_soon": 2, "pending": 1, "met": 1, "missed": 1}
    soon = next(x for x in body["questions"] if x["question_id"] == q["soon"])
    assert soon["working_days_left"] == 1 and soon["due_on"] == "2027-02-11"  # Tết is not counted
    assert next(x for x in body["questions"] if x["question_id"] == q["protected"])["text"] is None
    units = {row["unit"]: row["counts"] for row in body["by_department"]}
    assert units[BUILDING] == {"overdue": 1, "due_soon": 1, "pending": 1, "met": 0, "missed": 1}
    assert units[TRANSPORT] == {"overdue": 0, "due_soon": 1, "pending": 0, "met": 1, "missed": 0}
    sessions = {row["session_id"]: row["counts"] for row in body["by_session"]}
    assert sessions[q["first"]]["overdue"] == 1 and sessions[q["second"]]["met"] == 1
    # the head reads a protected matter's text
    status, body = await head.get("/api/v1/staff/deadlines", as_of=AS_OF, status="due_soon")
    assert [x["text"] is None for x in body["questions"]] == [False, False]

    status, body = await editor.get("/api/v1/staff/deadlines", as_of=AS_OF, session=str(q["second"]))
    assert {x["question_id"] for x in body["questions"]} == {q["later"], q["met"], q["missed"]}
    status, body = await editor.get("/api/v1/staff/deadlines", as_of=AS_OF, department=BUILDING, status="open")
    assert [x["question_id"] for x in body["questions"]] == [q["late"], q["protected"], q["later"]]
    # a unit holds what was forwarded to it as well as what was routed to it
    status, body = await people["so_xd"].get("/api/v1/staff/deadlines", as_of=AS_OF, status="done")
    assert [x["question_id"] for x in body["questions"]] == [q["missed"]]
    status, body = await people["so_gt"].get("/api/v1/staff/deadlines", as_of=AS_OF)
    assert {x["question_id"] for x in body["questions"]} == {q["soon"], q["met"]}
    # the next day (Thursday 4/2 is Tết) nothing moves: on Wednesday 10/2 the 11th is due soon still
    status, body = await editor.get("/api/v1/staff/deadlines", as_of="2027-02-10T18:00+07:00", status="due_soon",
                                    soon="0")
    assert [x["question_id"] for x in body["questions"]] == []
    status, body = await editor.get("/api/v1/staff/deadlines", as_of="2027-02-10T18:00+07:00", status="due_soon",
                                    soon="1")
    assert [x["question_id"] for x in body["questions"]] == [q["soon"]]

    for query, field in (({"status": "late"}, "status"), ({"as_of": "tomorrow"}, "as_of"),
                         ({"session": "x"}, "session"), ({"soon": "99"}, "soon")):
        status, body = await editor.get("/api/v1/staff/deadlines", **query)
        assert status == 400 and body["error"]["field"] == field, (query, body)
    status, body = await editor.get("/api/v1/staff/deadlines", status="late", lang="en")
    assert "Deadline status must be one of" in body["error"]["message"]


async def test_deadlines_page_and_cli(server: RunningServer, people: dict[str, Caller]) -> None:
    q = await fixture_deadlines(server)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as board, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as unit:
        await sign_in(server, board, "bien_tap")
        await sign_in(server, unit, "so_gt")
        async with board.get(f"{server.url}/staff/deadlines", params={"as_of": AS_OF}) as resp:
            html = await resp.text()
        assert resp.status == 200
        for key, status in (("late", "overdue"), ("soon", "due_soon"), ("later", "pending"), ("met", "met"),
                            ("missed", "missed")):
            assert f'data-question-id="{q[key]}" data-status="{status}"' in html, key
        assert "quá hạn 1 ngày" in html and "còn 1 ngày làm việc" in html and "15 ngày" in html
        assert "(nội dung được bảo vệ)" in html and f'<option value="{BUILDING}"' in html
        async with board.get(f"{server.url}/staff/deadlines",
                             params={"as_of": AS_OF, "department": TRANSPORT, "session": str(q["first"])}) as resp:
            html = await resp.text()
        assert f'data-question-id="{q["soon"]}"' in html and f'data-question-id="{q["late"]}"' not in html
        assert f'data-question-id="{q["met"]}"' not in html
        link = re.search(r'href="(/api/v1/staff/deadlines\?[^"]+)" id="due-json"', html)
        assert link, "the page links its lists as JSON"
        async with board.get(server.url + link.group(1).replace("&amp;", "&")) as resp:
            assert [x["question_id"] for x in (await resp.json())["questions"]] == [q["soon"]]
        async with board.get(f"{server.url}/staff/deadlines", params={"status": "nope"}) as resp:
            assert resp.status == 400 and "Tình trạng thời hạn phải là một trong" in await resp.text()
        async with unit.get(f"{server.url}/staff/deadlines", params={"as_of": AS_OF, "lang": "en"}) as resp:
            html = await resp.text()
        assert resp.status == 200 and "Your unit: Sở Giao thông vận tải" in html
        listed = {int(part.split('"')[0]) for part in html.split('data-question-id="')[1:]}
        assert listed == {q["soon"], q["met"]}
        async with unit.get(f"{server.url}/staff/deadlines", params={"department": BUILDING}) as resp:
            assert resp.status == 403

    data_dir = server.settings.data_dir
    out = json.loads(run_cli("deadlines", "--as-of", AS_OF, "--status", "overdue", data_dir=data_dir).stdout)
    assert [x["question_id"] for x in out["questions"]] == [q["late"]]
    out = json.loads(run_cli("deadlines", "--as-of", AS_OF, "--department", BUILDING, "--session", str(q["second"]),
                             data_dir=data_dir).stdout)
    assert {x["question_id"] for x in out["questions"]} == {q["later"], q["missed"]}
    out = json.loads(run_cli("deadlines", "--as-of", AS_OF, "--as", "so_gt", data_dir=data_dir).stdout)
    assert {x["question_id"] for x in out["questions"]} == {q["soon"], q["met"]}
    refused = run_cli("deadlines", "--as", "so_gt", "--department", BUILDING, data_dir=data_dir, check=False)
    assert refused.returncode == 1 and "A department sees its own deadlines only" in refused.stderr
    bad = run_cli("deadlines", "--as-of", "soon", data_dir=data_dir, check=False)
    assert bad.returncode == 1 and "As of" in bad.stderr

    # done on time is decided by the day in Vietnam, whatever the clock says in UTC
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.questions).where(s.questions.c.id == q["soon"])
                           .values(due_done_at=at(D(2027, 2, 12), 0, 5)))
    out = json.loads(run_cli("deadlines", "--as-of", AS_OF, "--status", "missed", data_dir=data_dir).stdout)
    assert {x["question_id"] for x in out["questions"]} == {q["soon"], q["missed"]}


async def test_deadlines_page_in_chromium(server: RunningServer, people: dict[str, Caller], browser: Any) -> None:
    """The board filters the lists by unit in a real browser, on a phone; axe-core finds nothing
    serious or critical on the page, in Vietnamese and in English."""
    from tests.browser import PHONE, log_in, open_viewer
    from tests.test_accessibility import assert_accessible, new_person

    q = await fixture_deadlines(server)
    context = await new_person(browser, PHONE)
    path = f"/staff/deadlines?as_of={AS_OF}"
    editor = await open_viewer(browser, f"{server.url}/login?next=/staff/deadlines%3Fas_of%3D{AS_OF}",
                               context=context, wait_joined=False)
    page = editor.page
    try:
        await log_in(page, "bien_tap", PASSWORD, path, ready="#due-overdue")
        assert await page.locator(f"#due-overdue tr[data-question-id='{q['late']}']").count() == 1
        await assert_accessible(page, "the deadline lists")
        await page.select_option("#due-department", TRANSPORT)
        async with page.expect_navigation():
            await page.click(".due-filters button[type=submit]")
        shown = await page.locator("tr.due-item").evaluate_all("rows => rows.map(r => +r.dataset.questionId)")
        assert sorted(shown) == sorted([q["soon"], q["met"]])
        await page.goto(f"{server.url}/lang/en?next=/staff/deadlines%3Fas_of%3D{AS_OF}")
        assert "Overdue" in (await page.text_content("#due-overdue-title") or "")
        await assert_accessible(page, "the deadline lists in English")
        assert editor.unexpected_errors() == []
    finally:
        await editor.close()
