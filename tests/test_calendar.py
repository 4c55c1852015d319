"""The working-day calendar: how periods are counted (moderation/calendar.py, moderation/deadlines.py, as
pure rules), and its admin side (moderation/calendar_store.py through the real server's page, the CLI
and a real Chromium): overrides validated, admins only, audited, and a government swap day entered in
the table changing a deadline that the session's close (moderation/followup.py) computes."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from moderation import audit, deadlines, followup
from moderation import schema as s
from moderation.calendar import VIETNAM, Calendar, Override, end_of_day, local_date
from moderation.calendar_store import CalendarStore, year_days
from moderation.errors import Forbidden, NotFound, ValidationError
from moderation.roles import CLI_ACTOR, Actor, Role
from moderation.sessions import SessionState
from server.keys import accounts_key
from tests.conftest import RunningServer, run_cli
from tests.test_authorization import DOCS, PASSWORD, Callers, callers, documented, sign_in, walk  # noqa: F401

D = date
TET_2027 = [D(2027, 2, day) for day in range(4, 11)]  # Thu 4 - Wed 10 Feb 2027
SWAP = D(2027, 2, 13)  # a Saturday worked (a government swap, entered as an override)


def swap_calendar() -> Calendar:
    return Calendar({SWAP: Override(SWAP, True, "Làm bù")})


# ---- the rules, pure ----


def test_tet_2027_is_off_and_the_week_after_works() -> None:
    cal = Calendar()
    assert [cal.is_working_day(d) for d in TET_2027] == [False] * 7
    assert cal.is_working_day(D(2027, 2, 3)) and cal.is_working_day(D(2027, 2, 11))
    assert cal.why_off(D(2027, 2, 6)) and cal.why_off(D(2027, 2, 13)) == "weekend"


def test_the_context_example_and_fifteen_days() -> None:
    cal, hp = Calendar(), deadlines.RULE_SETS["hai_phong"]
    assert hp.forward is not None
    # closed Wednesday 2/12/2026 + 3 days: Saturday 5 is off, so Monday 7 (Điều 148.5)
    assert cal.after_days(D(2026, 12, 2), 3) == D(2026, 12, 7)
    assert hp.forward.due(cal, D(2026, 12, 2)) == D(2026, 12, 7)
    # 15 days: Thursday 17/12 is worked; from Friday 4/12 the 15th day is Saturday 19, so Monday 21
    assert hp.answer.due(cal, D(2026, 12, 2)) == D(2026, 12, 17)
    assert hp.answer.due(cal, D(2026, 12, 4)) == D(2026, 12, 21)
    # a 15-day period over Tết: from Wednesday 27/1/2027 the 15th day is Thursday 11/2 (worked)
    assert cal.after_days(D(2027, 1, 27), 15) == D(2027, 2, 11)
    # from Thursday 21/1/2027 it is Friday 5/2, in Tết: the end moves to Thursday 11/2
    assert cal.after_days(D(2027, 1, 21), 15) == D(2027, 2, 11)


def test_forwarded_after_a_friday_close() -> None:
    cal, forward = Calendar(), deadlines.RULE_SETS["hai_phong"].forward
    assert forward is not None
    assert forward.due(cal, D(2026, 12, 4)) == D(2026, 12, 7)  # Friday + 3 days: Monday
    # Friday 24/4/2026 + 3: Monday 27/4 is the Hùng Kings' day off in lieu, so Tuesday 28/4
    assert forward.due(cal, D(2026, 4, 24)) == D(2026, 4, 28)
    # Friday 28/8/2026 + 3: Monday 31/8 is off (swapped for Saturday 22/8), 1 and 2/9 National Day
    assert forward.due(cal, D(2026, 8, 28)) == D(2026, 9, 3)
    # Friday 29/1/2027 + 3: Monday 1/2 is worked, Tết starts on the Thursday after
    assert forward.due(cal, D(2027, 1, 29)) == D(2027, 2, 1)
    # Monday 1/2/2027 + 3: Thursday 4/2 is Tết, so Thursday 11/2
    assert forward.due(cal, D(2027, 2, 1)) == D(2027, 2, 11)


def test_working_days_across_tet_and_a_swap_day() -> None:
    cal, swapped = Calendar(), swap_calendar()
    # 5 working days from Wednesday 3/2/2027: 11, 12, 15, 16, 17 February
    assert cal.after_working_days(D(2027, 2, 3), 5) == D(2027, 2, 17)
    # with Saturday 13/2 worked the fifth is Tuesday 16
    assert swapped.after_working_days(D(2027, 2, 3), 5) == D(2027, 2, 16)
    # 10 working days from Monday 1/2/2027: 2, 3, 11, 12, 15, 16, 17, 18, 19, 22
    assert cal.after_working_days(D(2027, 2, 1), 10) == D(2027, 2, 22)
    assert swapped.after_working_days(D(2027, 2, 1), 10) == D(2027, 2, 19)
    # a weekday off entered locally moves it on again
    local = Calendar({D(2027, 2, 19): Override(D(2027, 2, 19), False, "Nghỉ địa phương")})
    assert local.after_working_days(D(2027, 2, 1), 10) == D(2027, 2, 23)
    assert cal.working_days_between(D(2027, 2, 3), D(2027, 2, 11)) == 1
    assert swapped.working_days_between(D(2027, 2, 12), D(2027, 2, 15)) == 2


def test_rule_sets_count_as_their_sources_say() -> None:
    cal = swap_calendar()
    hn, hue = deadlines.RULE_SETS["ha_nam"], deadlines.RULE_SETS["hue_forum"]
    # Hà Nam: the notice within 5 working days of the session; units within 10 of the notice
    notice = deadlines.follow_up(hn, cal, forwarded=False, start=D(2027, 2, 3))
    assert (notice.rule.key, notice.on) == ("ha_nam.notice", D(2027, 2, 16))
    answer = deadlines.follow_up(hn, cal, forwarded=False, start=D(2027, 2, 3), notice_issued=True,
                                 notice_day=D(2027, 2, 1))
    assert (answer.rule.key, answer.start, answer.on) == ("ha_nam.unit_answer", D(2027, 2, 1), D(2027, 2, 19))
    # Huế: 5 working days from the receipt, a question received on the last working day before Tết
    forum = deadlines.follow_up(hue, Calendar(), forwarded=False, start=D(2027, 2, 3))
    assert forum.on == D(2027, 2, 17) and forum.rule.counting is deadlines.Counting.WORKING_DAYS
    assert forum.values == {"due_rule": "hue_forum.forum_answer", "due_from": D(2027, 2, 3),
                            "due_on": D(2027, 2, 17)}


def test_a_day_ends_at_midnight_in_vietnam() -> None:
    assert end_of_day(D(2026, 12, 7)) == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 12, 7, 16, 59, tzinfo=UTC)) == D(2026, 12, 7)
    assert local_date(datetime(2026, 12, 7, 17, 0, tzinfo=UTC)) == D(2026, 12, 8)


def test_year_listing_names_every_day_off_and_every_override() -> None:
    days = {d.day: d for d in year_days(swap_calendar(), 2027, "vi")}
    assert all(d in days and not days[d].working and days[d].why for d in TET_2027)  # Saturday 6 too
    assert "Tết" in days[D(2027, 2, 6)].why
    assert days[SWAP].working and days[SWAP].source == "override" and days[SWAP].why == "Làm bù"
    english = {d.day: d for d in year_days(Calendar(), 2027, "en")}
    assert "Lunar New Year" in english[D(2027, 2, 6)].why and SWAP not in english
    assert D(2027, 2, 13) not in {d.day for d in year_days(Calendar(), 2027)}  # a plain Saturday is not listed
    worked = {d.day: d for d in year_days(Calendar(), 2026)}[D(2026, 8, 22)]  # the package's own swap
    assert worked.working and worked.source == "package"


# ---- the store: validated, admins only, audited ----


async def audit_actions(server: RunningServer) -> list[dict[str, Any]]:
    async with server.store.read_engine.connect() as conn:
        return [e for e in await conn.run_sync(audit.entries) if e["action"].startswith("calendar_")]


async def test_overrides_are_checked_before_they_are_written(server: RunningServer) -> None:
    cal = CalendarStore(server.store)
    editor = Actor("bien_tap", Role.EDITOR)
    with pytest.raises(Forbidden):
        await cal.add("2027-02-13", "working", "Làm bù", editor)
    for day, kind, note, field in (("13/02/2027", "working", "x", "day"), ("2027-02-30", "off", "x", "day"),
                                   ("1999-01-04", "off", "x", "day"), ("2027-02-13", "maybe", "x", "working"),
                                   ("2027-02-13", "working", "   ", "note"),
                                   ("2027-02-13", "working", "x" * 201, "note"),
                                   ("2027-02-14", "off", "Chủ nhật", "working"),  # already off
                                   ("2027-02-11", "working", "Thứ Năm", "working")):  # already worked
        with pytest.raises(ValidationError) as err:
            await cal.add(day, kind, note, CLI_ACTOR)
        assert err.value.field == field, (day, kind, note)
    added = await cal.add("2027-02-13", "working", "  Làm bù  Tết ", CLI_ACTOR)
    assert added.note == "Làm bù Tết" and added.working
    with pytest.raises(ValidationError) as err:
        await cal.add("2027-02-13", "off", "again", CLI_ACTOR)
    assert err.value.reason == "cal_override_exists"
    with pytest.raises(Forbidden):
        await cal.remove("2027-02-13", editor)
    with pytest.raises(NotFound):
        await cal.remove("2027-02-20", CLI_ACTOR)
    assert [o.day for o in await cal.overrides(2027)] == [SWAP]
    assert await cal.overrides(2026) == []
    assert [(e["action"], e["detail"]["day"]) for e in await audit_actions(server)] == [
        ("calendar_override_add", "2027-02-13")]
    await cal.remove("2027-02-13", CLI_ACTOR)
    assert await cal.overrides() == []
    assert [e["action"] for e in await audit_actions(server)] == ["calendar_override_remove", "calendar_override_add"]


async def close_at(server: RunningServer, session_id: int, closed: date) -> None:
    """Re-run the close's deadline step (moderation/followup.py) as if the session had closed on `closed`:
    the store's close takes the real clock, so the fixture moves closed_at and clears what it set."""
    moment = datetime.combine(closed, time(11, 0), VIETNAM)
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(closed_at=moment))
        await conn.execute(update(s.questions).where(s.questions.c.session_id == session_id)
                           .values(due_on=None, due_rule=None, due_from=None))
        await conn.run_sync(followup.at_close, session_id, CLI_ACTOR, moment)


async def due_of(server: RunningServer, question_id: int) -> tuple[date, str]:
    async with server.store.read_engine.connect() as conn:
        row = (await conn.execute(select(s.questions.c.due_on, s.questions.c.due_rule)
                                  .where(s.questions.c.id == question_id))).one()
    return row.due_on, row.due_rule


async def test_a_swap_day_from_the_table_moves_the_close_deadline(start_server: Any, tmp_path: Path) -> None:
    """A Hà Nam session closed on Wednesday 3/2/2027, the day before Tết: its conclusions notice is due 5
    working days later, Wednesday 17/2; once the government's swap (Saturday 13/2 worked) is entered with
    `doithoai calendar add`, the close computes Tuesday 16/2. A Hải Phòng question accepted and one
    forwarded at a close on Friday 4/12/2026: written answer Monday 21/12 (the 15th day is a Saturday),
    forwarding Monday 7/12; on Friday 28/8/2026, before National Day: Thursday 3/9 and Monday 14/9."""
    server: RunningServer = await start_server()
    ha_nam = await server.new_session(SessionState.LIVE)
    hai_phong = await server.new_session(SessionState.LIVE)
    async with server.store.write_engine.begin() as conn:
        await conn.execute(update(s.sessions).where(s.sessions.c.id == ha_nam.id).values(rule_set="ha_nam"))
    questions: dict[str, int] = {}
    for key, session_id, state in (("hn", ha_nam.id, "accepted"), ("hp", hai_phong.id, "accepted"),
                                   ("fw", hai_phong.id, "forwarded")):
        questions[key] = await insert_question(server, session_id, state)
    for session in (ha_nam, hai_phong):
        await server.store.transition_session(session.id, SessionState.CLOSED)

    await close_at(server, ha_nam.id, D(2027, 2, 3))
    assert await due_of(server, questions["hn"]) == (D(2027, 2, 17), "ha_nam.notice")
    data_dir = server.settings.data_dir
    added = json.loads(run_cli("calendar", "add", "2027-02-13", "--working", "--note", "Hoán đổi ngày làm việc Tết 2027",
                               data_dir=data_dir).stdout)
    assert added["day"] == "2027-02-13" and added["working"] is True and added["created_by"] == "cli"
    await close_at(server, ha_nam.id, D(2027, 2, 3))
    assert await due_of(server, questions["hn"]) == (D(2027, 2, 16), "ha_nam.notice")

    await close_at(server, hai_phong.id, D(2026, 12, 4))
    assert await due_of(server, questions["hp"]) == (D(2026, 12, 21), "hai_phong.written_answer")
    assert await due_of(server, questions["fw"]) == (D(2026, 12, 7), "hai_phong.forward")
    # a Friday before a holiday: 28/8/2026 + 3 is Monday 31/8, off (swapped), then 1-2/9: Thursday 3/9
    await close_at(server, hai_phong.id, D(2026, 8, 28))
    assert await due_of(server, questions["fw"]) == (D(2026, 9, 3), "hai_phong.forward")
    assert await due_of(server, questions["hp"]) == (D(2026, 9, 14), "hai_phong.written_answer")

    shown = json.loads(run_cli("calendar", "show", "2027", data_dir=data_dir).stdout)
    listed = {d["day"]: d for d in shown["days"]}
    assert all(listed[d.isoformat()]["working"] is False for d in TET_2027)
    assert listed["2027-02-13"] == {"day": "2027-02-13", "weekday": 6, "working": True,
                                    "why": "Hoán đổi ngày làm việc Tết 2027", "source": "override"}
    assert [o["day"] for o in shown["overrides"]] == ["2027-02-13"]
    removed = json.loads(run_cli("calendar", "remove", "2027-02-13", data_dir=data_dir).stdout)
    assert removed["note"] == "Hoán đổi ngày làm việc Tết 2027"
    await close_at(server, ha_nam.id, D(2027, 2, 3))
    assert await due_of(server, questions["hn"]) == (D(2027, 2, 17), "ha_nam.notice")


async def insert_question(server: RunningServer, session_id: int, state: str, **values: Any) -> int:
    """A question fixture written through the store's write engine (its asker row too)."""
    from sqlalchemy import func, insert

    now = datetime.now(UTC)
    async with server.store.write_engine.begin() as conn:
        number = (await conn.execute(select(func.count()).select_from(s.questions)
                                     .where(s.questions.c.session_id == session_id))).scalar_one() + 1
        key = f"fixture-{session_id}-{number}"
        result = await conn.execute(insert(s.questions).returning(s.questions.c.id), {
            "session_id": session_id, "number": number, "receipt": key[:20], "idempotency_key": key,
            "content_hash": "0" * 64, "channel": "api", "field": "Đất đai", "text": f"Câu hỏi số {number}",
            "state": state, "asker_kind": "person", "public_name": "", "received_at": now, "interest_count": 0,
            "version": 1, "updated_at": now, **values})
        question_id = int(result.scalar_one())
        await conn.execute(insert(s.askers), {"question_id": question_id, "kind": "person", "name": "Nguyễn Văn An",
                                              "address": "12 Lạch Tray", "phone": "0912345678",
                                              "name_shown": "short"})
    return question_id


def test_cli_refuses_a_non_admin_and_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run_cli("user", "add", "bien_tap", "--role", "editor", data_dir=data_dir, stdin=PASSWORD + "\n")
    refused = run_cli("calendar", "add", "2027-02-13", "--working", "--note", "Làm bù", "--as", "bien_tap",
                      data_dir=data_dir, check=False)
    assert refused.returncode == 1 and "Chỉ quản trị" in refused.stderr and "Only an administrator" in refused.stderr
    bad = run_cli("calendar", "add", "13/02/2027", "--off", "--note", "x", data_dir=data_dir, check=False)
    assert bad.returncode == 1 and "Ngày: cần một ngày dạng YYYY-MM-DD" in bad.stderr
    missing = run_cli("calendar", "remove", "2027-02-13", data_dir=data_dir, check=False)
    assert missing.returncode == 1 and "13/02/2027 has no override" in missing.stderr
    year = run_cli("calendar", "show", "19", data_dir=data_dir, check=False)
    assert year.returncode == 1 and "Year: give a year from 2000 to 2100" in year.stderr
    assert run_cli("calendar", "add", "2027-02-13", "--working", "--note", "Làm bù", data_dir=data_dir)
    entries = [json.loads(line) for line in run_cli("audit", "show", data_dir=data_dir).stdout.splitlines()]
    assert [(e["action"], e["actor"]) for e in entries if e["action"].startswith("calendar")] == [
        ("calendar_override_add", "cli")]


# ---- the page ----


async def page_sign_in(server: RunningServer, http: aiohttp.ClientSession, name: str, role: str) -> str:
    await server.app[accounts_key].add_user(name, role, PASSWORD, department="Sở Xây dựng" if role == "responder" else None)
    return await sign_in(server, http, name)


async def test_calendar_page_forms_csrf_and_roles(server: RunningServer) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as admin, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as head:
        csrf = await page_sign_in(server, admin, "quan_tri", "admin")
        head_csrf = await page_sign_in(server, head, "truong_ban", "head")
        async with head.get(f"{server.url}/staff/calendar") as resp:
            assert resp.status == 403
        async with head.post(f"{server.url}/staff/calendar/add", allow_redirects=False,
                             data={"csrf": head_csrf, "day": "2027-02-13", "kind": "working", "note": "x"}) as resp:
            assert resp.status == 403
        async with admin.get(f"{server.url}/staff/calendar?year=2027") as resp:
            html = await resp.text()
        assert resp.status == 200 and 'data-day="2027-02-04"' in html and "29 Tết" in html
        assert 'id="cal-no-overrides"' in html
        form = {"csrf": csrf, "day": "2027-02-13", "kind": "working", "note": "Hoán đổi ngày làm việc"}
        async with admin.post(f"{server.url}/staff/calendar/add", allow_redirects=False,
                              data={**form, "csrf": "forged"}) as resp:
            assert resp.status == 403
        assert await CalendarStore(server.store).overrides() == []
        async with admin.post(f"{server.url}/staff/calendar/add", data={**form, "note": ""}) as resp:
            html = await resp.text()
        assert resp.status == 400 and "Lý do cụ thể: bắt buộc" in html and 'value="2027-02-13"' in html
        async with admin.post(f"{server.url}/staff/calendar/add", allow_redirects=False, data=form) as resp:
            assert resp.status == 303
            assert resp.headers["Location"].startswith("/staff/calendar?year=2027&done=add")
        async with admin.get(f"{server.url}/staff/calendar?year=2027&done=add&day=13/02/2027") as resp:
            html = await resp.text()
        assert re.search(r'class="cal-override" data-day="2027-02-13" data-working="yes"', html)
        assert "Đã thêm điều chỉnh ngày 13/02/2027" in html and "quan_tri" in html
        async with admin.post(f"{server.url}/staff/calendar/remove", allow_redirects=False,
                              data={"csrf": csrf, "day": "2027-02-13"}) as resp:
            assert resp.status == 303
        async with admin.post(f"{server.url}/staff/calendar/remove", data={"csrf": csrf, "day": "2027-02-13"}) as resp:
            assert resp.status == 404 and "13/02/2027 không có điều chỉnh" in await resp.text()
        async with admin.get(f"{server.url}/staff/calendar?year=abc") as resp:
            assert resp.status == 400 and "Năm: cần một năm" in await resp.text()
    assert [(e["actor"], e["action"]) for e in await audit_actions(server)] == [
        ("quan_tri", "calendar_override_remove"), ("quan_tri", "calendar_override_add")]


def route_table() -> dict[tuple[str, str], Any]:
    return documented(DOCS.read_text())


async def test_my_routes_against_the_route_table(callers: Callers) -> None:  # noqa: F811
    """tests/test_authorization.py's walk over this feature's routes only."""
    table = route_table()
    mine = [k for k in table if k[1].startswith(("/staff/calendar", "/staff/deadlines", "/api/v1/staff/deadlines"))]
    assert len(mine) == 5
    assert await walk(callers, table, only=mine) == []


async def test_calendar_page_in_chromium(start_server: Any, browser: Any) -> None:
    """The administrator opens 2027, sees Tết, enters the swap Saturday with the form, sees it listed
    (and in English), removes it; axe-core finds nothing serious on the page with an error shown."""
    from tests.browser import DESKTOP, log_in, open_viewer
    from tests.test_accessibility import assert_accessible, new_person

    server: RunningServer = await start_server(sign_ins_per_ip_per_minute=1000)
    await server.app[accounts_key].add_user("quan_tri", "admin", PASSWORD)
    context = await new_person(browser, DESKTOP)
    admin = await open_viewer(browser, f"{server.url}/login?next=/staff/calendar", context=context, wait_joined=False)
    page = admin.page
    try:
        await log_in(page, "quan_tri", PASSWORD, "/staff/calendar", ready="#cal-add")
        await page.fill("#cal-year", "2027")
        async with page.expect_navigation():
            await page.click(".cal-year-form button")
        assert await page.locator("#cal-days tr[data-day='2027-02-06'][data-working='no']").count() == 1
        await page.fill("#cal-day", "2027-02-13")
        await page.check("input[name=kind][value=working]")
        async with page.expect_navigation():
            await page.click("#cal-add button[type=submit]")  # no note: refused, the form kept
        assert "Lý do cụ thể" in (await page.text_content("#cal-alert") or "")
        assert await page.input_value("#cal-day") == "2027-02-13"
        await assert_accessible(page, "the calendar page with an error")
        await page.fill("#cal-note", "Hoán đổi ngày làm việc Tết Đinh Mùi")
        async with page.expect_navigation():
            await page.click("#cal-add button[type=submit]")
        row = page.locator("#cal-overrides tr[data-day='2027-02-13']")
        assert "Hoán đổi ngày làm việc Tết Đinh Mùi" in (await row.text_content() or "")
        assert await page.locator("#cal-days tr[data-day='2027-02-13'][data-source='override']").count() == 1
        await assert_accessible(page, "the calendar page")
        await page.goto(f"{server.url}/lang/en?next=/staff/calendar%3Fyear%3D2027")
        assert "Lunar New Year" in (await page.text_content("#cal-days") or "")
        async with page.expect_navigation():
            await page.click("#cal-overrides button[aria-label='Remove the override of 13/02/2027']")
        assert "Override of 13/02/2027 removed." in (await page.text_content("#cal-status") or "")
        assert await page.locator("#cal-no-overrides").count() == 1
        # the refused form's answer is a 400 page, which the browser reports; nothing else
        assert [e for e in admin.unexpected_errors() if "status of 400" not in e] == []
    finally:
        await admin.close()
    assert await CalendarStore(server.store).overrides() == []
