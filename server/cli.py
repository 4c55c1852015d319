"""`doithoai`: the server and the staff's command line. Every command takes --data-dir/--database
like `serve` and works while a server runs on the same store (it sees the change within a second)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from moderation import audit
from moderation.accounts import Accounts
from moderation.blocks import DEFAULT_KINDS, DURATIONS, KINDS, Scope, SenderBlocks, SenderKey
from moderation.board import Board
from moderation.deadlines import RULE_SETS
from moderation.errors import DomainError, ValidationError
from moderation.questions import DeclineReason
from moderation.register import copy_register, write_private
from moderation.roles import CLI_ACTOR, ROLES, Actor
from moderation.sessions import DEFAULT_FIELDS, SessionDraft, SessionKind
from moderation.store import Store
from stream.feed_policy import FeedPolicy

from . import privacy_cli, recording_cli
from .config import Settings, load_settings
from .i18n import message
from .stream_api import StreamTokens

log = logging.getLogger("doithoai")


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where the SQLite store and keys live (default: ./data)")
    p.add_argument("--database", help="SQLAlchemy URL, e.g. postgresql+asyncpg://… (default: SQLite in the data dir)")
    p.add_argument("--config", type=Path, help="a TOML settings file")


def _serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-rate-limit", action="store_true", help="turn intake rate limits off (load tests)")
    p.add_argument("--no-media", action="store_true", help="run without live video (no media worker)")
    p.add_argument("--trusted-proxy", action="append", help="CIDR of a reverse proxy whose X-Forwarded-For is believed")
    p.add_argument("--allowed-origin", action="append", help="another origin allowed to open the viewer websocket")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doithoai", description="Online dialogue sessions: server and staff tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    _store_options(serve)
    _serve_options(serve)

    demo = sub.add_parser("demo", help="run the server with a ready demo session")
    _store_options(demo)
    _serve_options(demo)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add a staff account; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLES))
    add.add_argument("--department", help="responders: the sở, ngành they answer for")
    _store_options(add)
    token = user.add_parser("token", help="issue a bearer API token for scripts and the portal (printed once)")
    token.add_argument("name")
    token.add_argument("--label", default="", help="what the token is for")
    _store_options(token)
    tokens = user.add_parser("tokens", help="list API tokens (never the tokens themselves)")
    tokens.add_argument("name", nargs="?")
    _store_options(tokens)
    revoke = user.add_parser("revoke", help="revoke an API token by its id")
    revoke.add_argument("token_id", type=int)
    _store_options(revoke)
    _store_options(user.add_parser("list", help="every account: role, department, disabled, last sign-in"))
    for verb, what in (("disable", "disable an account: its sign-ins end, its API tokens stop until enabled"),
                       ("enable", "enable a disabled account")):
        switch = user.add_parser(verb, help=what)
        switch.add_argument("name")
        _store_options(switch)
    password = user.add_parser("password", help="set a user's password (read from standard input); their sign-ins "
                                                 "end and every address's lock on the name is lifted")
    password.add_argument("name")
    _store_options(password)
    signout = user.add_parser("signout", help="end every sign-in of a user (every browser, every node)")
    signout.add_argument("name")
    signout.add_argument("--tokens", action="store_true", help="revoke the user's API tokens too")
    _store_options(signout)

    session = sub.add_parser("session", help="dialogue sessions").add_subparsers(dest="session_command", required=True)
    create = session.add_parser("create", help="create a session (draft); prints it as JSON")
    create.add_argument("--title", required=True)
    create.add_argument("--chair", required=True, help="the chair's name")
    create.add_argument("--chair-position", default="")
    create.add_argument("--place", default="")
    create.add_argument("--description", default="")
    create.add_argument("--start", help="ISO 8601 with a timezone, e.g. 2026-12-15T09:00:00+07:00 "
                        "(a dialogue: required; a forum: the day it opens, default now)")
    create.add_argument("--minutes", type=int, help="planned length, 90 to 120 (a dialogue: required; a forum: none)")
    create.add_argument("--field", action="append", dest="fields", help="a field (lĩnh vực); repeat for several")
    # -- forum (issue 13): the kind and its rules; a forum is opened with `announce` and never goes live
    create.add_argument("--kind", choices=[k.value for k in SessionKind], default=SessionKind.DIALOGUE.value,
                        help="dialogue: a live session; forum: the standing 'Trao đổi và tháo gỡ' (no video, no close)")
    create.add_argument("--rule-set", choices=list(RULE_SETS),
                        help="the follow-up deadlines' rules (default: hai_phong; a forum: hue_forum)")
    # -- end forum
    _store_options(create)
    for verb in ("announce", "start", "close", "publish", "notice", "show"):
        p = session.add_parser(verb, help="Hà Nam: the conclusions notice is issued (the units' clock starts)"
                               if verb == "notice" else f"{verb} a session")
        p.add_argument("id", type=int)
        if verb != "show":
            _acting_as(p, "publish: the head of the board, whose final review it is" if verb in ("publish", "notice")
                       else "")
        _store_options(p)
    lst = session.add_parser("list", help="list sessions")
    _store_options(lst)

    questions = sub.add_parser("questions", help="the register of questions").add_subparsers(
        dest="questions_command", required=True
    )
    export = questions.add_parser("export", help="export a session's register (full identities need --reason; audited)")
    export.add_argument("session_id", type=int)
    export.add_argument("--format", choices=["csv", "jsonl", "xlsx"], default="jsonl")
    export.add_argument("--identities", choices=["full", "masked"], default="full",
                        help="full: names, addresses, phones (needs --reason, audited); masked: as the console shows")
    export.add_argument("--reason", help="why the full identities are needed (5-300 characters; in the audit log)")
    export.add_argument("--include-protected", action="store_true",
                        help="name complainants moved to the formal channel (the head's copy)")
    export.add_argument("--output", type=Path, help="a file, readable by its owner only (default: standard output)")
    _acting_as(export, "--include-protected then needs the head")
    _store_options(export)
    for verb in ("accept", "decline", "forward", "extend"):
        p = questions.add_parser(verb, help={"forward": "record that a forwarded question was sent on to --unit",
                                             "extend": "move a follow-up deadline to --due (the head; the asker is "
                                                       "told --note)"}.get(verb, f"{verb} a question"))
        p.add_argument("question_id", type=int)
        if verb == "decline":
            p.add_argument("--reason", required=True, choices=[r.value for r in DeclineReason])
            p.add_argument("--note", help="the reason in words, for the asker (required for will_not_answer)")
        elif verb == "forward":
            p.add_argument("--unit", required=True, help="the competent agency it was sent to")
        elif verb == "extend":
            p.add_argument("--due", required=True, help="the new last day, YYYY-MM-DD")
            p.add_argument("--note", required=True, help="why, in words the asker is told")
        _acting_as(p, "extend: the head of the board" if verb == "extend" else "")
        _store_options(p)

    audit_cmd = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    _store_options(audit_cmd.add_parser("verify", help="check the hash chain; exit 1 if it is broken"))
    show = audit_cmd.add_parser("show", help="the latest entries as JSON lines")
    show.add_argument("--session", type=int)
    show.add_argument("--limit", type=int, default=50)
    _store_options(show)

    block = sub.add_parser("block", help="senders the board blocked (docs/moderation.md)").add_subparsers(
        dest="block_command", required=True)
    blocks = block.add_parser("list", help="the blocks in force, as JSON lines (never a phone or an address)")
    blocks.add_argument("--session", type=int, help="those covering this session (its own and those everywhere)")
    blocks.add_argument("--ended", action="store_true", help="also the lifted and expired ones")
    _store_options(blocks)
    add_block = block.add_parser("add", help="block the sender of a question (audited)")
    add_block.add_argument("question_id", type=int)
    add_block.add_argument("--reason", required=True, help="why (5-300 characters; in the audit log)")
    add_block.add_argument("--for", dest="duration", required=True, choices=list(DURATIONS), help="how long")
    add_block.add_argument("--scope", choices=[s.value for s in Scope], default=Scope.SESSION.value,
                           help="the question's session (default) or every session (head or admin)")
    add_block.add_argument("--kind", action="append", dest="kinds", choices=list(KINDS),
                           help=f"what to recognise the sender by; repeat (default: {' and '.join(DEFAULT_KINDS)})")
    _acting_as(add_block, "")
    _store_options(add_block)
    lift = block.add_parser("lift", help="lift a block by its id (audited)")
    lift.add_argument("block_id", type=int)
    lift.add_argument("--reason", required=True, help="why (5-300 characters; in the audit log)")
    _acting_as(lift, "")
    _store_options(lift)

    privacy_cli.add_parser(sub, _store_options, _acting_as)  # privacy: `doithoai privacy …` (server/privacy_cli.py)
    recording_cli.add_parser(sub, _store_options)  # `doithoai recording …` (server/recording_cli.py)

    db = sub.add_parser("db", help="the store").add_subparsers(dest="db_command", required=True)
    _store_options(db.add_parser("upgrade", help="apply migrations (serve does this by itself)"))

    stream = sub.add_parser("stream", help="a session's live video").add_subparsers(dest="stream_command", required=True)
    token = stream.add_parser("token", help="the WHIP URL and publish token (and the WHEP watch token) as JSON")
    token.add_argument("session_id", type=int)
    token.add_argument("--base-url", default=None, help="the server's public URL (default: http://HOST:PORT)")
    _store_options(token)
    source = stream.add_parser("source", help="choose the session's feed; a running server follows at once")
    source.add_argument("session_id", type=int)
    which = source.add_mutually_exclusive_group(required=True)
    which.add_argument("--test-pattern", action="store_const", const="test", dest="feed", help="the built-in test card")
    which.add_argument("--whip", action="store_const", const="whip", dest="feed", help="the studio, published over WHIP")
    which.add_argument("--url", help="pull from rtsp://, rtmp://, srt://, https://…m3u8 (a public address, or one "
                       "listed in feed_allowed_networks)")
    which.add_argument("--none", action="store_const", const="none", dest="feed", help="no live video")
    _store_options(source)
    _calendar_parsers(sub)  # calendar, deadlines: the block below
    _notify_parsers(sub)  # notify, department: the notify block below
    _report_parsers(sub)  # report: the reports block below
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "data_dir": getattr(args, "data_dir", None),
        "database": getattr(args, "database", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "trusted_proxies": getattr(args, "trusted_proxy", None),
        "allowed_origins": getattr(args, "allowed_origin", None),
    }
    if getattr(args, "no_rate_limit", False):
        overrides["rate_limit"] = False
    if getattr(args, "no_media", False):
        overrides["media"] = False
    return load_settings(getattr(args, "config", None), overrides)


def _emit(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None))


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[None]]) -> None:
    settings.ensure_data_dir()
    store = await Store.open(settings.database_url)
    try:
        await work(store)
    finally:
        await store.close()


def _parse_start(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("bad_start", field="start") from None


async def _command(args: argparse.Namespace, settings: Settings) -> None:
    async def run(store: Store) -> None:
        if args.command == "user":
            await _user_command(args, store)
        elif args.command == "audit":
            await _audit_command(args, store)
        elif args.command == "session":
            await _session_command(args, store)
        elif args.command == "questions":
            await _questions_command(args, store)
        elif args.command == "block":
            await _block_command(args, store, settings)
        elif args.command == "privacy":  # privacy (server/privacy_cli.py)
            await privacy_cli.run(args, store, lambda: _actor(args, store), _emit)
        elif args.command == "recording":  # the recording after the close (server/recording_cli.py)
            if await recording_cli.run(args, store, settings, _emit):
                raise SystemExit(1)
        elif args.command == "db":
            _emit({"ok": True})
        elif args.command == "stream":
            await _stream_command(args, store, settings)
        elif args.command in ("calendar", "deadlines"):
            await _calendar_command(args, store)  # the block below
        elif args.command in ("notify", "department"):
            await _notify_command(args, store, settings)  # the notify block below
        elif args.command == "report":
            await _report_command(args, store)  # the reports block below

    await _with_store(settings, run)


def _read_password() -> str:
    # never echoed at a terminal; a script pipes it in
    password = getpass.getpass("Mật khẩu / password: ") if sys.stdin.isatty() else sys.stdin.readline()
    return password.rstrip("\r\n")


async def _user_command(args: argparse.Namespace, store: Store) -> None:
    accounts = Accounts(store)
    verb = args.user_command
    if verb == "add":
        user_id = await accounts.add_user(args.name, args.role, _read_password(), department=args.department)
        _emit({"id": user_id, "name": args.name, "role": args.role, "department": args.department})
    elif verb == "list":
        for account in await accounts.accounts():
            _emit({"name": account.name, "role": account.role.value, "department": account.department,
                   "disabled": account.disabled, "signed_in": account.signed_in,
                   "last_sign_in_at": account.last_sign_in_at.isoformat() if account.last_sign_in_at else None})
    elif verb in ("disable", "enable"):
        ended = await accounts.set_disabled(args.name, verb == "disable")
        _emit({"ok": True, "name": args.name, "disabled": verb == "disable", "sessions_ended": ended})
    elif verb == "password":
        ended = await accounts.reset_password(args.name, _read_password())
        _emit({"ok": True, "name": args.name, "sessions_ended": ended})
    elif verb == "signout":
        counts = await accounts.sign_out_everywhere(args.name, tokens=args.tokens)
        _emit({"ok": True, "name": args.name, "sessions_ended": counts["sessions"], "tokens_revoked": counts["tokens"]})
    elif verb == "token":
        _emit(await accounts.issue_token(args.name, args.label))
    elif verb == "tokens":
        for row in await accounts.list_tokens(args.name):
            _emit(row)
    elif verb == "revoke":
        await accounts.revoke_token(args.token_id)
        _emit({"ok": True, "revoked": args.token_id})


async def _audit_command(args: argparse.Namespace, store: Store) -> None:
    async with store.read_engine.connect() as conn:
        if args.audit_command == "verify":
            verdict = await conn.run_sync(audit.verify)
            _emit(verdict.as_dict())
            if not verdict.ok:
                raise SystemExit(1)
        else:
            for entry in reversed(await conn.run_sync(audit.entries, session_id=args.session, limit=args.limit)):
                _emit(entry)


def _acting_as(p: argparse.ArgumentParser, needed: str) -> None:
    p.add_argument("--as", dest="acting_as", metavar="USER",
                   help="act as this staff account, under its role's rules and in the audit log "
                        f"(default: the command line, as admin){'; ' + needed if needed else ''}")


async def _actor(args: argparse.Namespace, store: Store) -> Actor:
    name = getattr(args, "acting_as", None)
    return await Accounts(store).named_actor(name) if name else CLI_ACTOR


async def _session_command(args: argparse.Namespace, store: Store) -> None:
    verb = args.session_command
    if verb == "create":
        draft = SessionDraft(
            title=args.title, chair_name=args.chair, chair_position=args.chair_position, place=args.place,
            description=args.description, starts_at=_parse_start(args.start) if args.start else None,
            minutes=args.minutes, fields=args.fields or list(DEFAULT_FIELDS), kind=args.kind, rule_set=args.rule_set,
        )
        _emit((await store.create_session(draft)).staff_dict())
    elif verb == "list":
        for session in await store.list_sessions():
            _emit(session.staff_dict())
    elif verb == "show":
        _emit((await store.get_session(args.id)).staff_dict())
    else:
        # the same rules as the console's: publishing is the head's alone (`--as` a head)
        board = Board(store, settings_from(args).recordings_path)  # publish: the article's video, if made
        _emit((await board.session_action(args.id, verb, await _actor(args, store))).staff_dict())


async def _block_command(args: argparse.Namespace, store: Store, settings: Settings) -> None:
    """A running server takes a change from here into account within its session poll interval."""
    blocks = SenderBlocks(store, SenderKey(settings.secret_key))
    now = blocks.clock()
    verb = args.block_command
    if verb == "list":
        for found in await blocks.listing(CLI_ACTOR, session_id=args.session, ended=args.ended):
            _emit(found.staff_dict(now))
    elif verb == "add":
        params = {"reason": args.reason, "duration": args.duration, "scope": args.scope,
                  "kinds": args.kinds or list(DEFAULT_KINDS)}
        _emit((await blocks.block(args.question_id, params, await _actor(args, store))).staff_dict(now))
    else:
        _emit((await blocks.lift(args.block_id, args.reason, await _actor(args, store))).staff_dict(now))


async def _stream_command(args: argparse.Namespace, store: Store, settings: Settings) -> None:
    session = await store.get_session(args.session_id)  # NotFound for an unknown id
    if args.stream_command == "source":
        feed = "url" if args.url else (None if args.feed == "none" else args.feed)
        session = await Board(store).set_feed(session.id, feed, args.url, CLI_ACTOR,
                                              FeedPolicy(settings.feed_allowed_networks))
        _emit({"session_id": session.id, "feed": session.feed, "url": session.feed_url})
        return
    tokens = StreamTokens(settings.secret_key)
    base = (args.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    _emit({"session_id": session.id, "whip_url": f"{base}/whip/{session.id}", "publish_token": tokens.publish(session.id),
           "whep_url": f"{base}/whep/{session.id}", "watch_token": tokens.watch(session.id),
           "hls_url": f"{base}/live/{session.id}/index.m3u8", "feed": session.feed})


async def _questions_command(args: argparse.Namespace, store: Store) -> None:
    verb = args.questions_command
    if verb == "export":
        if args.format == "xlsx" and not args.output:
            raise SystemExit("doithoai: --format xlsx needs --output FILE")
        # UTF-8 with BOM in a CSV file, so that Excel, which the board's officers use, reads Vietnamese.
        copy = await copy_register(store, args.session_id, await _actor(args, store), fmt=args.format,
                                   identities=args.identities,
                                   reason=args.reason, include_protected=args.include_protected,
                                   bom=bool(args.output))
        if args.output:
            write_private(args.output, copy.body)
        else:
            sys.stdout.buffer.write(copy.body)
            sys.stdout.buffer.flush()
    else:
        params = ({"reason": args.reason, "note": args.note} if verb == "decline" else
                  {"unit": args.unit} if verb == "forward" else
                  {"due": args.due, "note": args.note} if verb == "extend" else {})
        question = await store.apply_action(args.question_id, verb, actor=await _actor(args, store), **params)
        _emit({"id": question.id, "state": question.state.value, "version": question.version})


# ---- calendar and deadlines (the working-day calendar's overrides, the deadline lists) ----


def _calendar_parsers(sub: Any) -> None:
    cal = sub.add_parser("calendar", help="the working-day calendar: holidays and the admins' overrides").add_subparsers(
        dest="calendar_command", required=True)
    show_year = cal.add_parser("show", help="a year's holidays, days off in lieu, swaps and overrides, as JSON")
    show_year.add_argument("year")
    show_year.add_argument("--lang", choices=["vi", "en"], default="vi", help="the holidays' names (default vi)")
    _store_options(show_year)
    add_day = cal.add_parser("add", help="add an override: a day worked or off, with why (admin; audited)")
    add_day.add_argument("day", metavar="DATE", help="YYYY-MM-DD")
    kind = add_day.add_mutually_exclusive_group(required=True)
    kind.add_argument("--working", action="store_const", const="working", dest="kind", help="worked (a swap)")
    kind.add_argument("--off", action="store_const", const="off", dest="kind", help="a day off")
    add_day.add_argument("--note", required=True, help="why: the decision's number, say (at most 200 characters)")
    _acting_as(add_day, "an admin")
    _store_options(add_day)
    remove_day = cal.add_parser("remove", help="remove a day's override (admin; audited)")
    remove_day.add_argument("day", metavar="DATE", help="YYYY-MM-DD")
    _acting_as(remove_day, "an admin")
    _store_options(remove_day)
    due = sub.add_parser("deadlines", help="the follow-up deadline lists as JSON (docs/moderation.md)")
    due.add_argument("--session", help="one session's (its id)")
    due.add_argument("--department", help="one unit's (routed or forwarded to it)")
    due.add_argument("--status", default="all",
                     help="due_soon, overdue, pending, met, missed, open, done or all (default)")
    due.add_argument("--as-of", dest="as_of", help="as of this moment (ISO 8601; no offset: Vietnam time)")
    due.add_argument("--soon", help="working days counted as due soon (default 2)")
    _acting_as(due, "a responder sees their department's only")
    _store_options(due)


async def _calendar_command(args: argparse.Namespace, store: Store) -> None:
    from moderation.calendar_store import CalendarStore, parse_year
    from moderation.due_lists import DueLists

    if args.command == "deadlines":
        report = await DueLists(store).report(await _actor(args, store), session=args.session,
                                              department=args.department, status=args.status, as_of=args.as_of,
                                              soon=args.soon)
        _emit(report.as_dict())
        return
    calendar = CalendarStore(store)
    verb = args.calendar_command
    if verb == "show":
        year = parse_year(args.year)
        _emit({"year": year, "days": [d.as_dict() for d in await calendar.year(year, args.lang)],
               "overrides": [o.as_dict() for o in await calendar.overrides(year)]})
    elif verb == "add":
        _emit((await calendar.add(args.day, args.kind, args.note, await _actor(args, store))).as_dict())
    else:
        _emit((await calendar.remove(args.day, await _actor(args, store))).as_dict())


# ---- end of calendar and deadlines ----


# ---- notify: the notification sender and the departments' e-mail addresses ----


def _notify_parsers(sub: Any) -> None:
    notify = sub.add_parser("notify", help="the notification outbox (docs/api.md)").add_subparsers(
        dest="notify_command", required=True)
    once = notify.add_parser("run-once", help="send what is due (and write the departments' reminders) once; "
                             "prints the round as JSON")
    once.add_argument("--as-of", dest="as_of", help="as of this moment (ISO 8601; no offset: Vietnam time)")
    once.add_argument("--no-reminders", action="store_true", help="send only; write no reminders")
    _store_options(once)
    _store_options(notify.add_parser("status", help="the outbox's counts by state and channel, as JSON"))
    dept = sub.add_parser("department", help="the departments and their official e-mail").add_subparsers(
        dest="department_command", required=True)
    set_dept = dept.add_parser("set", help="add a department or set its e-mail (head or admin; audited)")
    set_dept.add_argument("name", metavar="NAME")
    set_dept.add_argument("--email", required=True, help="the official address routings and reminders go to "
                          "('' clears it)")
    _acting_as(set_dept, "a head or an admin")
    _store_options(set_dept)
    _store_options(dept.add_parser("list", help="every department with its e-mail, as JSON lines"))


async def _notify_command(args: argparse.Namespace, store: Store, settings: Settings) -> None:
    from moderation.calendar import VIETNAM, parse_moment
    from notify import reminders, status
    from notify.sender import Sender

    if args.command == "department":
        if args.department_command == "list":
            async with store.read_engine.connect() as conn:
                for row in await conn.run_sync(reminders.list_departments):
                    _emit(row)
            return
        actor = await _actor(args, store)
        async with store.write_engine.begin() as conn:
            _emit(await conn.run_sync(reminders.set_department_email, args.name, args.email or None, actor,
                                      datetime.now(VIETNAM)))
        return
    if args.notify_command == "status":
        async with store.read_engine.connect() as conn:
            _emit(await conn.run_sync(status.counts))
        return
    clock: Callable[[], datetime] | None = None
    if args.as_of:
        as_of = parse_moment(args.as_of, "notify_bad_as_of")

        def clock() -> datetime:
            return as_of
    sender = Sender(store, settings, clock=clock)
    try:
        _emit((await sender.run_once(remind=not args.no_reminders)).as_dict())
    finally:
        await sender.stop()


# ---- end of notify ----


# ---- reports: a period's figures (Hải Phòng Điều 22), as JSON, CSV, XLSX or PDF ----


def _report_parsers(sub: Any) -> None:
    report = sub.add_parser("report", help="the report for a period: sessions held, questions by channel, outcome, "
                            "field and department, deadlines met (no personal data)")
    report.add_argument("--from", dest="date_from", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last day (included), YYYY-MM-DD")
    report.add_argument("--format", choices=["json", "csv", "xlsx", "pdf"], default="json")
    report.add_argument("--output", type=Path, help="a file (default: standard output; xlsx and pdf need one)")
    report.add_argument("--as-of", dest="as_of", help="overdue as of this moment (ISO 8601 with a timezone; "
                        "default: now)")
    report.add_argument("--lang", choices=["vi", "en"], default="vi", help="the labels' language (default vi)")
    _acting_as(report, "the editorial board's: editor, head or admin")
    _store_options(report)


async def _report_command(args: argparse.Namespace, store: Store) -> None:
    from reports.figures import build_report, parse_as_of

    from .report_pages import render_report

    if args.format in ("xlsx", "pdf") and not args.output:
        raise SystemExit(f"doithoai: --format {args.format} needs --output FILE")
    as_of = parse_as_of(args.as_of) if args.as_of else None
    report = await build_report(store, await _actor(args, store), args.date_from, args.date_to, as_of=as_of)
    body = await asyncio.to_thread(render_report, report, args.format, args.lang)
    if args.output:
        write_private(args.output, body)
    else:
        sys.stdout.buffer.write(body + (b"\n" if args.format == "json" else b""))
        sys.stdout.buffer.flush()


# ---- end of reports ----


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("aiohttp.access", "engineio", "socketio", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def serve(settings: Settings, banner: Callable[[Settings], None] | None = None) -> None:
    from .app import create_app

    app = create_app(settings)
    # Everything built so far lives as long as the process: keep it out of the collector's scans,
    # and collect the young generation less often. Full collections under load paused the loop
    # for ~60 ms each (bench/intake.py), which showed in the p99 of acknowledgements.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # A thread that gives up the GIL (at every SQLite call, say) waits for the switch interval to get
    # it back from a busy event loop. When the SQLite batch writer was a thread, that wait (~20 ms a
    # batch at the default 5 ms) set the acknowledgement latency; the writer is now a process of its
    # own (moderation/writer_process.py), but the threads left in this process (aiosqlite's reads,
    # argon2 hashing, file serving in the executor) still wait the same way.
    sys.setswitchinterval(0.0005)
    if banner:
        app.on_startup.append(lambda _app: asyncio.sleep(0, banner(settings)))
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, handler_cancellation=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except (ValueError, OSError) as exc:
        print(f"doithoai: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        if args.command == "serve":
            serve(settings, banner=lambda s: log.info("serving on http://%s:%s/", s.host, s.port))
        elif args.command == "demo":
            from .demo import run_demo

            run_demo(settings)
        else:
            asyncio.run(_command(args, settings))
    except DomainError as err:
        print(f"doithoai: {message(err.reason, 'vi', err.field, **err.params)}", file=sys.stderr)
        print(f"doithoai: {message(err.reason, 'en', err.field, **err.params)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
