"""The privacy feature inside the server: its pages (server/privacy_pages.py) and the retention job
(moderation/retention.py) run once a day, `privacy_retention_seconds` apart (server/config.py).

The first run comes one interval after the start, or after a minute when the interval is longer,
so a server restarted every day still runs it; a run that erased nothing leaves no audit entry (it
logs one line), one that erased something records each session and the run, counts only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from moderation.background import stop_task
from moderation.retention import run_retention

from . import privacy_pages
from .keys import settings_key, store_key

log = logging.getLogger(__name__)
FIRST_RUN_SECONDS = 60.0


def setup_privacy(app: web.Application) -> None:
    """Call after the store's cleanup context is appended: the job needs the store open, and stops
    before it closes."""
    app.add_routes(privacy_pages.routes)
    privacy_pages.make_limits(app)
    app.cleanup_ctx.append(_retention_ctx)


async def _retention_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_retention_loop(app, app[settings_key].privacy_retention_seconds),
                               name="privacy-retention")
    yield
    await stop_task(task)


async def _retention_loop(app: web.Application, every: float) -> None:
    await asyncio.sleep(min(every, FIRST_RUN_SECONDS))
    while True:
        try:
            run = await run_retention(app[store_key], record=False)
            log.info("retention: %d session(s), %d asker(s) erased", run.sessions, run.askers)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next day tries again; the error (no personal data in it) is logged
            log.exception("retention run failed")
        await asyncio.sleep(every)
