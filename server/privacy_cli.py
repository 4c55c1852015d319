"""`doithoai privacy …`: the retention job and askers' data requests from the command line
(moderation/retention.py, moderation/data_requests.py). Output is JSON, never a name or a phone."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from moderation.calendar import local_date
from moderation.data_requests import DataRequests, Kind
from moderation.retention import parse_as_of, run_retention
from moderation.roles import Actor
from moderation.store import Store


def add_parser(sub: Any, store_options: Callable[[argparse.ArgumentParser], None],
               acting_as: Callable[[argparse.ArgumentParser, str], None]) -> None:
    privacy = sub.add_parser("privacy", help="personal data: the retention job, askers' requests").add_subparsers(
        dest="privacy_command", required=True)
    retention = privacy.add_parser("retention", help="erase askers' identities whose retention period has ended "
                                                     "(prints {sessions, askers} as JSON; audited)")
    retention.add_argument("--as-of", help="as of this moment (ISO 8601; no zone: Vietnam's), to check the policy "
                                           "before it bites (default: now)")
    retention.add_argument("--dry-run", action="store_true", help="count what would be erased; change nothing")
    store_options(retention)
    request = privacy.add_parser("request", help="enter an asker's request to see or erase their data (audited; "
                                                 "due in 2 working days)")
    request.add_argument("receipt", help="the question's receipt code")
    request.add_argument("--kind", required=True, choices=[k.value for k in Kind])
    acting_as(request, "a board member (admin, editor, head)")
    store_options(request)
    requests = privacy.add_parser("requests", help="the open requests, earliest due first, as JSON lines")
    requests.add_argument("--closed", action="store_true", help="the closed ones as well")
    acting_as(requests, "head or admin")
    store_options(requests)


async def run(args: argparse.Namespace, store: Store, actor: Callable[[], Awaitable[Actor]],
              emit: Callable[[Any], None]) -> None:
    verb = args.privacy_command
    if verb == "retention":
        done = await run_retention(store, parse_as_of(args.as_of), await actor(), dry_run=args.dry_run)
        emit(done.as_dict())
    elif verb == "request":
        found = await DataRequests(store).enter(args.receipt, args.kind, await actor())
        emit(found.staff_dict(local_date(datetime.now(UTC))))
    else:
        today = local_date(datetime.now(UTC))
        for found in await DataRequests(store).listing(await actor(), closed=args.closed):
            emit(found.staff_dict(today))


