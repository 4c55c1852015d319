"""server/files.py: a request cancelled while aiohttp's worker thread opens its file leaves no file
open (the thread is held open with events: no timing)."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from server.files import FileResponse


async def test_a_request_cancelled_while_its_file_opens_leaves_it_closed(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "1796411386.0.m4s"
    path.write_bytes(b"\0" * 4096)
    opened: list[io.BufferedReader] = []
    inside, release = threading.Event(), threading.Event()
    original = web.FileResponse._make_response

    def held(self: web.FileResponse, *args: Any) -> Any:  # aiohttp's own, kept waiting once it has opened
        result = original(self, *args)
        assert result[1] is not None  # a plain file, no precondition: opened
        opened.append(result[1])
        inside.set()
        release.wait(30)
        return result

    monkeypatch.setattr(web.FileResponse, "_make_response", held)
    task = asyncio.create_task(FileResponse(path).prepare(make_mocked_request("GET", "/")))
    await asyncio.to_thread(inside.wait, 30)
    task.cancel()  # the client is gone while the thread holds the open file
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await asyncio.to_thread(_until, lambda: opened[0].closed)
    assert opened[0].closed  # aiohttp's FileResponse leaves it open until a garbage collection


def _until(done: Any) -> None:
    """Wait (in a thread) until done() is true, for at most 30 s."""
    event = threading.Event()
    for _ in range(3000):
        if done():
            return
        event.wait(0.01)
