"""What one Socket.IO client can make the server hold (server/socket_limits.py), against a real
server: binary attachments are refused before anything is kept, a viewer that stops reading is
dropped at the outbound bound while the others get every event, malformed input costs one short log
line and no traceback, and a lone surrogate in an action name is a clear 400, not a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from engineio import packet as engine_packet

from moderation.sessions import SessionState
from server.keys import accounts_key, sio_key

from .conftest import RunningServer, ServerProcess, valid_payload, wait_for

PASSWORD = "mật khẩu đủ dài 123"
LONG_TEXT = "Xin hỏi về quy hoạch sử dụng đất của phường Lạch Tray, Ngô Quyền trong năm tới. " * 23


def ws_url(url: str, sid: str | None = None) -> str:
    return (
        url.replace("http://", "ws://")
        + "/socket.io/?EIO=4&transport=websocket"
        + (f"&sid={sid}" if sid else "")
    )


class RawSocketIO:
    """A Socket.IO client written out frame by frame (aiohttp's websocket), for what python-socketio
    would never send: binary headers, broken packets, lone surrogate escapes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls,
        http: aiohttp.ClientSession,
        url: str,
        namespace: str = "/viewer",
        auth: dict[str, Any] | None = None,
    ) -> RawSocketIO:
        ws = await http.ws_connect(ws_url(url))
        raw = cls(ws)
        assert (await raw.text()).startswith("0")  # engine.io OPEN
        await ws.send_str(f"40{namespace}," + (json.dumps(auth) if auth else ""))
        connected = await raw.text()
        assert connected.startswith(f"40{namespace},"), connected
        return raw

    async def text(self) -> str:
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), 10)
            assert msg.type is aiohttp.WSMsgType.TEXT, msg
            if msg.data != "2":  # a PING: not what the test waits for
                return str(msg.data)
            await self.ws.send_str("3")

    async def call(self, namespace: str, raw_event: str) -> Any:
        """`raw_event`: the JSON array as text, sent as written (escapes and all) with ack id 1."""
        await self.ws.send_str(f"42{namespace},1{raw_event}")
        while True:
            frame = await self.text()
            if frame.startswith(f"43{namespace},1"):
                return json.loads(frame[len(f"43{namespace},1") :])[0]

    async def closed_by_server(self) -> bool:
        """Read until the server ends the connection: True, or False if it is still open after 10 s."""
        try:
            while True:
                msg = await asyncio.wait_for(self.ws.receive(), 10)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return True
                if msg.data == "2":
                    await self.ws.send_str("3")
        except TimeoutError:
            return False


class StalledViewer:
    """A viewer on a raw TCP socket that connects, joins a session, then never reads again (its
    receive buffer small, so the server's writer soon waits on it), while it keeps answering pings
    blindly, as a client whose reader is stuck but whose timer still runs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.sid = ""  # its engine.io session
        self._ponger: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, url: str, session_id: int) -> StalledViewer:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: sets the window
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock)
        viewer = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
        opened = await viewer.frame()
        assert opened.startswith("0")
        viewer.sid = json.loads(opened[1:])["sid"]
        viewer.send("40/viewer,")
        assert (await viewer.frame()).startswith("40/viewer,")
        viewer.send(f'42/viewer,1["join",{{"session_id":{session_id}}}]')
        while not (await viewer.frame()).startswith("43/viewer,1"):
            pass
        transport = writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # from here on, nothing is read
        viewer._ponger = asyncio.create_task(viewer._pong())
        return viewer

    async def frame(self) -> str:
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return (await self.reader.readexactly(length)).decode()

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        assert len(data) < 126
        self.writer.write(
            bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        )

    async def _pong(self) -> None:
        while not self.writer.is_closing():
            self.send("3")
            await asyncio.sleep(1)

    async def ended_by_server(self) -> bool:
        """Read again, to the end: True once the server has closed or reset the connection, False
        if it still holds it open after 30 s of silence."""
        transport = self.writer.transport
        assert isinstance(transport, asyncio.Transport)
        transport.resume_reading()
        try:
            while await asyncio.wait_for(self.reader.read(1 << 20), 30):
                pass
        except ConnectionError:
            return True
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._ponger is not None:
            self._ponger.cancel()
        self.writer.close()


def queued_bytes(server: RunningServer) -> int:
    """What engine.io holds queued for its clients, read from its own queues (so it measures the
    code before the limits as well)."""
    sio = server.app[sio_key]
    return sum(
        len(p.encode()) for s in list(sio.eio.sockets.values()) for p in list(s.queue._queue) if p is not None
    )


def held_attachments(server: RunningServer) -> int:
    """What python-socketio holds of binary packets whose attachments have not all come."""
    return sum(len(a) for p in list(server.app[sio_key]._binary_packet.values()) for a in p.attachments)


@pytest.fixture
async def editor_token(server: RunningServer) -> str:
    accounts = server.app[accounts_key]
    await accounts.add_user("bien_tap", "editor", PASSWORD)
    token: str = (await accounts.issue_token("bien_tap"))["token"]
    return token


async def staff_token(server: RunningServer, name: str, role: str) -> str:
    accounts = server.app[accounts_key]
    await accounts.add_user(name, role, PASSWORD)
    token: str = (await accounts.issue_token(name))["token"]
    return token


# -- 6a: binary attachments -----------------------------------------------------------------------

ATTACHMENT = bytes(256 * 1024 - 64)  # as large as a frame may be (max_http_buffer_size 256 KiB)


@pytest.mark.parametrize(
    "namespace, role", [("/viewer", None), ("/moderator", "editor"), ("/chair", "chair")]
)
async def test_a_packet_announcing_attachments_ends_the_connection_before_any_is_kept(
    server: RunningServer, http: aiohttp.ClientSession, namespace: str, role: str | None
) -> None:
    auth = {"token": await staff_token(server, f"nguoi_{role}", role)} if role else None
    raw = await RawSocketIO.open(http, server.url, namespace, auth)
    await raw.ws.send_str(f'459999999-{namespace},["submit_question",{{"_placeholder":true,"num":0}}]')
    most = 0
    for _ in range(64):  # 16 MiB, unless the server ends it first
        try:
            await raw.ws.send_bytes(ATTACHMENT)
        except (ConnectionError, RuntimeError):
            break
        await asyncio.sleep(0)  # let the server read what came
        most = max(most, held_attachments(server))
    assert most == 0, f"the server kept {most} bytes of attachments"
    assert await raw.closed_by_server()


async def test_a_binary_frame_ends_the_connection(server: RunningServer, http: aiohttp.ClientSession) -> None:
    raw = await RawSocketIO.open(http, server.url)
    await raw.ws.send_bytes(b"\x04binary")
    assert await raw.closed_by_server()
    assert held_attachments(server) == 0


async def test_binary_over_long_polling_is_refused(
    server: RunningServer, http: aiohttp.ClientSession
) -> None:
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    async with http.get(polling) as resp:
        sid = json.loads((await resp.text())[1:])["sid"]
    async with http.post(f"{polling}&sid={sid}", data="40/viewer,") as resp:
        assert resp.status == 200
    async with http.get(f"{polling}&sid={sid}") as resp:
        assert "40/viewer," in await resp.text()
    # the header, then a base64 attachment ("b…"), in one body
    body = (
        '451-/viewer,["submit_question",{"_placeholder":true,"num":0}]\x1eb'
        + base64.b64encode(b"x" * 1000).decode()
    )
    async with http.post(f"{polling}&sid={sid}", data=body) as resp:
        pass
    await wait_for(lambda: sid not in server.app[sio_key].eio.sockets)
    assert held_attachments(server) == 0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_a_server_process_stays_flat_under_60_mb_of_attachments(
    server_process: Callable[..., ServerProcess], http: aiohttp.ClientSession
) -> None:
    proc = server_process()
    proc.start()
    assert proc.proc is not None
    for _ in range(3):  # warm: the first connections allocate what every later one reuses
        await (await RawSocketIO.open(http, proc.url)).ws.close()
    before = rss_bytes(proc.proc.pid)
    raw = await RawSocketIO.open(http, proc.url)
    await raw.ws.send_str('459999999-/viewer,["submit_question",{"_placeholder":true,"num":0}]')
    sent = 0
    while sent < 60 * 1024 * 1024:
        try:
            await raw.ws.send_bytes(ATTACHMENT)
        except (ConnectionError, RuntimeError):
            break
        sent += len(ATTACHMENT)
    await raw.closed_by_server()
    grown = rss_bytes(proc.proc.pid) - before
    assert grown < 16 * 1024 * 1024, (
        f"RSS grew by {grown / 2**20:.0f} MiB after {sent / 2**20:.0f} MiB of attachments"
    )


# -- 6b: a bounded outbound queue -----------------------------------------------------------------


class Board:
    """An editor's python-socketio client making changes that every viewer of the session hears of
    (`star`, on public questions), several at a time; each change is one `question` event."""

    def __init__(self, client: socketio.AsyncClient, versions: dict[int, int]) -> None:
        self.client = client
        self.versions = versions
        self.made: Counter[int] = Counter()  # changes made, by question

    @classmethod
    async def open(
        cls, server: RunningServer, viewer: socketio.AsyncClient, session_id: int, questions: int
    ) -> Board:
        token = await staff_token(server, "bien_tap", "editor")
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            server.url,
            namespaces=["/moderator"],
            transports=["websocket"],
            auth={"token": token},
            wait_timeout=5,
        )
        versions = {}
        for _ in range(questions):
            ack = await viewer.call(
                "submit_question", valid_payload(session_id, text=LONG_TEXT), namespace="/viewer"
            )
            accepted = await client.call(
                "action",
                {"question_id": ack["question_id"], "action": "accept", "version": 1},
                namespace="/moderator",
                timeout=30,
            )
            assert accepted["ok"], accepted
            versions[ack["question_id"]] = accepted["question"]["version"]
        return cls(client, versions)

    async def change(self, question_id: int, n: int) -> None:
        ack = await self.client.call(
            "action",
            {
                "question_id": question_id,
                "action": "star",
                "version": self.versions[question_id],
                "starred": n % 2 == 0,
            },
            namespace="/moderator",
            timeout=30,
        )
        assert ack["ok"], ack
        self.versions[question_id] = ack["question"]["version"]
        self.made[question_id] += 1

    async def changes_until(self, done: Callable[[int], bool], check: Callable[[], None]) -> int:
        """Change the questions, one at a time each, until `done(changes made)`; `check` after each."""
        made = 0

        async def keep_changing(question_id: int) -> None:
            nonlocal made
            while not done(made):
                await self.change(question_id, made)
                made += 1
                check()

        await asyncio.gather(*(keep_changing(q) for q in self.versions))
        return made


@pytest.fixture
async def board_clients() -> AsyncIterator[list[socketio.AsyncClient]]:
    clients: list[socketio.AsyncClient] = []
    yield clients
    for client in clients:
        if client.connected:
            await client.disconnect()


async def watching_viewer(viewer_client: Any, url: str, session_id: int) -> tuple[Any, Counter[int]]:
    """A python-socketio viewer that joins and reads everything; the `question` events it heard, by
    question (a change to a question is one event for it)."""
    viewer = await viewer_client(url)
    heard: Counter[int] = Counter()
    viewer.on("question", lambda q: heard.update([q["id"]]), namespace="/viewer")
    assert (await viewer.call("join", {"session_id": session_id}, namespace="/viewer", timeout=30))["ok"]
    return viewer, heard


def heard_all(board: Board, heard: Counter[int]) -> bool:
    return all(heard[q] > made for q, made in board.made.items())  # > : its accept was heard too


OUTBOX_BYTES = 1024 * 1024  # the test's byte bound (the default is 4 MiB); messages stay at 2,048


async def test_a_viewer_that_stops_reading_is_dropped_while_the_others_hear_every_change(
    start_server: Callable[..., Awaitable[RunningServer]],
    viewer_client: Any,
    board_clients: list[socketio.AsyncClient],
) -> None:
    server = await start_server(rate_limit=False, socket_outbox_bytes=OUTBOX_BYTES)
    session = await server.new_session(SessionState.LIVE)
    watcher, heard = await watching_viewer(viewer_client, server.url, session.id)
    board = await Board.open(server, watcher, session.id, questions=8)
    board_clients.append(board.client)
    stalled = await StalledViewer.join(server.url, session.id)
    sockets = server.app[sio_key].eio.sockets
    most = 0

    def measure() -> None:
        # What waits for every client together: the stalled one's share may never pass the bound
        # (plus one event, which the bound lets in before it counts it).
        nonlocal most
        most = max(most, queued_bytes(server))
        assert most <= OUTBOX_BYTES + 8 * 1024, f"{most} bytes queued for the clients"

    try:
        # ~1,500 changes at least; the kernel's buffers take the first few megabytes before any waits
        made = await board.changes_until(
            lambda n: (n >= 1500 and stalled.sid not in sockets) or n >= 8000, measure
        )
        assert stalled.sid not in sockets, f"still connected after {made} changes"
        assert await stalled.ended_by_server()
    finally:
        await stalled.close()
    # every change reached the viewer that reads, none lost to the stalled one's drop
    await wait_for(lambda: heard_all(board, heard), timeout=30)
    assert queued_bytes(server) < 64 * 1024  # the stalled viewer's share is gone
    # a viewer coming back joins again and has every question from the snapshot
    back = await viewer_client(server.url)
    snapshot = await back.call("join", {"session_id": session.id}, namespace="/viewer", timeout=30)
    assert {q["id"] for q in snapshot["questions"]} == set(board.versions)


def test_one_large_answer_is_sent_however_large_but_nothing_after_it() -> None:
    """The bounds are on what already waits: the snapshot of a big session, larger than the byte
    bound by itself, still goes out; a queue that has passed the bound takes nothing more."""
    # imported here, so that the rest of the file also runs against the code before the limits
    from server.socket_limits import Outbox, OutboxLimits, PacketSizes

    limits = OutboxLimits(messages=2048, bytes=64 * 1024)
    outbox = Outbox(PacketSizes())
    outbox.put_nowait(engine_packet.Packet(engine_packet.MESSAGE, '2/viewer,["stats",{}]'))
    assert outbox.admits(limits)
    outbox.put_nowait(engine_packet.Packet(engine_packet.MESSAGE, "3/viewer,1[" + "đ" * 100_000 + "]"))
    assert outbox.bytes > 200_000  # counted in UTF-8 bytes, as it goes out
    assert not outbox.admits(limits)
    outbox.get_nowait()
    outbox.get_nowait()
    assert outbox.bytes == 0 and outbox.admits(limits)


async def test_a_polling_client_that_stops_polling_is_dropped_at_the_message_bound(
    start_server: Callable[..., Awaitable[RunningServer]],
    http: aiohttp.ClientSession,
    viewer_client: Any,
    board_clients: list[socketio.AsyncClient],
) -> None:
    server = await start_server(rate_limit=False, socket_outbox_messages=100)
    session = await server.new_session(SessionState.LIVE)
    watcher, heard = await watching_viewer(viewer_client, server.url, session.id)
    board = await Board.open(server, watcher, session.id, questions=2)
    board_clients.append(board.client)
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    async with http.get(polling) as resp:
        sid = json.loads((await resp.text())[1:])["sid"]
    for body in ("40/viewer,", f'42/viewer,1["join",{{"session_id":{session.id}}}]'):
        async with http.post(f"{polling}&sid={sid}", data=body) as resp:
            assert resp.status == 200
    while True:  # the connect, then the join's answer
        async with http.get(f"{polling}&sid={sid}") as resp:
            if "43/viewer,1" in await resp.text():
                break
    sockets = server.app[sio_key].eio.sockets
    outbox = sockets[sid].queue

    def measure() -> None:
        assert outbox.qsize() <= 101, f"{outbox.qsize()} messages queued"

    async def pong() -> None:  # its timer still runs: engine.io's ping timeout never ends it
        while sid in sockets:
            async with http.post(f"{polling}&sid={sid}", data="3"):
                pass
            await asyncio.sleep(1)

    ponger = asyncio.create_task(pong())
    try:
        made = await board.changes_until(lambda n: sid not in sockets or n >= 400, measure)
    finally:
        ponger.cancel()
    assert sid not in sockets, f"still connected after {made} changes"
    assert outbox.qsize() <= 1  # let go (engine.io's CLOSE may wait there for a poll that never comes)
    await wait_for(lambda: heard_all(board, heard), timeout=30)


# -- item 11: malformed requests, lone surrogates -------------------------------------------------


class FrozenClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def freeze_fault_logs(server: RunningServer) -> FrozenClock:
    """The one-line-a-minute logs under a clock the test moves (without them, on the code before,
    nothing to freeze: its tracebacks fail the test)."""
    clock = FrozenClock()
    logs = [getattr(server.app[sio_key].eio, "faults", None)]
    logs += [getattr(f, "faults", None) for f in logging.getLogger("aiohttp.server").filters]
    for faults in logs:
        if faults is not None:
            faults.clock = clock
    return clock


async def send_malformed(server: RunningServer, http: aiohttp.ClientSession) -> int:
    """Each kind of malformed input, over websocket, long polling and plain HTTP; how many sent."""
    sent = 0
    for frame in ('42/viewer,["join",{bad', "9", "", "4[1]", '42/viewer,{"a":1}', "42/viewer,[" * 5000):
        raw = await RawSocketIO.open(http, server.url)
        await raw.ws.send_str(frame)
        assert await raw.closed_by_server(), frame[:40]
        sent += 1
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling"
    for body in (b"4\xff\xfe", b"9zzz"):
        async with http.get(polling) as resp:
            sid = json.loads((await resp.text())[1:])["sid"]
        async with http.post(f"{polling}&sid={sid}", data=body) as resp:
            assert resp.status == 400
        sent += 1
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    assert b" 400 " in await reader.readline()
    writer.close()
    async with http.post(
        f"{server.url}/api/v1/sessions/1/questions", data="{bad", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
    return sent


async def test_malformed_requests_log_one_short_line_not_a_traceback(
    server: RunningServer, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    clock = freeze_fault_logs(server)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        sent = await send_malformed(server, http)
    records = [r for r in caplog.records if r.name != "aiohttp.access"]
    for record in records:
        assert record.exc_info is None and "Traceback" not in record.getMessage(), record.getMessage()
    lines = [r.getMessage() for r in records]
    assert sum("malformed Socket.IO input" in line for line in lines) == 1, lines
    assert sum("malformed HTTP request" in line for line in lines) == 1, lines
    # a minute on, the next one is said again, with how many were held back meanwhile
    clock.now = 61.0
    caplog.clear()
    raw = await RawSocketIO.open(http, server.url)
    await raw.ws.send_str('42/viewer,["join",{bad')
    assert await raw.closed_by_server()
    lines = [r.getMessage() for r in caplog.records if r.name == "server.socket_limits"]
    assert lines == [
        f"malformed Socket.IO input: a Socket.IO packet that does not decode "
        f"(and {3 * sent - 1} more in the last 60 s)"
    ], lines


async def test_a_lone_surrogate_is_replaced_where_json_is_read(
    server: RunningServer, http: aiohttp.ClientSession, viewer_client: Any, editor_token: str
) -> None:
    """JSON may carry "\\ud800", which is no character: echoed into an error, hashed into the audit
    chain or sent on a websocket it could not be encoded (a 500, a dead socket). It is U+FFFD from
    the moment the body or packet is read."""
    session = await server.new_session(SessionState.LIVE)
    viewer = await viewer_client(server.url)
    first, second = [
        (await viewer.call("submit_question", valid_payload(session.id), namespace="/viewer"))["question_id"]
        for _ in range(2)
    ]
    headers = {"Authorization": f"Bearer {editor_token}", "Content-Type": "application/json"}

    async def act(question: int, body: str | bytes) -> tuple[int, Any]:
        async with http.post(
            f"{server.url}/api/v1/questions/{question}/actions", data=body, headers=headers
        ) as resp:
            return (
                resp.status,
                await resp.json() if resp.content_type == "application/json" else await resp.text(),
            )

    status, body = await act(first, '{"action": "\\ud800", "version": 1}')
    assert status == 400 and body["error"]["field"] == "action", body
    # a decline's note is written into the audit chain (before: UnicodeEncodeError, a 500)
    status, body = await act(
        first,
        '{"action": "decline", "version": 1, "reason": "will_not_answer", '
        '"note": "Ngo\\udc00i th\\u1ea9m quy\\u1ec1n"}',
    )
    assert status == 200, body
    assert body["question"]["decline_note"] == "Ngo\ufffdi thẩm quyền"
    # UTF-8 that encodes a surrogate is not UTF-8: bad_json
    status, body = await act(first, b'{"action": "\xed\xa0\x80", "version": 1}')
    assert status == 400 and body["error"]["field"] is None
    # over Socket.IO, the same: the answer is sent, and the socket lives on
    raw = await RawSocketIO.open(http, server.url, "/moderator", {"token": editor_token})
    ack = await raw.call(
        "/moderator",
        f'["action",{{"question_id":{second},"action":"decline","version":1,'
        '"reason":"will_not_answer","note":"\\ud83d\\ude00 ngo\\ud800i"}]',
    )
    assert ack["ok"] is True, ack
    assert ack["question"]["decline_note"] == "😀 ngo\ufffdi"  # a pair is a character and stays
    # a viewer's question whose name and text carry one is taken
    raw_viewer = await RawSocketIO.open(http, server.url)
    asker = {
        "kind": "person",
        "name": "Nguyễn \ud800 An",
        "address": "12 Lạch Tray, Ngô Quyền",
        "phone": "0912345678",
    }
    payload = json.dumps(valid_payload(session.id, asker=asker, text="Xin hỏi \udfff về đất đai?"))
    submitted = await raw_viewer.call("/viewer", f'["submit_question",{payload}]')
    assert submitted["ok"] is True, submitted
