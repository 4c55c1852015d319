"""The server's side of the media worker (stream/worker.py): starts it, restarts it when it dies,
tells it which sessions have live video and from which feed, and passes WHIP/WHEP offers to it.

The worker is a separate process on purpose (docs/video.md, "Video never stalls the questions"):
this side only moves small JSON lines, so the event loop that serves intake never encodes a frame
or sends an RTP packet. A worker that crashes is started again after a pause that grows with
repeated crashes, and every session's feed is given to the new one; intake never notices."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from moderation.background import stop_task
from moderation.sessions import Session, SessionState
from stream import dtls
from stream.control import LIMIT, MediaError, encode, read

log = logging.getLogger(__name__)

# sessions whose feed runs: staff rehearse the picture after the announcement, before going live
VIDEO_STATES = (SessionState.ANNOUNCED, SessionState.LIVE)
RESTART_PAUSES = (0.5, 1, 2, 5, 10, 30)
STABLE_SECONDS = 60.0  # a worker that ran this long resets the restart pause
REQUEST_TIMEOUT = 20.0


def stream_status(session_id: int, state: str) -> dict[str, Any]:
    """A session's live video as the public sees it (the stream API and the viewer's `join`)."""
    return {"session_id": session_id, "state": state, "hls": f"/live/{session_id}/index.m3u8"}


NO_PUBLISHER: dict[str, Any] = {"state": "none", "last_error": None, "error_at": None}  # no studio yet


class Media:
    def __init__(self, data_dir: Path, worker_args: list[str],
                 on_state: Callable[[int, str], Awaitable[None]] | None = None,
                 worker_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.worker_args = worker_args
        self.worker_env = worker_env or {}
        self.on_state = on_state
        self.states: dict[int, str] = {}  # session -> live | slate | off, as the worker last said
        self.crashes = 0
        self._wanted: dict[int, tuple[str, str | None, bool]] = {}  # session -> (feed, url, record) it should run
        # session -> the recorder's last word: {"state": recording|low_disk|failed|refused|off, "message", ...}
        self.recordings: dict[int, dict[str, Any]] = {}
        # session -> the studio's WHIP publisher for the console: {"state", "last_error", "error_at"}
        self.publishers: dict[int, dict[str, Any]] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._applying: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- life of the worker ------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="media-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._writer is not None:
            self._writer.close()  # the worker closes its playlists and exits
        if self._process is not None:
            try:
                await asyncio.wait_for(self._process.wait(), 15)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        await stop_task(self._task)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.returncode is None else None

    async def _supervise(self) -> None:
        pause = 0
        while not self._stopping:
            started = asyncio.get_running_loop().time()
            try:
                await self._run_once()
            except Exception:
                log.exception("media worker could not run")
            if self._stopping:
                return
            self.crashes += 1
            if asyncio.get_running_loop().time() - started > STABLE_SECONDS:
                pause = 0
            wait = RESTART_PAUSES[min(pause, len(RESTART_PAUSES) - 1)]
            pause += 1
            log.warning("media worker stopped (exit %s); starting a new one in %s s",
                        self._process.returncode if self._process else "?", wait)
            await asyncio.sleep(wait)

    async def _run_once(self) -> None:
        parent, child = socket.socketpair()
        with child:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "stream.worker", str(self.data_dir), str(child.fileno()), *self.worker_args,
                pass_fds=[child.fileno()], stdin=asyncio.subprocess.DEVNULL,
                # OpenSSL's DTLS groups (P-224 for FFmpeg), the TURN credential
                env={**dtls.worker_environment(self.data_dir), **self.worker_env},
            )
        reader, self._writer = await asyncio.open_unix_connection(sock=parent, limit=LIMIT)
        self._ready.set()
        resync = asyncio.create_task(self._resync())
        try:
            while (message := await read(reader)) is not None:
                self._dispatch(message)
        finally:
            resync.cancel()
            self._ready.clear()
            self._writer.close()
            self._writer = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(MediaError("unavailable", "the media worker restarted; try again"))
            self._pending.clear()
            await self._process.wait()
            for session_id in [s for s, state in self.states.items() if state != "off"]:
                await self._state(session_id, "off")
            for session_id, record in list(self.publishers.items()):
                if record["state"] in ("connecting", "connected"):  # its connection went with the worker
                    self.publisher_changed(session_id, "failed", "the media worker restarted; publish again")

    async def _resync(self) -> None:
        """A new worker knows nothing: give it every session's feed again."""
        for session_id, (feed, url, record) in list(self._wanted.items()):
            await self._apply(session_id, feed, url, record)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "event" in message:
            if message["event"] == "state":
                task = asyncio.create_task(self._state(int(message["session"]), str(message["state"])))
                task.add_done_callback(lambda t: t.exception())  # logged by _state itself
            elif message["event"] == "recording":
                self._recording(int(message["session"]), message)
            elif message["event"] == "peer":
                self._peer(int(message["session"]), str(message["kind"]), str(message["state"]), message.get("error"))
            return
        future = self._pending.pop(message.get("id", -1), None)
        if future is None or future.done():
            return
        if message.get("ok"):
            future.set_result(message)
        else:
            future.set_exception(MediaError(str(message.get("error")), str(message.get("message"))))

    async def _state(self, session_id: int, state: str) -> None:
        if self.states.get(session_id) == state:
            return
        self.states[session_id] = state
        if self.on_state is not None:
            try:
                await self.on_state(session_id, state)
            except Exception:
                log.exception("stream state announcement failed")

    def _recording(self, session_id: int, message: dict[str, Any]) -> None:
        state = str(message.get("state"))
        details = {k: v for k, v in message.items() if k not in ("event", "session")}
        self.recordings[session_id] = details
        if state in ("refused", "failed"):
            log.error("session %s recording %s: %s", session_id, state, message.get("message"))
        elif state == "low_disk":
            log.warning("session %s recording: %s", session_id, message.get("message"))

    def _peer(self, session_id: int, kind: str, state: str, error: str | None) -> None:
        """From the worker: a WHIP publisher's state, or a WHEP viewer that failed. A failed peer is
        one line in the log, with the reason (ICE, a DTLS alert, a time-out), never a token or an
        address."""
        if state == "failed":
            log.warning("session %s: %s failed: %s", session_id,
                        "WHIP publisher" if kind == "whip" else "WHEP viewer", error)
        if kind == "whip":
            self.publisher_changed(session_id, state, error)

    def publisher_changed(self, session_id: int, state: str, error: str | None = None) -> None:
        """The studio's publisher: none, connecting, connected, failed (with the reason), ended, or
        refused (the offer was answered with an error). The last error stays until one connects."""
        record = self.publisher(session_id)
        if state == "connected":
            record = {**NO_PUBLISHER, "state": state}
        else:
            record = {**record, "state": state}
        if error:
            record.update(last_error=error, error_at=time.time())
        self.publishers[session_id] = record

    def publisher(self, session_id: int) -> dict[str, Any]:
        return dict(self.publishers.get(session_id, NO_PUBLISHER))

    def recording(self, session_id: int) -> dict[str, Any]:
        """The recorder's state for the console: recording, low_disk (with the space left), failed or
        refused (with the reason), off."""
        return self.recordings.get(session_id, {"state": "off", "message": ""})

    # -- requests ----------------------------------------------------------------------------

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            await asyncio.wait_for(self._ready.wait(), REQUEST_TIMEOUT)
        except TimeoutError:
            raise MediaError("unavailable", "the media worker is not running") from None
        assert self._writer is not None
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        self._writer.write(encode({"id": ident, "op": op, **fields}))
        try:
            return await asyncio.wait_for(future, REQUEST_TIMEOUT)
        except TimeoutError:
            raise MediaError("timeout", "the media worker did not answer in time") from None
        finally:
            self._pending.pop(ident, None)

    def state(self, session_id: int) -> str:
        return self.states.get(session_id, "off")

    async def session_changed(self, session: Session) -> None:
        """Run, switch or stop the session's feed to match its state and chosen feed.

        Never waits for the worker: the session watch calls this from the loop that also
        announces questions, which must not stall while a worker restarts (the new one is given
        every wanted feed by _resync)."""
        # recorded while live only: the rehearsal after the announcement is not part of the session
        wanted = (session.feed, session.feed_url, session.state is SessionState.LIVE) \
            if session.feed and session.state in VIDEO_STATES else None
        if self._wanted.get(session.id) == wanted:
            return
        if wanted is None:
            self._wanted.pop(session.id, None)
        else:
            self._wanted[session.id] = wanted
        if self._ready.is_set():
            task = asyncio.create_task(self._apply(session.id, *(wanted or (None, None, False))))
            self._applying.add(task)
            task.add_done_callback(self._applying.discard)

    async def _apply(self, session_id: int, feed: str | None, url: str | None, record: bool) -> None:
        try:
            await self.request("feed", session=session_id, feed=feed, url=url, record=record)
        except MediaError as exc:
            log.warning("session %s feed %s refused: %s", session_id, feed, exc.message)
