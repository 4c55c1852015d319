"""Files answered from disk: aiohttp's FileResponse (Range, ETag, sendfile), with the file closed
when the request is cancelled while it is being opened.

aiohttp (3.14) opens the file in a worker thread. A request cancelled meanwhile (its client gone:
an LL-HLS player that gave up a held part, a seek in the archive's video; or the server stopping)
drops what that thread then opens, still open: its descriptor lives until a garbage collection,
which warns (ResourceWarning) in whatever runs then. Every file the server answers goes through
this class instead."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.web_request import BaseRequest


class FileResponse(web.FileResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = threading.Lock()  # the opening thread and the event loop
        self._abandoned = False  # the request was cancelled: whatever the thread opens, it closes
        self._opened: io.BufferedReader | None = None  # opened, and not yet taken by aiohttp

    def _make_response(self, *args: Any) -> Any:  # in the worker thread
        result = super()._make_response(*args)
        opened = result[1]
        with self._guard:
            if self._abandoned:
                if opened is not None:
                    opened.close()
            else:
                self._opened = opened
        return result

    async def _prepare_open_file(self, request: BaseRequest, fobj: io.BufferedReader, *args: Any
                                 ) -> AbstractStreamWriter | None:
        with self._guard:
            self._opened = None  # aiohttp has it now, and closes it whatever happens
        return await super()._prepare_open_file(request, fobj, *args)

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        try:
            return await super().prepare(request)
        except asyncio.CancelledError:
            with self._guard:
                self._abandoned = True
                opened, self._opened = self._opened, None
            if opened is not None:  # the thread had finished, and its answer was dropped
                opened.close()
            raise
