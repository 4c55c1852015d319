"""Fixtures: a real server on an ephemeral port (in-process, or as a `doithoai serve` process), real
python-socketio clients, a real SQLite file in a temporary directory."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from moderation import schema
from moderation.sessions import Session, SessionDraft, SessionState
from moderation.store import Store, sqlite_url
from server.app import create_app
from server.config import Settings
from server.keys import store_key

ROOT = Path(__file__).resolve().parent.parent
DOITHOAI = str(Path(sys.executable).parent / "doithoai")


def valid_payload(session_id: Any, **overrides: Any) -> dict[str, Any]:  # Any: tests send bad ids too
    payload: dict[str, Any] = {
        "session_id": session_id,
        "idempotency_key": "k-" + uuid.uuid4().hex,
        "asker": {"kind": "person", "name": "Nguyễn Văn An", "address": "12 Lạch Tray, Ngô Quyền, Hải Phòng",
                  "phone": "0912 345 678"},
        "field": None,
        "text": "Xin hỏi thời hạn cấp giấy chứng nhận quyền sử dụng đất là bao lâu?",
        "consent": True,
    }
    payload.update(overrides)
    return payload


@dataclass
class RunningServer:
    url: str
    settings: Settings
    app: Any

    @property
    def store(self) -> Store:
        return self.app[store_key]

    async def new_session(self, state: SessionState = SessionState.ANNOUNCED, **draft: Any) -> Session:
        return await make_session(self.store, state, **draft)


async def make_session(store: Store, state: SessionState = SessionState.ANNOUNCED, **draft: Any) -> Session:
    fields = draft.pop("fields", ["Đất đai", "Giao thông"])
    session = await store.create_session(
        SessionDraft(title=draft.pop("title", "Phiên thử nghiệm"), chair_name="Nguyễn Văn Tùng",
                     starts_at=datetime.now(UTC) + timedelta(days=15), minutes=90, fields=fields, **draft)
    )
    path = [SessionState.ANNOUNCED, SessionState.LIVE, SessionState.CLOSED, SessionState.PUBLISHED]
    for step in path[: path.index(state) + 1] if state is not SessionState.DRAFT else []:
        session = await store.transition_session(session.id, step)
    return session


async def live_session_with_test_card(data_dir: Path) -> int:
    """A live session whose feed is the test card, in the database of a server not started yet."""
    store = await Store.open(sqlite_url(data_dir))
    try:
        session = await make_session(store, SessionState.LIVE)
        async with store.write_engine.begin() as conn:
            await conn.execute(update(schema.sessions).where(schema.sessions.c.id == session.id).values(feed="test"))
        return session.id
    finally:
        await store.close()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    # no media worker unless a test asks for it (media=True): most tests never touch video
    settings = Settings(data_dir=tmp_path / "data", session_poll_seconds=0.1, media=False)
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    servers: list[TestServer] = []

    async def start(**overrides: Any) -> RunningServer:
        settings = make_settings(tmp_path, **overrides)
        app = create_app(settings)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return RunningServer(url=str(server.make_url("")).rstrip("/"), settings=settings, app=app)

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def server(start_server: Callable[..., Awaitable[RunningServer]]) -> RunningServer:
    return await start_server()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's chromium driven by Playwright, one per test (the browser tests' pages use it)."""
    from playwright.async_api import async_playwright

    from tests.browser import CHROMIUM, launch

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-packages)")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # unsafe=True: keep cookies set by 127.0.0.1 (aiohttp drops cookies from IP hosts by default)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture
async def viewer_client() -> AsyncIterator[Callable[..., Awaitable[socketio.AsyncClient]]]:
    """Real python-socketio clients on the /viewer namespace (websocket transport, like the browser)."""
    clients: list[socketio.AsyncClient] = []

    async def connect(url: str, *, headers: dict[str, str] | None = None, auth: Any = None) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(url, namespaces=["/viewer"], transports=["websocket"], headers=headers or {},
                                 auth=auth, wait_timeout=5)
        except socketio.exceptions.ConnectionError:
            # a refused client keeps its HTTP session open; close it so the refusal leaks nothing
            if client.eio.http is not None and not client.eio.http.closed:
                await client.eio.http.close()
            raise
        clients.append(client)
        return client

    yield connect
    for client in clients:
        if client.connected:
            await client.disconnect()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(*args: str, data_dir: Path, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([DOITHOAI, *args, "--data-dir", str(data_dir)], input=stdin, capture_output=True,
                            text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"doithoai {' '.join(args)} failed: {result.stderr}")
    return result


class ServerProcess:
    """`doithoai serve` as a separate process, for what only a process shows (SIGKILL, the CLI)."""

    def __init__(self, data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.data_dir / "server.log", "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [DOITHOAI, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir), *self.extra],
                stdout=subprocess.DEVNULL, stderr=log,
                env={"DOITHOAI_MEDIA": "0", **os.environ, "DOITHOAI_SESSION_POLL_SECONDS": "0.1", **self.env},
                start_new_session=True,  # a process group of its own: kill() takes its writer with it
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL to the server and its children at once (its SQLite writer process, mid-batch), as
        an OOM killer or a container stop would: alone, the writer would finish its batch first."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    procs: list[ServerProcess] = []
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)

    def make(*extra: str, env: dict[str, str] | None = None) -> ServerProcess:
        proc = ServerProcess(data_dir, *extra, env=env)
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.stop()


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def poll_until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """wait_for for a condition that must be asked for (a query, a request)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


from tests.browser import pytest_addoption, screenshot_place  # noqa: E402, F401  (--screenshots: tests/browser.py)
from tests.staff import staff  # noqa: E402, F401  (the board's staff clients, for every test module)
