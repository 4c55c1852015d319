"""The staff's command line (`doithoai …`), run as real processes on a real SQLite store, alone and
while a `doithoai serve` process works on the same store."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import argon2
import pytest
import socketio

from moderation.errors import DomainError
from server.demo import DEMO_QUESTIONS, DEMO_TITLE
from server.i18n import FIELD_LABELS, message
from tests.conftest import DOITHOAI, ServerProcess, free_port, run_cli, valid_payload, wait_for

START = "2030-01-01T09:00:00+07:00"
CHAIR = "Nguyễn Văn Tùng"


def create_session(data_dir: Path, *extra: str, minutes: str = "90", start: str = START,
                   check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli("session", "create", "--title", "Đối thoại với doanh nghiệp", "--chair", CHAIR,
                   "--start", start, "--minutes", minutes, *extra, data_dir=data_dir, check=check)


def new_session_id(data_dir: Path, *extra: str) -> int:
    return int(json.loads(create_session(data_dir, *extra).stdout)["id"])


def session_states(data_dir: Path) -> dict[int, str]:
    out = run_cli("session", "list", data_dir=data_dir).stdout
    return {row["id"]: row["state"] for row in map(json.loads, out.splitlines())}


def cli_json(*args: str, data_dir: Path) -> Any:
    return json.loads(run_cli(*args, data_dir=data_dir).stdout)


async def acli(*args: str, data_dir: Path) -> Any:
    """Run the CLI without blocking the test's event loop (whose socket.io clients keep listening)."""
    result = await asyncio.to_thread(run_cli, *args, data_dir=data_dir)
    return json.loads(result.stdout)


def db_rows(db: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(query, params))
    finally:
        conn.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    # the same directory the server_process fixture serves from
    path = tmp_path / "data"
    path.mkdir(exist_ok=True)
    return path


# -- sessions ---------------------------------------------------------------------------------------


def test_session_create_prints_session_with_deadlines(data_dir: Path) -> None:
    created = json.loads(create_session(data_dir, "--place", "Hội trường Thành ủy", "--field", "Đất đai",
                                        "--field", "Giao thông").stdout)
    assert isinstance(created["id"], int)
    assert created["state"] == "draft" and created["intake_open"] is False
    assert created["title"] == "Đối thoại với doanh nghiệp" and created["chair"]["name"] == CHAIR
    assert created["place"] == "Hội trường Thành ủy" and created["fields"] == ["Đất đai", "Giao thông"]
    start = datetime.fromisoformat(START)
    assert datetime.fromisoformat(created["starts_at"]) == start
    assert datetime.fromisoformat(created["ends_at"]) == start + timedelta(minutes=90)
    deadlines = {d["key"]: d for d in created["deadlines"]}
    expected = {"deadline_plan": 15, "deadline_announce": 14, "deadline_route": 7, "deadline_answers": 3,
                "deadline_script": 2}
    assert {k: d["days_before"] for k, d in deadlines.items()} == expected
    for key, days in expected.items():
        assert datetime.fromisoformat(deadlines[key]["due"]) == start - timedelta(days=days)
    assert created["closed_at"] is None
    # without --field a session gets the default fields
    assert "Đất đai" in cli_json("session", "show", str(new_session_id(data_dir)), data_dir=data_dir)["fields"]


@pytest.mark.parametrize("minutes", ["90", "120"])
def test_session_length_bounds_accepted(data_dir: Path, minutes: str) -> None:
    assert json.loads(create_session(data_dir, minutes=minutes).stdout)["minutes"] == int(minutes)


@pytest.mark.parametrize("minutes", ["60", "89", "121", "150"])
def test_session_length_outside_90_to_120_refused(data_dir: Path, minutes: str) -> None:
    result = create_session(data_dir, minutes=minutes, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Thời lượng phiên phải từ 90 đến 120 phút" in result.stderr
    assert f"đã nhập {minutes}" in result.stderr
    assert session_states(data_dir) == {}


@pytest.mark.parametrize(("start", "needle"), [("2030-01-01T09:00:00", "múi giờ"), ("mùng 1 Tết", "ISO 8601")])
def test_session_start_needs_iso_time_with_timezone(data_dir: Path, start: str, needle: str) -> None:
    result = create_session(data_dir, start=start, check=False)
    assert result.returncode != 0
    assert needle in result.stderr
    assert session_states(data_dir) == {}


def test_session_lifecycle_and_illegal_transitions(data_dir: Path) -> None:
    first = new_session_id(data_dir)
    second = new_session_id(data_dir)
    run_cli("user", "add", "truongban", "--role", "head", data_dir=data_dir, stdin="một mật khẩu đủ dài\n")
    for verb, state in [("announce", "announced"), ("start", "live"), ("close", "closed"), ("publish", "published")]:
        if verb == "publish":  # the head's final review: refused to the command line's own admin
            refused = run_cli("session", verb, str(first), data_dir=data_dir, check=False)
            assert refused.returncode != 0 and "“publish”" in refused.stderr
        moved = cli_json("session", verb, str(first), *(("--as", "truongban") if verb == "publish" else ()),
                         data_dir=data_dir)
        assert moved["id"] == first and moved["state"] == state
        assert cli_json("session", "show", str(first), data_dir=data_dir)["state"] == state
    assert cli_json("session", "show", str(first), data_dir=data_dir)["closed_at"] is not None

    # a draft cannot be closed (nor started, nor published); nothing changes
    for verb, target in [("close", "closed"), ("start", "live"), ("publish", "published")]:
        refused = run_cli("session", verb, str(second), "--as", "truongban", data_dir=data_dir, check=False)
        assert refused.returncode != 0 and refused.stdout == ""
        assert f"Không thể chuyển phiên từ trạng thái “draft” sang “{target}”" in refused.stderr
    # a published session stays published
    refused = run_cli("session", "announce", str(first), data_dir=data_dir, check=False)
    assert refused.returncode != 0 and "“published” sang “announced”" in refused.stderr
    assert session_states(data_dir) == {first: "published", second: "draft"}

    missing = run_cli("session", "announce", "999", data_dir=data_dir, check=False)
    assert missing.returncode != 0 and "Không tìm thấy phiên đối thoại" in missing.stderr


def test_empty_title_is_named_in_vietnamese(data_dir: Path) -> None:
    result = run_cli("session", "create", "--title", "", "--chair", CHAIR, "--start", START, "--minutes", "90",
                     data_dir=data_dir, check=False)
    assert result.returncode != 0 and result.stdout == ""
    assert "Vui lòng nhập Tiêu đề phiên." in result.stderr
    assert "Title is required." in result.stderr
    assert session_states(data_dir) == {}


# -- messages: every field an error can name has a label -----------------------------------------


def _error_classes() -> set[str]:
    found, todo = {"DomainError"}, [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


class _RaiseSites(ast.NodeVisitor):
    """Field names in `SomeError(..., field=X)` and `problems.add(reason, X)`; where X is a helper's
    parameter (`field=name`), the literals its callers pass for it."""

    def __init__(self, errors: set[str]) -> None:
        self.errors = errors
        self.literal: dict[str, list[str]] = {}  # field -> where
        self.through: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, str]] = []
        self.calls: list[tuple[str, ast.Call, str]] = []
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.where = ""

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast.NodeVisitor's naming

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        where = f"{self.where}:{node.lineno}"
        self.calls.append((name, node, where))
        value: ast.expr | None = None
        if name in self.errors:
            value = next((k.value for k in node.keywords if k.arg == "field"), None)
        elif (name == "add" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id == "problems"):
            value = node.args[1]
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            self.literal.setdefault(value.value, []).append(where)
        elif isinstance(value, ast.Name) and self.functions:
            self.through.append((self.functions[-1], value.id, where))
        elif value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            raise AssertionError(f"{where}: a field this test cannot read: {ast.unparse(value)}")
        self.generic_visit(node)

    def resolve(self) -> dict[str, list[str]]:
        fields = {k: list(v) for k, v in self.literal.items()}
        for function, param, where in self.through:
            params = [a.arg for a in function.args.args]
            assert param in params, f"{where}: field={param} is not a parameter of {function.name}"
            index = params.index(param) - (1 if params[0] in ("self", "cls") else 0)
            passed = 0
            for name, call, call_where in self.calls:
                if name != function.name:
                    continue
                arg = next((k.value for k in call.keywords if k.arg == param), None)
                if arg is None and index < len(call.args):
                    arg = call.args[index]
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{call_where}: {function.name}() is given a field name this test cannot read")
                fields.setdefault(arg.value, []).append(f"{call_where} (through {where})")
                passed += 1
            assert passed, f"{where}: nobody calls {function.name}()"
        return fields


def raised_fields() -> dict[str, list[str]]:
    sites = _RaiseSites(_error_classes())
    root = Path(__file__).resolve().parent.parent
    for package in ("moderation", "server", "stream", "notify", "reports"):
        for path in sorted((root / package).rglob("*.py")):
            if path == root / "moderation" / "errors.py":
                continue  # the machinery itself, passing fields through
            sites.where = str(path.relative_to(root))
            sites.visit(ast.parse(path.read_text(encoding="utf-8")))
    return sites.resolve()


def test_every_field_an_error_names_has_a_label() -> None:
    fields = raised_fields()
    # the scan sees the sites it must: the asker's form, sessions, accounts, and helpers' parameters
    assert {"asker.phone", "title", "minutes", "password", "role", "starred", "into", "question_id"} <= set(fields)
    missing = {field: where for field, where in fields.items() if field not in FIELD_LABELS}
    assert missing == {}
    for field in fields:
        vi, en = FIELD_LABELS[field]
        assert vi and en and field not in (vi, en)
    assert message("required", "en", "title") == "Title is required."


# -- staff accounts -------------------------------------------------------------------------------


def test_user_add_reads_password_from_stdin_and_stores_argon2_hash(data_dir: Path) -> None:
    password = "mật-khẩu-đủ-dài-2030"
    added = json.loads(run_cli("user", "add", "Trần Thị Bình", "--role", "editor", data_dir=data_dir,
                               stdin=password + "\n").stdout)
    assert added["name"] == "Trần Thị Bình" and added["role"] == "editor" and isinstance(added["id"], int)
    assert password not in json.dumps(added, ensure_ascii=False)

    db = data_dir / "doithoai.sqlite3"
    [(name, role, stored)] = db_rows(db, "SELECT name, role, password_hash FROM users")
    assert (name, role) == ("Trần Thị Bình", "editor")
    assert stored.startswith("$argon2") and password not in stored
    assert argon2.PasswordHasher().verify(stored, password)  # the newline from stdin is not part of it

    bad_role = run_cli("user", "add", "Lê Văn Cường", "--role", "king", data_dir=data_dir,
                       stdin=password + "\n", check=False)
    assert bad_role.returncode != 0 and "--role" in bad_role.stderr
    short = run_cli("user", "add", "Lê Văn Cường", "--role", "chair", data_dir=data_dir, stdin="ngắn\n",
                    check=False)
    assert short.returncode != 0 and "Mật khẩu cần ít nhất 10 ký tự" in short.stderr
    taken = run_cli("user", "add", "Trần Thị Bình", "--role", "head", data_dir=data_dir, stdin=password + "\n",
                    check=False)
    assert taken.returncode != 0 and "Tên người dùng đã tồn tại" in taken.stderr
    assert db_rows(db, "SELECT name FROM users") == [("Trần Thị Bình",)]


# -- the register -----------------------------------------------------------------------------------

ASKED = [
    ({"kind": "person", "name": "Nguyễn Thị Hoa", "address": "45 Điện Biên Phủ, Hồng Bàng, Hải Phòng",
      "phone": "0912 345 678"}, "Đất đai",
     'Xin hỏi "sổ đỏ" của nhà tôi, thửa số 12, bao giờ được cấp?\nTôi đã nộp hồ sơ từ tháng 3.'),
    ({"kind": "organization", "name": "Công ty TNHH Cảng Đình Vũ", "address": "Khu kinh tế Đình Vũ, Hải An",
      "phone": "+84 225 3 123 456", "name_shown": "full"}, "Giao thông",
     "Đề nghị thành phố cho biết tiến độ mở rộng đường dẫn vào cảng; xe container ùn tắc mỗi sáng."),
    ({"kind": "person", "name": "Phạm Quốc Việt", "address": "Thủy Nguyên, Hải Phòng", "phone": "0987654321",
      "name_shown": "anonymous"}, None,
     "Trường mầm non ở xã tôi thiếu giáo viên, thành phố có kế hoạch tuyển thêm không ạ?"),
]


async def test_questions_export_csv_and_jsonl(server_process: Callable[..., ServerProcess]) -> None:
    server = server_process()
    data_dir = server.data_dir
    session_id = new_session_id(data_dir, "--field", "Đất đai", "--field", "Giao thông")
    run_cli("session", "announce", str(session_id), data_dir=data_dir)
    server.start()
    acks = []
    async with aiohttp.ClientSession() as http:
        for asker, field, text in ASKED:
            payload = valid_payload(session_id, asker=asker, field=field, text=text)
            async with http.post(f"{server.url}/api/v1/sessions/{session_id}/questions", json=payload) as resp:
                assert resp.status == 201
                acks.append(await resp.json())
    declined = acks[2]["question_id"]
    run_cli("questions", "decline", str(declined), "--reason", "outside_city_remit", data_dir=data_dir)
    run_cli("questions", "accept", str(acks[0]["question_id"]), data_dir=data_dir)
    states = ["accepted", "received", "declined"]
    phones = ["0912345678", "02253123456", "0987654321"]  # normalised
    export = ("questions", "export", str(session_id), "--reason", "đối chiếu sổ ghi chép")

    rows = [json.loads(line) for line in
            run_cli(*export, "--format", "jsonl", data_dir=data_dir).stdout.splitlines()]
    assert len(rows) == len(ASKED)
    for row, ack, (asker, field, text), state, phone in zip(rows, acks, ASKED, states, phones, strict=True):
        assert {"question_id", "receipt", "asker", "field", "text", "received_at", "state",
                "idempotency_key"} <= row.keys()
        assert row["question_id"] == ack["question_id"] and row["receipt"] == ack["receipt"]
        assert row["asker"]["name"] == asker["name"] and row["asker"]["address"] == asker["address"]
        assert row["asker"]["kind"] == asker["kind"] and row["asker"]["phone"] == phone
        assert row["field"] == field and row["text"] == text and row["state"] == state
        assert row["channel"] == "api" and datetime.fromisoformat(row["received_at"]).tzinfo is not None
    assert [r["number"] for r in rows] == [1, 2, 3]

    def check_csv(table: list[dict[str, str]]) -> None:
        assert len(table) == len(ASKED)
        for line, row in zip(table, rows, strict=True):
            assert line["question_id"] == str(row["question_id"]) and line["receipt"] == row["receipt"]
            assert line["asker_name"] == row["asker"]["name"]
            assert line["asker_address"] == row["asker"]["address"]
            assert line["asker_phone"] == row["asker"]["phone"]
            assert line["field"] == (row["field"] or "") and line["text"] == row["text"]
            assert line["received_at"] == row["received_at"] and line["state"] == row["state"]

    stdout = run_cli(*export, "--format", "csv", data_dir=data_dir).stdout
    check_csv(list(csv.DictReader(io.StringIO(stdout))))
    # To a file: UTF-8 with a BOM (Excel), quotes and newlines in the text survive.
    out = data_dir / "sổ-tiếp-nhận.csv"
    run_cli(*export, "--format", "csv", "--output", str(out), data_dir=data_dir)
    assert out.read_bytes().startswith("\ufeff".encode())
    with out.open(encoding="utf-8-sig", newline="") as fh:
        check_csv(list(csv.DictReader(fh)))

    missing = run_cli("questions", "export", "999", "--identities", "masked", data_dir=data_dir, check=False)
    assert missing.returncode != 0 and "Không tìm thấy phiên đối thoại" in missing.stderr


# -- the CLI and a running server -------------------------------------------------------------------


class Viewer:
    """A real python-socketio client that joined a session's room and collects session_state events."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.states: list[str] = []
        self.client.on("session_state", lambda data: self.states.append(data["state"]), namespace="/viewer")

    async def connect(self, url: str) -> None:
        await self.client.connect(url, namespaces=["/viewer"], transports=["websocket"], wait_timeout=5)

    async def join(self, session_id: int) -> dict[str, Any]:
        joined: dict[str, Any] = await self.client.call("join", {"session_id": session_id}, namespace="/viewer",
                                                        timeout=10)
        assert joined["ok"] is True
        return joined

    async def submit(self, payload: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = await self.client.call("submit_question", payload, namespace="/viewer", timeout=10)
        return ack

    async def close(self) -> None:
        await self.client.disconnect()


@contextlib.asynccontextmanager
async def viewer() -> Any:
    v = Viewer()
    try:
        yield v
    finally:
        await v.close()


async def test_close_from_cli_refuses_next_submission_and_tells_viewers(
    server_process: Callable[..., ServerProcess],
) -> None:
    server = server_process()
    data_dir = server.data_dir
    session_id = new_session_id(data_dir)
    run_cli("session", "announce", str(session_id), data_dir=data_dir)
    server.start()
    async with viewer() as v, aiohttp.ClientSession() as http:
        await v.connect(server.url)
        joined = await v.join(session_id)
        assert joined["session"]["state"] == "announced" and joined["session"]["intake_open"] is True
        kept = valid_payload(session_id)
        before = await v.submit(kept)
        assert before["ok"] is True
        await acli("session", "start", str(session_id), data_dir=data_dir)
        assert (await v.submit(valid_payload(session_id)))["ok"] is True

        closed = await acli("session", "close", str(session_id), data_dir=data_dir)
        assert closed["state"] == "closed"
        # The writer checks the session inside its transaction: refused at once, whatever the cache says.
        after = await v.submit(valid_payload(session_id))
        assert after["ok"] is False and after["error"]["code"] == "session_closed"
        assert "đã kết thúc" in after["error"]["message"]
        async with http.post(f"{server.url}/api/v1/sessions/{session_id}/questions",
                             json=valid_payload(session_id)) as resp:
            assert resp.status == 409
            assert (await resp.json())["error"]["code"] == "session_closed"
        # The viewer learns of the close from the server's poll of the store.
        await wait_for(lambda: "closed" in v.states, timeout=15)
        assert v.states[-1] == "closed"
        # what was acknowledged before the close is kept (and a resend still gets its receipt)
        again = await v.submit(kept)
        assert again["ok"] is True and again["receipt"] == before["receipt"]

    rows = [json.loads(line) for line in
            run_cli("questions", "export", str(session_id), "--identities", "masked", data_dir=data_dir)
            .stdout.splitlines()]
    assert len(rows) == 2


async def test_announce_from_cli_opens_intake_at_once(server_process: Callable[..., ServerProcess]) -> None:
    server = server_process()
    data_dir = server.data_dir
    server.start()
    # created while the server runs: it learns of the session from the store
    session_id = new_session_id(data_dir)
    async with viewer() as v:
        await v.connect(server.url)
        early = await v.submit(valid_payload(session_id))
        assert early["ok"] is False and early["error"]["code"] == "session_not_open"

        announced = await acli("session", "announce", str(session_id), data_dir=data_dir)
        assert announced["state"] == "announced"
        # no waiting for the server's poll: the writer reads the state in its own transaction
        first = await v.submit(valid_payload(session_id))
        assert first["ok"] is True, first
        joined = await v.join(session_id)
        assert joined["session"]["state"] == "announced" and joined["session"]["intake_open"] is True


# -- settings: TOML file and environment ------------------------------------------------------------


@contextlib.contextmanager
def serving(*args: str, env: dict[str, str], log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`doithoai serve …` with the given arguments and environment; yields once `port` accepts."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOITHOAI_")}
    with log.open("ab") as err:
        proc = subprocess.Popen([DOITHOAI, "serve", *args], stdout=subprocess.DEVNULL, stderr=err,
                                env={**environ, **env})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited: {log.read_text()[-2000:]}") from None
                if time.monotonic() > deadline:
                    raise AssertionError("serve did not listen on the configured port") from None
                time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def healthy(port: int) -> bool:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
        return resp.status == 200 and (await resp.json())["ok"] is True


async def test_serve_honours_config_file_and_environment(tmp_path: Path) -> None:
    file_port, env_port = free_port(), free_port()
    data_dir = tmp_path / "từ-tệp-cấu-hình"
    config = tmp_path / "doithoai.toml"
    config.write_text(f'host = "127.0.0.1"\nport = {file_port}\ndata_dir = "{data_dir}"\n'
                      "session_poll_seconds = 0.2\n", encoding="utf-8")
    log = tmp_path / "serve.log"

    with serving("--config", str(config), env={}, log=log, port=file_port):
        assert await healthy(file_port)
    assert (data_dir / "doithoai.sqlite3").exists()  # data_dir came from the file

    # DOITHOAI_* variables override the file; DOITHOAI_CONFIG names the file
    with serving(env={"DOITHOAI_CONFIG": str(config), "DOITHOAI_PORT": str(env_port)}, log=log, port=env_port):
        assert await healthy(env_port)


def test_unknown_setting_in_config_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('port = 8080\ncolour = "đỏ"\n', encoding="utf-8")
    result = subprocess.run([DOITHOAI, "serve", "--config", str(bad)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "unknown settings colour" in result.stderr


# -- the demo --------------------------------------------------------------------------------------


async def _banner(proc: asyncio.subprocess.Process, last: str, timeout: float = 60) -> str:  # noqa: ASYNC109
    """What the demo printed up to the line starting with `last` (its banner ends there)."""
    assert proc.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while not lines or not lines[-1].strip().startswith(last):
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise AssertionError(f"demo exited before printing its URLs: {''.join(lines)}")
            lines.append(line)
    return "".join(lines)


async def test_demo_serves_a_live_session_and_prints_its_urls(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "demo"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DOITHOAI_")}
    log = tmp_path / "demo.log"
    with log.open("ab") as err:
        # no live video in tests (the demo's test card needs the media worker)
        proc = await asyncio.create_subprocess_exec(
            DOITHOAI, "demo", "--port", str(port), "--data-dir", str(data_dir), stdout=subprocess.PIPE,
            stderr=err, env={**environ, "DOITHOAI_MEDIA": "0"})
    try:
        banner = await _banner(proc, "Data directory:")
        urls = dict(re.findall(r"^\s+([A-Z][^:]+):\s+(http://\S+)", banner, flags=re.M))
        base = f"http://127.0.0.1:{port}"
        viewer = re.fullmatch(re.escape(base) + r"/s/(\d+)", urls["Viewer page"])
        assert viewer, urls
        sid = viewer.group(1)
        assert urls == {
            "Sessions": f"{base}/", "Viewer page": f"{base}/s/{sid}", "Staff sign-in": f"{base}/login",
            "Console": f"{base}/mod/{sid}", "Chair screen": f"{base}/chair/{sid}",
            "Overlay (OBS)": f"{base}/overlay/{sid}", "Studio (WHIP)": f"{base}/studio/{sid}",
            "Live video": f"{base}/live/{sid}/index.m3u8", "Session API": f"{base}/api/v1/sessions/{sid}",
            "Health": f"{base}/healthz", "After a session": f"{base}/staff/answers", "Standing forum": f"{base}/forum",
        }
        assert f"Data directory:  {data_dir.resolve()}" in banner
        staff = re.search(r"demo users: ([^;]+); password (\S+)\)", banner)
        assert staff

        # the banner is printed as the server starts: wait until it answers
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with asyncio.timeout(30):
                while True:
                    with contextlib.suppress(aiohttp.ClientConnectionError):
                        async with http.get(urls["Health"]) as resp:
                            if resp.status == 200:
                                break
                    await asyncio.sleep(0.1)
            async with http.get(urls["Viewer page"]) as resp:
                assert resp.status == 200
                assert DEMO_TITLE in await resp.text()
            async with http.get(urls["Sessions"]) as resp:
                assert resp.status == 200 and f'/s/{sid}"' in await resp.text()
            async with http.get(urls["Session API"]) as resp:
                session = await resp.json()
            assert (session["state"], session["intake_open"]) == ("live", True)
            async with http.get(f"{urls['Session API']}/questions") as resp:
                public = (await resp.json())["questions"]
            assert len(public) == len([q for q in DEMO_QUESTIONS if q[-1]])  # the last item: made public
            assert max(q["interest_count"] for q in public) > 0

            # the staff pages answer for the printed demo account
            async with http.get(urls["Console"], allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"].startswith("/login")
            async with http.get(urls["Staff sign-in"]) as resp:
                token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
            assert token
            name = staff.group(1).split(",")[0].strip()
            async with http.post(urls["Staff sign-in"], allow_redirects=False, data={
                    "name": name, "password": staff.group(2), "csrf": token.group(1), "next": "/staff"}) as resp:
                assert resp.status == 303
            for page in ("Console", "Chair screen", "Studio (WHIP)", "Overlay (OBS)"):
                async with http.get(urls[page]) as resp:
                    assert resp.status == 200, page

        # every question the demo seeded is in the register, public or not (read while it runs)
        register = await asyncio.to_thread(run_cli, "questions", "export", sid, "--identities", "masked",
                                           data_dir=data_dir)
        assert len(register.stdout.splitlines()) == len(DEMO_QUESTIONS)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
