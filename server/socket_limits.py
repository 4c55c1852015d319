"""What one Socket.IO client can make the server hold, and what it may send.

python-socketio and python-engineio trust their clients: every connection's outbound packets wait in
an unbounded asyncio.Queue (engine.io's `Socket.queue`, drained by the websocket's writer task or by
the next long-polling GET), so a viewer that stops reading while staff keep changing questions makes
the server keep every event for it; and a packet that announces binary attachments is kept, with
every binary frame after it, until the announced count arrives. Here, for every namespace and both
transports:

- No binary. doithoai sends and reads JSON only. A binary frame, or a packet header announcing
  attachments (Socket.IO types 5 and 6), ends the connection before anything of it is kept.
- A bounded outbound queue (`OutboxLimits`: messages and bytes; Home Assistant drops a client at
  2,048 pending messages). A send that finds a connection's queue at either bound drops it: what
  waits is let go at once, the socket is closed (its namespaces' disconnect handlers run), and a
  websocket's TCP connection is aborted, since its writer may be stuck on a peer that does not read.
  The client reconnects, and `join` answers with a full snapshot.
- Malformed input (a websocket frame or polling body engine.io cannot read, a Socket.IO packet that
  does not decode, an event without a name) ends the connection too.

Each refusal or drop is one short line in the log, at most one a minute per kind (errors.FaultLog),
never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import engineio
import socketio
from aiohttp import web
from engineio import packet as engine_packet
from engineio import payload
from engineio.async_drivers import aiohttp as aiohttp_driver
from socketio import packet

from .errors import FaultLog

log = logging.getLogger(__name__)

REFUSED = "Socket.IO client refused"
MALFORMED = "malformed Socket.IO input"
DROPPED = "Socket.IO client dropped"
# engine.io packet types a client may send: CLOSE, PING (the upgrade's probe), PONG, MESSAGE,
# UPGRADE, NOOP. OPEN is the server's; anything else is not engine.io.
CLIENT_ENGINE_TYPES = frozenset("123456")
BINARY_HEADERS = (str(packet.BINARY_EVENT), str(packet.BINARY_ACK))


@dataclass(frozen=True)
class OutboxLimits:
    """How much may wait to be sent to one connection before it is dropped (Settings
    socket_outbox_messages, socket_outbox_bytes)."""

    messages: int
    bytes: int


class PacketSizes:
    """An engine.io packet's size on the wire (UTF-8). A broadcast queues the same packet object for
    each recipient in turn, so the last one's size is kept: one UTF-8 count per broadcast."""

    def __init__(self) -> None:
        self._last: Any = None
        self._size = 0

    def __call__(self, pkt: Any) -> int:
        if pkt is None:  # engine.io's "stop" sentinel
            return 0
        if pkt is not self._last:
            data = pkt.data
            if isinstance(data, str):
                size = len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))
            elif isinstance(data, bytes | bytearray):
                size = len(data)
            else:  # the small control packets: OPEN's dict, PING, CLOSE, NOOP
                size = len(str(data)) if data is not None else 0
            self._last, self._size = pkt, size + 1  # + the packet type
        return self._size


class Outbox(asyncio.Queue[Any]):
    """engine.io's outbound queue for one socket (what `create_queue` returns), knowing how many
    bytes wait in it. What the websocket writer has already taken and is sending is no longer
    here: at most one queue's worth more, plus the transport's own 64 KiB buffer."""

    def __init__(self, size_of: Callable[[Any], int]) -> None:
        super().__init__()
        self._size_of = size_of
        self._sizes: deque[int] = deque()
        self.bytes = 0

    # asyncio.Queue's storage hooks (those LifoQueue and PriorityQueue override): every put and get
    # goes through them, engine.io's own packets included.
    def _put(self, item: Any) -> None:
        size = self._size_of(item)
        super()._put(item)
        self._sizes.append(size)
        self.bytes += size

    def _get(self) -> Any:
        self.bytes -= self._sizes.popleft()
        return super()._get()

    def admits(self, limits: OutboxLimits) -> bool:
        """Whether one more packet may join what waits. The bounds are on what already waits, not
        on the newcomer: one large answer (the `join` snapshot of a big session can pass the byte
        bound by itself) is never refused, so a queue holds at most the bound plus one packet."""
        return self.qsize() < limits.messages and self.bytes <= limits.bytes

    def let_go(self) -> None:
        """Empty it; the client gets a fresh snapshot when it joins again."""
        while not self.empty():
            self.get_nowait()
            self.task_done()  # engine.io's close(wait=True) joins the queue


def _engine_frame_problem(data: Any) -> tuple[str, str] | None:
    """(kind, what) when a websocket frame is refused before engine.io decodes it."""
    if isinstance(data, bytes | bytearray):
        return REFUSED, "a binary frame (doithoai speaks JSON only)"
    if not data or data[0] not in CLIENT_ENGINE_TYPES:
        return MALFORMED, "a websocket frame that is no engine.io packet"
    return None


class _Body:
    """A polling POST's body, read once (GuardedEngine.handle_request checks it first) and handed
    to engine.io as its `wsgi.input`."""

    def __init__(self, request: web.BaseRequest) -> None:
        self.request = request

    async def read(self, length: int = -1) -> bytes:
        body = await self.request.read()  # aiohttp keeps the body after the first read
        return body if length < 0 else body[:length]


def _translate_request(request: web.BaseRequest) -> dict[str, Any]:
    environ: dict[str, Any] = aiohttp_driver.translate_request(request)
    if request.method == "POST":
        environ["wsgi.input"] = _Body(request)
    return environ


class _CheckedWebSocket(aiohttp_driver.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp websocket, known to its engine while it is open (so a dropped client's
    connection can be aborted), and checking every frame before engine.io decodes it."""

    async def __call__(self, environ: dict[str, Any]) -> web.StreamResponse:
        # engine.io hands over its socket's bound handler: the socket is that method's object
        self.sid: str = self.handler.__self__.sid
        engine: GuardedEngine = self.server
        engine.websockets[self.sid] = environ["aiohttp.request"]
        try:
            response: web.StreamResponse = await super().__call__(environ)
            return response
        finally:
            if engine.websockets.get(self.sid) is environ["aiohttp.request"]:
                del engine.websockets[self.sid]

    async def wait(self) -> Any:
        data = await super().wait()
        problem = _engine_frame_problem(data)
        if problem is not None:
            await self.server.drop(self.sid, *problem)
            raise OSError(problem[1])  # engine.io ends the connection on OSError, quietly
        return data


class GuardedEngine(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio's server with a bounded Outbox per socket and checked input."""

    _async: dict[str, Any]  # engine.io's driver for the async mode: how it reads requests, opens websockets

    def __init__(self, *args: Any, outbox: OutboxLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = outbox
        self.faults = FaultLog(log)
        self.websockets: dict[str, web.BaseRequest] = {}  # sid -> its websocket's request
        self._sizes = PacketSizes()
        self._async = {**self._async, "websocket": _CheckedWebSocket, "translate_request": _translate_request}

    def create_queue(self, *args: Any, **kwargs: Any) -> Outbox:
        return Outbox(self._sizes)

    async def send_packet(self, sid: str, pkt: Any) -> None:
        # Every Socket.IO packet, to one client or in a broadcast, comes this way; engine.io's own
        # (PING, NOOP, CLOSE) go to the queue directly and are few.
        socket = self.sockets.get(sid)
        if socket is not None:
            if socket.closing or socket.closed:
                return  # dropped or leaving: nothing more for it
            outbox: Outbox = socket.queue
            if not outbox.admits(self.limits):
                await self.drop(
                    sid,
                    DROPPED,
                    f"{outbox.qsize()} messages ({outbox.bytes} bytes) waited to be "
                    f"sent (limits {self.limits.messages} messages, {self.limits.bytes} bytes)",
                    level=logging.WARNING,
                )
                return
        await super().send_packet(sid, pkt)

    async def drop(self, sid: str, kind: str, what: str, level: int = logging.INFO) -> None:
        """End a connection now, letting go of everything queued for it."""
        socket = self.sockets.get(sid)
        if socket is None or socket.closing or socket.closed:
            return
        self.faults.note(kind, what, level)
        socket.queue.let_go()
        # Runs the namespaces' disconnect handlers; the CLOSE it queues ends a waiting poll.
        await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
        # Gone at once, as engine.io's own disconnect() does: a closed socket still listed makes
        # its next polling request fail inside engine.io (KeyError, a 500).
        self.sockets.pop(sid, None)
        request = self.websockets.pop(sid, None)
        if request is not None and request.transport is not None:
            # Its writer task may wait forever on a peer that does not read: abort, and both the
            # reader and the writer end.
            request.transport.abort()

    async def handle_request(self, request: web.BaseRequest) -> web.StreamResponse:
        sid = request.query.get("sid")
        if request.method == "POST" and sid is not None and sid in self.sockets:
            problem = await self._polling_problem(request)
            if problem is not None:
                await self.drop(sid, MALFORMED, problem)
                return web.Response(status=400, text="Bad Request")
        response: web.StreamResponse = await super().handle_request(request)
        return response

    async def _polling_problem(self, request: web.BaseRequest) -> str | None:
        """What is wrong with a long-polling POST that engine.io would meet with a traceback."""
        if request.content_length is None or request.content_length > self.max_http_buffer_size:
            return None  # engine.io reads no body, or refuses it as too long: quietly either way
        try:
            body = (await request.read()).decode("utf-8")
            packets = payload.Payload(encoded_payload=body).packets
        except (ValueError, IndexError, KeyError):
            return "a long-polling body that is no engine.io payload"
        if any(not engine_packet.CLOSE <= p.packet_type <= engine_packet.NOOP for p in packets):
            return "a long-polling body with an unknown engine.io packet type"
        return None


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on a GuardedEngine, reading only well-formed JSON packets."""

    def __init__(self, *args: Any, outbox: OutboxLimits, **kwargs: Any) -> None:
        super().__init__(*args, outbox=outbox, **kwargs)  # python-socketio passes it on to the engine

    def _engineio_server_class(self) -> type[GuardedEngine]:
        return GuardedEngine

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        """python-socketio's dispatch (5.x), without binary packets (their attachments are what it
        would buffer), and with malformed packets ending the connection instead of a traceback."""
        pkt, problem = self._read(eio_sid, data)
        if problem is not None:
            await self.eio.drop(eio_sid, *problem)
        elif pkt is None:
            return
        elif pkt.packet_type == packet.EVENT:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif pkt.packet_type == packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif pkt.packet_type == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)

    def _read(self, eio_sid: str, data: Any) -> tuple[Any, tuple[str, str] | None]:
        """The packet, or what is wrong with it; (None, None): nothing to do."""
        if isinstance(data, bytes | bytearray):
            return None, (REFUSED, "a binary attachment (doithoai speaks JSON only)")
        if not isinstance(data, str):  # engine.io read the message as JSON: no Socket.IO packet
            return None, (MALFORMED, "a message that is no Socket.IO packet")
        if data.startswith(BINARY_HEADERS):
            return None, (REFUSED, "a packet announcing binary attachments")
        try:
            pkt = self.packet_class(encoded_packet=data)
        except ValueError:  # a bad type, id or JSON (api.parse_json raises ValueError for all)
            return None, (MALFORMED, "a Socket.IO packet that does not decode")
        namespace = pkt.namespace or "/"
        if pkt.packet_type == packet.EVENT:
            if not (isinstance(pkt.data, list) and pkt.data and isinstance(pkt.data[0], str)):
                return None, (MALFORMED, "an event without a name")
            if not self.manager.is_connected(self.manager.sid_from_eio_sid(eio_sid, namespace), namespace):
                # late (its namespace was just ended) or a confused client: nothing to answer
                self.eio.faults.note(MALFORMED, "an event on a namespace it is not connected to")
                return None, None
        elif pkt.packet_type == packet.ACK:
            sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
            if pkt.id not in self.manager.callbacks.get(sid, {}):  # this server asks for no acks
                return None, (MALFORMED, "an acknowledgement nobody asked for")
        elif pkt.packet_type not in (packet.CONNECT, packet.DISCONNECT):
            # CONNECT_ERROR is the server's to send; the binary types were refused above
            return None, (MALFORMED, f"Socket.IO packet type {pkt.packet_type} from a client")
        return pkt, None
