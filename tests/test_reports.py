"""Reports for a period (Hải Phòng Điều 22; docs/api.md *Reports*): a known set of questions is built
through the real paths (intake over the HTTP API and the viewer socket, the board's actions and the
session's close through moderation.board.Board on the server's store file), then every figure of the
report is checked exactly, over the API and the CLI, in JSON, CSV, XLSX and PDF, and no asker's
name, phone or address is in any of them.

Deadlines: the lead's moderation/followup.py gives each question its deadline at the close and marks
it done when the head approves the written answer (the on-time and not-yet-due cases below come from
there). The board takes the real clock, so the late and overdue cases are made by moving `due_on`
back through the store afterwards (`_move_due`), as a check of the counting, not of the follow-up."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from openpyxl import load_workbook
from playwright.async_api import Browser
from sqlalchemy import select, update

from moderation import schema as s
from moderation.board import Board
from moderation.calendar import VIETNAM, end_of_day, local_date
from moderation.roles import Actor, Role
from moderation.sessions import SessionDraft, SessionState
from reports.figures import deadline_outcome, half_year, parse_period
from reports.pdf import FontsMissing, font_files, to_pdf
from server.i18n import message
from server.keys import accounts_key
from server.ui_text import ui
from tests.conftest import RunningServer, run_cli, valid_payload
from tests.staff import submit
from tests.test_authorization import DOCS, Callers, callers, documented, sign_in, walk  # noqa: F401, F811 (callers: a fixture)

PASSWORD = "mật khẩu đủ dài 123"
TODAY = local_date(datetime.now(UTC))
START = TODAY - timedelta(days=150)
END = TODAY + timedelta(days=60)
TNMT, GTVT = "Sở Tài nguyên và Môi trường", "Sở Giao thông vận tải"
LAND, TRAFFIC, ENV = "Đất đai", "Giao thông", "Môi trường"
EVIL_TITLE = '=HYPERLINK("http://evil.example/?","Phiên")'
EDITOR = Actor("bientap", Role.EDITOR)
HEAD = Actor("truongban", Role.HEAD)
# every asker a name, a phone and an address of their own, none of which may reach a report
NAMES = ["Phạm Thị Hồng Nhung", "Lê Văn Quý", "Hoàng Minh Tuấn", "Vũ Thị Thanh Hương", "Đỗ Đức Thắng",
         "Bùi Thị Ngọc Ánh", "Trịnh Văn Khải", "Đặng Thu Trang", "Ngô Quang Vinh", "Dương Thị Mai",
         "Lý Hoàng Nam", "Tạ Thị Kim Oanh", "Mạc Văn Hiếu", "Châu Thị Lan", "Quách Văn Lộc"]
STREET = "Trần Nguyên Hãn"


def phone(i: int) -> str:
    return f"0987 654 3{i:02d}"


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), VIETNAM)


@dataclass
class Built:
    server: RunningServer
    ids: dict[str, int] = field(default_factory=dict)  # q1… → question id
    sessions: dict[str, int] = field(default_factory=dict)  # A, B, C, D, E, forum → session id
    askers: list[int] = field(default_factory=list)  # the askers' indexes used

    @property
    def store(self) -> Any:
        return self.server.store


async def _session(server: RunningServer, title: str, starts: datetime | None, fields: list[str], *,
                   kind: str = "dialogue") -> int:
    draft = SessionDraft(title=title, chair_name="Nguyễn Văn Tùng", starts_at=starts,
                         minutes=None if kind == "forum" else 90, fields=fields, kind=kind)
    made = await server.store.create_session(draft)
    await server.store.transition_session(made.id, SessionState.ANNOUNCED)
    return made.id


class Scenario:
    def __init__(self, server: RunningServer, http: aiohttp.ClientSession, viewer: socketio.AsyncClient) -> None:
        self.built = Built(server)
        self.http = http
        self.viewer = viewer
        self.board = Board(server.store)
        self.n = 0

    def payload(self, session_id: int, field: str | None) -> dict[str, Any]:
        i = self.n
        self.n += 1
        self.built.askers.append(i)
        return valid_payload(session_id, field=field, asker={
            "kind": "person", "name": NAMES[i], "address": f"{10 + i} {STREET}, Lê Chân, Hải Phòng",
            "phone": phone(i), "name_shown": "full"})

    async def api(self, key: str, session: str, field: str | None = None) -> None:
        sid = self.built.sessions[session]
        async with self.http.post(f"{self.built.server.url}/api/v1/sessions/{sid}/questions",
                                  json=self.payload(sid, field)) as resp:
            body = await resp.json()
            assert resp.status == 201, body
        self.built.ids[key] = body["question_id"]

    async def socket(self, key: str, session: str, field: str | None = None) -> None:
        sid = self.built.sessions[session]
        payload = self.payload(sid, field)
        ack = await submit(self.viewer, sid, **{k: v for k, v in payload.items() if k != "session_id"})
        self.built.ids[key] = ack["question_id"]

    async def act(self, key: str, action: str, actor: Actor = EDITOR, **params: Any) -> None:
        qid = self.built.ids[key]
        (question,) = await self.board.questions(ids=[qid])
        await self.board.act(qid, action, question.version, params, actor)

    async def session(self, key: str, action: str) -> None:
        await self.board.session_action(self.built.sessions[key], action, HEAD)


async def _move_due(built: Built, key: str, due_on: date) -> None:
    async with built.store.write_engine.begin() as conn:
        await conn.execute(update(s.questions).where(s.questions.c.id == built.ids[key]).values(due_on=due_on))


async def build(server: RunningServer, http: aiohttp.ClientSession, viewer: socketio.AsyncClient) -> Built:
    """Sessions A and B held in the period, a forum, E announced at its last hour; C and D outside it
    by Vietnam's date though not by UTC's. Fifteen questions, thirteen of them the period's."""
    sc = Scenario(server, http, viewer)
    b = sc.built
    b.sessions["A"] = await _session(server, "Đối thoại về đất đai, giao thông và môi trường", at(START, 0, 30),
                                     [LAND, TRAFFIC, ENV])
    b.sessions["D"] = await _session(server, "Phiên của kỳ trước", at(START - timedelta(days=1), 23, 30), [LAND])
    b.sessions["B"] = await _session(server, "Đối thoại về thủ tục đất đai", at(TODAY - timedelta(days=1), 9, 0),
                                     [LAND])
    b.sessions["E"] = await _session(server, EVIL_TITLE, at(END, 23, 30), [LAND])
    b.sessions["C"] = await _session(server, "Phiên của kỳ sau", at(END + timedelta(days=1), 0, 30), [LAND])
    b.sessions["forum"] = await _session(server, "Trao đổi và tháo gỡ", None, [LAND], kind="forum")

    for key, field_name in (("q1", LAND), ("q2", LAND), ("q3", TRAFFIC)):
        await sc.api(key, "A", field_name)
    await sc.socket("q4", "A", TRAFFIC)
    await sc.socket("q5", "A")
    await sc.api("q6", "A")
    await sc.api("q7", "A", LAND)
    await sc.api("q8", "A", ENV)
    await sc.api("q9", "A")  # never screened
    await sc.session("A", "start")
    await sc.act("q1", "accept")
    await sc.act("q7", "merge", into=b.ids["q1"])
    await sc.act("q1", "air")
    await sc.act("q1", "done")
    await sc.act("q2", "accept")
    await sc.act("q2", "route", department=TNMT)
    await sc.act("q3", "accept")
    await sc.act("q3", "route", department=GTVT)
    await sc.act("q4", "decline", reason="outside_chair_remit")
    await sc.act("q5", "decline", reason="duplicate")
    await sc.act("q6", "decline", reason="will_not_answer", note="Nội dung đã được trả lời tại phiên trước.")
    await sc.act("q8", "accept")
    await sc.session("A", "approve_script")
    await sc.api("q10", "A")  # late: an editor accepts it, the head has not approved it
    await sc.act("q10", "accept")

    await sc.socket("q11", "B", LAND)
    await sc.api("q12", "B")
    await sc.session("B", "start")
    await sc.act("q11", "accept")
    await sc.act("q11", "route", department=TNMT)
    await sc.act("q12", "decline", reason="abusive")

    await sc.api("q13", "C", LAND)
    await sc.act("q13", "accept")
    await sc.api("q14", "D", LAND)
    await sc.act("q14", "accept")
    await sc.api("q15", "forum")
    await sc.act("q15", "accept")

    for key in ("A", "B", "D"):
        await sc.session(key, "close")  # every question still to answer gets its deadline here
    for key in ("q2", "q8", "q11"):  # written answers, approved today: on time
        await sc.act(key, "answer", answer="Sở đã có văn bản trả lời chi tiết gửi người hỏi.")
        await sc.act(key, "approve_answer", HEAD)
    await _move_due(b, "q8", TODAY - timedelta(days=1))  # done today, due yesterday: late
    await _move_due(b, "q3", TODAY - timedelta(days=3))  # not done, due three days ago: overdue
    return b


@pytest.fixture
async def built(start_server: Any, http: aiohttp.ClientSession, viewer_client: Any) -> Built:
    server = await start_server(rate_limit=False)
    return await build(server, http, await viewer_client(server.url))


async def bearer(server: RunningServer, name: str, role: str, department: str | None = None) -> dict[str, str]:
    accounts = server.app[accounts_key]
    await accounts.add_user(name, role, PASSWORD, department=department)
    return {"Authorization": f"Bearer {(await accounts.issue_token(name))['token']}"}


PERIOD = {"from": START.isoformat(), "to": END.isoformat()}


@pytest.fixture(autouse=True)
async def one_vietnamese_day() -> None:
    """The server's clock decides "today" (Vietnam's date: UTC+7, midnight at 17:00 UTC), and the
    dates above were taken when this module was collected, minutes earlier. A test here never
    starts within a few minutes of midnight, and after a midnight the dates move with it."""
    global TODAY, START, END
    now = datetime.now(VIETNAM)
    left = (datetime.combine(now.date() + timedelta(days=1), time(), VIETNAM) - now).total_seconds()
    if left < 300:  # longer than any test here takes
        await asyncio.sleep(left + 1)
    today = local_date(datetime.now(UTC))
    if today != TODAY:
        TODAY, START, END = today, today - timedelta(days=150), today + timedelta(days=60)
        PERIOD.update({"from": START.isoformat(), "to": END.isoformat()})


async def fetch(http: aiohttp.ClientSession, built: Built, headers: dict[str, str], fmt: str,
                **query: str) -> tuple[int, bytes, dict[str, str]]:
    async with http.get(f"{built.server.url}/api/v1/staff/reports", headers=headers,
                        params={**PERIOD, "format": fmt, **query}) as resp:
        return resp.status, await resp.read(), {str(k).lower(): v for k, v in resp.headers.items()}


def expected_counts(**given: int) -> dict[str, Any]:
    zero = dict.fromkeys(("received", "accepted", "answered_live", "answered_in_writing", "forwarded", "declined",
                          "merged", "awaiting_head", "on_time", "late", "overdue", "pending"), 0)
    out: dict[str, Any] = {**zero, **given}
    out["with_deadline"] = out["on_time"] + out["late"] + out["overdue"] + out["pending"]
    known = out["on_time"] + out["late"] + out["overdue"]
    out["on_time_rate"] = round(out["on_time"] / known, 4) if known else None
    return out


TOTALS = expected_counts(received=13, accepted=6, awaiting_head=1, merged=1, answered_live=1, answered_in_writing=3,
                         forwarded=1, declined=3, on_time=2, late=1, overdue=1, pending=3)
FIELDS = {
    LAND: expected_counts(received=4, accepted=3, answered_live=1, answered_in_writing=2, merged=1, on_time=2),
    TRAFFIC: expected_counts(received=2, accepted=1, forwarded=1, overdue=1, pending=1),
    ENV: expected_counts(received=1, accepted=1, answered_in_writing=1, late=1),
    None: expected_counts(received=6, accepted=1, awaiting_head=1, declined=3, pending=2),
}
DEPARTMENTS = {
    TNMT: expected_counts(received=2, accepted=2, answered_in_writing=2, on_time=2),
    GTVT: expected_counts(received=1, accepted=1, overdue=1),
}


def check_figures(body: dict[str, Any], built: Built, *, overdue_days: int = 3) -> None:
    """Every figure of the scenario's report."""
    assert body["period"] == PERIOD
    assert body["sessions_held"] == 2
    assert body["totals"] == TOTALS
    assert body["channels"] == {"api": 10, "socketio": 3}
    assert body["declined"] == {"abusive": 1, "duplicate": 1, "will_not_answer": 1}
    assert {g["key"]: {k: v for k, v in g.items() if k != "key"} for g in body["fields"]} == FIELDS
    assert [g["key"] for g in body["fields"]] == [LAND, TRAFFIC, ENV, None]  # most first, unclassified last
    assert {g["key"]: {k: v for k, v in g.items() if k != "key"} for g in body["departments"]} == DEPARTMENTS
    sid = built.sessions
    rows = [(r["id"], r["kind"], r["state"], r["starts_on"], r["held"], r["received"], r["accepted"],
             r["answered_live"], r["answered_in_writing"]) for r in body["sessions"]]
    assert rows == [
        (sid["A"], "dialogue", "closed", START.isoformat(), True, 10, 4, 1, 2),  # 00:30 on START, Vietnam time
        (sid["B"], "dialogue", "closed", (TODAY - timedelta(days=1)).isoformat(), True, 2, 1, 0, 1),
        (sid["forum"], "forum", "announced", TODAY.isoformat(), False, 1, 1, 0, 0),
        (sid["E"], "dialogue", "announced", END.isoformat(), False, 0, 0, 0, 0),  # 23:30 on END
    ]
    assert body["sessions"][3]["title"] == EVIL_TITLE
    (late_one,) = body["overdue"]
    assert late_one == {"session_id": sid["A"], "session_title": "Đối thoại về đất đai, giao thông và môi trường",
                        "number": 3, "field": TRAFFIC, "department": GTVT,
                        "due_on": (TODAY - timedelta(days=3)).isoformat(), "due_rule": "hai_phong.written_answer",
                        "days_overdue": overdue_days}


async def test_every_figure_of_the_period_over_the_api_and_the_cli(built: Built, http: aiohttp.ClientSession) -> None:
    editor = await bearer(built.server, "bt-report", "editor")
    status, body, headers = await fetch(http, built, editor, "json")
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    report = json.loads(body)
    check_figures(report, built)
    # the close gave the deadlines (moderation/followup.py): what is pending is its work, untouched
    async with built.store.read_engine.connect() as conn:
        rules = dict((await conn.execute(select(s.questions.c.id, s.questions.c.due_rule)
                                         .where(s.questions.c.id.in_([built.ids[k] for k in ("q4", "q10")])))).all())
    assert rules == {built.ids["q4"]: "hai_phong.forward", built.ids["q10"]: "hai_phong.written_answer"}

    async def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_cli, "report", "--from", START.isoformat(), "--to", END.isoformat(),
                                       *args, data_dir=built.server.settings.data_dir, check=check)

    check_figures(json.loads((await cli("--format", "json")).stdout), built)
    # as of the last second of q3's last day it is not overdue yet; at midnight it is, one day over
    due = TODAY - timedelta(days=3)
    before = json.loads((await cli("--as-of", f"{due.isoformat()}T23:59:59+07:00")).stdout)
    assert (before["totals"]["overdue"], before["totals"]["pending"], before["overdue"]) == (0, 4, [])
    assert before["departments"][1]["key"] == GTVT and before["departments"][1]["pending"] == 1
    after = json.loads((await cli("--as-of", f"{(due + timedelta(days=1)).isoformat()}T00:00:00+07:00")).stdout)
    check_figures(after, built, overdue_days=1)
    # a responder is held to the board's rule from the command line too; bad input names its field
    await built.server.app[accounts_key].add_user("so-xd", "responder", PASSWORD, department="Sở Xây dựng")
    refused = await cli("--as", "so-xd", check=False)
    assert refused.returncode == 1 and refused.stdout == "" and "responder" in refused.stderr
    wrong = await asyncio.to_thread(run_cli, "report", "--from", END.isoformat(), "--to", START.isoformat(),
                                    data_dir=built.server.settings.data_dir, check=False)
    assert wrong.returncode == 1 and "Đến ngày" in wrong.stderr and "To cannot be before" in wrong.stderr
    no_file = await cli("--format", "pdf", check=False)
    assert no_file.returncode != 0 and "--output" in no_file.stderr


def csv_figures(text: str) -> dict[tuple[str, str, str], str]:
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert list(rows[0]) == ["section", "key", "label", "metric", "value"]
    return {(r["section"], r["key"], r["metric"]): r["value"] for r in rows}


def workbook(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(body))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def vi(key: str, **params: Any) -> str:
    return ui(key, "vi", **params)


def personal_data(built: Built) -> list[str]:
    """Every asker's name, phone (as typed and in digits), street, and the name shown publicly."""
    found = []
    for i in built.askers:
        found += [NAMES[i], phone(i), phone(i).replace(" ", "")]
    return [*found, STREET]


async def public_names(built: Built) -> list[str]:
    async with built.store.read_engine.connect() as conn:
        names = (await conn.execute(select(s.questions.c.public_name))).scalars().all()
    return [n for n in names if n]


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def render_first_page(pdf: Path, out: Path) -> tuple[bytes, str]:
    """pdftoppm's PNG of page 1, and pdfinfo's account of the file."""
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)],
                   check=True, timeout=60)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60).stdout
    return out.with_suffix(".png").read_bytes(), info


needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")


@needs_poppler
async def test_csv_xlsx_and_pdf_carry_the_same_figures_and_no_personal_data(
        built: Built, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    head = await bearer(built.server, "tb-report", "head")
    status, body, _ = await fetch(http, built, head, "json")
    report = json.loads(body)
    check_figures(report, built)

    status, raw_csv, headers = await fetch(http, built, head, "csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == f'attachment; filename="bao-cao-{START}-{END}.csv"'
    lines = csv_figures(raw_csv.decode("utf-8"))
    for metric, value in TOTALS.items():
        if metric in ("with_deadline", "on_time", "late", "overdue", "pending", "on_time_rate"):
            assert lines["deadlines", metric, "ratio" if metric == "on_time_rate" else "count"] == str(value)
        else:
            assert lines["totals", metric, "count"] == str(value), metric
    assert lines["totals", "sessions_held", "count"] == "2"
    assert lines["channel", "api", "received"] == "10" and lines["channel", "socketio", "received"] == "3"
    assert lines["declined", "will_not_answer", "count"] == "1"
    for name, counts in FIELDS.items():
        for metric in ("received", "accepted", "answered_live", "answered_in_writing", "forwarded", "declined",
                       "merged", "on_time", "late", "overdue", "pending"):
            assert lines["field", name or "", metric] == str(counts[metric]), (name, metric)
    for name, counts in DEPARTMENTS.items():
        for metric in ("received", "answered_in_writing", "on_time", "overdue"):
            assert lines["department", name, metric] == str(counts[metric])
    key = f"{built.sessions['A']}-3"
    assert lines["overdue", key, "days_overdue"] == "3" and lines["overdue", key, "department"] == GTVT
    rows = list(csv.reader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    e_rows = [r for r in rows if r[0] == "session" and r[1] == str(built.sessions["E"])]
    assert e_rows and all(r[2] == "'" + EVIL_TITLE for r in e_rows)  # a formula stays text

    status, raw_xlsx, headers = await fetch(http, built, head, "xlsx")
    assert status == 200 and headers["content-disposition"].endswith('.xlsx"')
    sheets = workbook(raw_xlsx)
    summary = dict(sheets[vi("rpt_summary")][1:])
    assert summary[vi("rpt_sessions_held")] == 2
    assert summary[vi("stats_received")] == 13 and summary[vi("stats_accepted")] == 6
    assert summary[vi("stats_answered_live")] == 1 and summary[vi("stats_answered_in_writing")] == 3
    assert summary[vi("stats_forwarded")] == 1 and summary[vi("state_name_merged")] == 1
    assert summary[vi("rpt_declined_total")] == 3 and summary[vi("rpt_held")] == 1
    deadlines = dict(sheets[vi("rpt_deadlines")][1:])
    assert deadlines[vi("rpt_on_time")] == 2 and deadlines[vi("rpt_late")] == 1
    assert deadlines[vi("rpt_overdue")] == 1 and deadlines[vi("rpt_pending")] == 3
    assert deadlines[vi("rpt_on_time_rate")] == 0.5
    channels = dict(sheets[vi("rpt_by_channel")][1:])
    assert channels == {vi("rpt_channel_api"): 10, vi("rpt_channel_socketio"): 3}
    reasons = dict(sheets[vi("rpt_by_reason")][1:])
    assert reasons == {vi("rsn_abusive"): 1, vi("rsn_duplicate"): 1, vi("rsn_will_not_answer"): 1}
    by_field = sheets[vi("rpt_by_field")]
    columns = ("received", "accepted", "answered_live", "answered_in_writing", "forwarded", "declined", "merged",
               "on_time", "late", "overdue")
    assert by_field[0][0] == vi("rpt_field") and by_field[0][3] == "Trả lời trực tiếp"
    assert {row[0]: list(row[1:]) for row in by_field[1:]} == {
        (name or vi("rpt_no_field")): [counts[c] for c in columns] for name, counts in FIELDS.items()}
    by_department = sheets[vi("rpt_by_department")]
    assert {row[0]: list(row[1:]) for row in by_department[1:]} == {
        name: [counts[c] for c in columns] for name, counts in DEPARTMENTS.items()}
    (overdue,) = sheets[vi("rpt_overdue_list")][1:]
    assert overdue[1:] == (3, TRAFFIC, GTVT, f"{TODAY - timedelta(days=3):%d/%m/%Y}", "Trả lời bằng văn bản (15 ngày)",
                           3)
    book = load_workbook(io.BytesIO(raw_xlsx))
    evil = [c for row in book[vi("rpt_sessions")].iter_rows() for c in row if c.value == EVIL_TITLE]
    assert evil and evil[0].data_type == "s" and evil[0].quotePrefix
    with zipfile.ZipFile(io.BytesIO(raw_xlsx)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert not re.search(r"<(\w+:)?f[\s>/]", xml)  # not one formula in the book

    status, raw_pdf, headers = await fetch(http, built, head, "pdf")
    assert status == 200 and headers["content-type"] == "application/pdf" and raw_pdf.startswith(b"%PDF-")
    text = pdf_text(raw_pdf, tmp_path)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as signed:  # pages: the cookie
        await sign_in(built.server, signed, "tb-report")
        async with signed.get(f"{built.server.url}/staff/reports", params=PERIOD) as resp:
            assert resp.status == 200
            page = await resp.text()
    assert "Sở Giao thông vận tải" in page and 'role="img"' in page

    outputs = {"json": body.decode(), "csv": raw_csv.decode("utf-8-sig"), "xlsx": xml, "pdf": text, "page": page}
    for secret in [*personal_data(built), *await public_names(built)]:
        for fmt, output in outputs.items():
            assert secret not in output, (secret, fmt)
    assert "@" not in body.decode()  # no e-mail either


@needs_poppler
async def test_the_pdf_says_it_in_vietnamese_and_renders(built: Built, http: aiohttp.ClientSession,
                                                         tmp_path: Path) -> None:
    status, body, _ = await fetch(http, built, await bearer(built.server, "ad-report", "admin"), "pdf")
    assert status == 200
    text = " ".join(pdf_text(body, tmp_path).split())
    for words in ("Báo cáo kết quả đối thoại trực tuyến", f"Kỳ báo cáo: từ {START:%d/%m/%Y} đến {END:%d/%m/%Y}",
                  "Đất đai", "Giao thông", "Môi trường", "Trả lời trực tiếp", "Trả lời bằng văn bản",
                  "Chuyển cơ quan có thẩm quyền", TNMT, GTVT, "Trùng câu hỏi khác", "Nội dung không phù hợp",
                  "Tỷ lệ đúng hạn", "50%", "Câu hỏi quá hạn", "Đối thoại về thủ tục đất đai", "Chưa phân loại",
                  "Số phiên đối thoại đã tổ chức"):
        assert words in text, words
    picture, pages = await asyncio.to_thread(render_first_page, tmp_path / "report.pdf", tmp_path / "page")
    assert picture.startswith(b"\x89PNG") and len(picture) > 20_000  # a page with text and charts on it
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", pages), pages
    assert "Báo cáo kết quả đối thoại trực tuyến" in pages  # the document's title


async def test_who_may_ask_and_what_bad_input_gets(built: Built, http: aiohttp.ClientSession) -> None:
    url = f"{built.server.url}/api/v1/staff/reports"
    async with http.get(url, params=PERIOD) as resp:
        assert resp.status == 401
    for role, dept in (("responder", "Sở Xây dựng"), ("chair", None)):
        async with http.get(url, params=PERIOD, headers=await bearer(built.server, f"r-{role}", role, dept)) as resp:
            assert resp.status == 403, role
    editor = await bearer(built.server, "bt-bad", "editor")
    for query, field_name, words in (
            ({"to": END.isoformat()}, "from", "Vui lòng nhập Từ ngày"),
            ({"from": "01/07/2026", "to": END.isoformat()}, "from", "Từ ngày phải là một ngày"),
            ({"from": END.isoformat(), "to": START.isoformat()}, "to", "Đến ngày không được trước"),
            ({"from": "2020-01-01", "to": "2026-12-31"}, "to", "tối đa 3 năm"),
            ({**PERIOD, "format": "docx"}, "format", "json, csv, xlsx hoặc pdf")):
        async with http.get(url, params=query, headers=editor) as resp:
            error = (await resp.json())["error"]
            assert resp.status == 400 and error["field"] == field_name and words in error["message"], (query, error)
    async with http.get(url, params={"to": END.isoformat()}, headers={**editor, "Accept-Language": "en"}) as resp:
        assert (await resp.json())["error"]["message"] == "Please give From (a date, like 2026-07-01)."


async def test_the_routes_answer_as_their_rows_in_the_route_table_say(callers: Callers) -> None:  # noqa: F811
    """docs/moderation.md's rows for the page and the API, walked as tests/test_authorization.py does:
    anonymous and viewers refused, the board let in (cookie and token), chair and responder 403."""
    table = documented(DOCS.read_text(encoding="utf-8"))
    mine = [("GET", "/staff/reports"), ("GET", "/api/v1/staff/reports")]
    assert all(key in table for key in mine)
    assert await walk(callers, table, only=mine) == []


def test_a_deadline_ends_at_midnight_in_vietnam() -> None:
    due = date(2026, 12, 7)
    ends = end_of_day(due)
    assert ends == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    assert deadline_outcome(due, ends - timedelta(microseconds=1), ends) == "on_time"
    assert deadline_outcome(due, ends, ends) == "late"
    assert deadline_outcome(due, None, ends - timedelta(microseconds=1)) == "pending"
    assert deadline_outcome(due, None, ends) == "overdue"
    assert deadline_outcome(None, None, ends) is None
    assert half_year(date(2026, 6, 30)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert half_year(date(2026, 7, 1)) == (date(2026, 7, 1), date(2026, 12, 31))
    assert parse_period("2026-01-01", "2026-01-01") == (date(2026, 1, 1), date(2026, 1, 1))


def test_without_the_fonts_the_pdf_is_refused_in_words(tmp_path: Path) -> None:
    assert font_files()[0].name == "NotoSans-Regular.ttf"  # Debian's fonts-noto-core, as make test installs
    with pytest.raises(FontsMissing) as refused:
        to_pdf(None, lambda key, **kw: key, font_dirs=(tmp_path,))  # type: ignore[arg-type]
    err = refused.value
    assert err.code == "internal"
    assert "fonts-noto-core" in message(err.reason, "vi", **err.params) and str(tmp_path) in message(
        err.reason, "en", **err.params)


@pytest.mark.browser
async def test_the_page_shows_the_charts_with_their_figures(built: Built, browser: Browser, tmp_path: Path) -> None:
    from tests.browser import PHONE
    from tests.test_accessibility import DESKTOP, axe_violations, describe
    from tests.test_accessibility import sign_in as browser_sign_in

    query = f"from={START.isoformat()}&to={END.isoformat()}"
    viewer = await browser_sign_in(browser, built.server, "tb-page", "head", "/staff/reports", "#rpt-period",
                                   DESKTOP)
    page = viewer.page  # the current six months by default; the scenario's period is asked for
    await page.goto(f"{built.server.url}/staff/reports?{query}")
    charts = page.locator("svg.rpt-chart")
    assert await charts.count() == 5
    for i in range(5):
        assert await charts.nth(i).is_visible()
    outcomes = page.locator('figure[data-chart="outcomes"] svg')
    assert await outcomes.get_attribute("role") == "img"
    labelled = (await outcomes.get_attribute("aria-labelledby") or "").split()
    assert await page.locator(f"#{labelled[0]}").text_content() == "Kết quả xử lý câu hỏi"
    assert "Trả lời trực tiếp: 1" in (await page.locator(f"#{labelled[1]}").text_content() or "")
    bars = page.locator('figure[data-chart="fields"] rect.rpt-bar')
    assert await bars.count() == 4
    widths = [float(await bars.nth(i).get_attribute("width") or 0) for i in range(4)]
    assert widths[0] > widths[1] > widths[2] > 0 and widths[3] > widths[0]  # 4, 2, 1 and 6 unclassified
    fields_table = page.locator("#rpt-table-fields tbody tr")
    assert await fields_table.count() == 4
    assert (await fields_table.first.locator("th").text_content()) == LAND
    assert await page.locator("#rpt-table-deadlines").get_by_text("50%").is_visible()
    hrefs = [await a.get_attribute("href") for a in await page.locator(".rpt-downloads a").all()]
    assert [h.rsplit("format=", 1)[1] for h in hrefs if h] == ["pdf", "xlsx", "csv", "json"]
    async with page.expect_download() as download_info:
        await page.locator('.rpt-downloads a[data-format="csv"]').click()
    saved = tmp_path / "downloaded.csv"
    await (await download_info.value).save_as(saved)
    assert csv_figures(saved.read_text(encoding="utf-8"))["totals", "received", "count"] == "13"
    found = await axe_violations(page)
    assert not found, describe(found)
    await page.screenshot(path=str(tmp_path / "reports.png"), full_page=True)
    await page.set_viewport_size(PHONE)  # on a phone: one column, the wide tables scroll in their own box
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert await page.locator('figure[data-chart="fields"] svg').is_visible()
    await page.screenshot(path=str(tmp_path / "reports-phone.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
    # a bad period is the form's error, on the field
    await page.fill("#rpt-to", (START - timedelta(days=1)).isoformat())
    await page.locator(".rpt-form button[type=submit]").click()
    await page.wait_for_selector("#rpt-error")
    assert await page.get_attribute("#rpt-to", "aria-invalid") == "true"
    assert "Đến ngày không được trước" in (await page.locator("#rpt-error").text_content() or "")
    await viewer.close()
