"""Who may call what, walked over the real router: docs/moderation.md's route table (between
`routes:begin` and `routes:end`) is the source, and every route of a running server is called over
real HTTP by an anonymous caller, a viewer (the public pages' cookies), each staff role signed in
(cookie, with and without the CSRF token) and with an API token, and the session's stream tokens.

The walk fails when the router has a route the table lacks (the message gives the rows to add, with
who the server lets in today, to be checked against what it should), when the table has a row the
router lacks, and when a caller is let in or refused against its row. Which action each role may take
on a question or a session is the actions tables' business (tests/test_promises.py): here those two
routes are only checked at the door."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from moderation.accounts import Accounts
from moderation.consent import Channel
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.auth import SAFE_METHODS
from server.keys import accounts_key
from server.stream_api import stream_tokens_key
from tests.conftest import RunningServer, valid_payload

DOCS = Path(__file__).resolve().parent.parent / "docs" / "moderation.md"
BEGIN, END = "<!-- routes:begin", "<!-- routes:end -->"
ROLES = ("admin", "editor", "head", "chair", "responder")
PASSWORD = "mật khẩu đủ dài 123"
PUBLIC, PER_ACTION = "public", "staff, per action"
TOKENS = ("publish token", "watch token")
# path parameters by name: ids that exist (made in `callers`), or values the handler takes
VALUES = {
    "fmt": "csv",
    "lang": "en",
    "segment": "0.ts",
    "resource": "0" * 32,
    "action": "disable",
    "block_id": "999999",
    "filename": "css/site.css",
}
SDP = "v=0\r\n"  # not a usable offer: the handlers check who is asking before they read it


# ---- the table ----


@dataclass(frozen=True)
class Who:
    """One row's *who* column."""

    public: bool = False
    per_action: bool = False  # any staff member at the door; the actions tables say the rest
    roles: frozenset[str] = frozenset()
    tokens: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Who:
        text = text.strip()
        if text == PUBLIC:
            return cls(public=True)
        if text == PER_ACTION:
            return cls(per_action=True)
        roles, tokens = set(), set()
        for part in text.split(";"):
            part = part.strip()
            if part in TOKENS:
                tokens.add(part)
                continue
            for role in (r.strip() for r in part.split(",")):
                if role not in ROLES:
                    raise AssertionError(
                        f"docs/moderation.md's route table: {role!r} in {text!r} is not a role, "
                        f"{PUBLIC!r}, {PER_ACTION!r} or one of {TOKENS}"
                    )
                roles.add(role)
        return cls(roles=frozenset(roles), tokens=frozenset(tokens))

    def text(self) -> str:
        if self.public:
            return PUBLIC
        if self.per_action:
            return PER_ACTION
        parts = [t for t in TOKENS if t in self.tokens]
        roles = ", ".join(r for r in ROLES if r in self.roles)
        return "; ".join([*parts, roles] if roles else parts) or "nobody"


def route_key(path: str) -> str:
    """A path with its parameters unnamed: the docs write `{id}` where the router says `{session_id}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented(markdown: str) -> dict[tuple[str, str], Who]:
    """(method, route_key) → who, from the table between the markers."""
    assert BEGIN in markdown and END in markdown, f"docs/moderation.md has no {BEGIN} … {END} table"
    body = markdown[markdown.index(BEGIN) : markdown.index(END)]
    rows: dict[tuple[str, str], Who] = {}
    for line in body.splitlines()[1:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("method", "") or set(cells[0]) <= {"-"}:
            continue
        who = Who.parse(cells[2])
        for method in re.findall(r"`([A-Z]+)`", cells[0]):
            for path in re.findall(r"`([^`]+)`", cells[1]):
                assert (method, route_key(path)) not in rows, f"{method} {path} is twice in the route table"
                rows[method, route_key(path)] = who
    assert rows, "the route table is empty"
    return rows


def routed(app: web.Application) -> dict[tuple[str, str], tuple[web.AbstractResource, str]]:
    """(method, route_key) → (resource, canonical path) for every route; HEAD goes with its GET."""
    found: dict[tuple[str, str], tuple[web.AbstractResource, str]] = {}
    for route in app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        canonical = resource.canonical + ("/{filename}" if isinstance(resource, web.StaticResource) else "")
        found[route.method, route_key(canonical)] = (resource, canonical)
    return found


# ---- the callers ----


@dataclass
class Caller:
    name: str
    http: aiohttp.ClientSession
    role: str | None = None
    bearer: str | None = None
    csrf: str | None = None  # the staff CSRF token of a signed-in cookie
    cookie: bool = False

    def headers(self, *, with_csrf: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        if self.cookie and with_csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return headers


@dataclass
class Callers:
    server: RunningServer
    values: dict[str, str]
    anonymous: Caller
    viewer: Caller
    cookies: dict[str, Caller] = field(default_factory=dict)
    tokens: dict[str, Caller] = field(default_factory=dict)
    stream: dict[str, Caller] = field(default_factory=dict)  # "publish token", "watch token"


@dataclass(frozen=True)
class Answer:
    status: int
    location: str = ""
    code: str = ""  # the API's error code, when there is one

    @property
    def stranger(self) -> bool:
        """Refused for want of a sign-in: 401, or a page sending the caller to sign in."""
        return self.status == 401 or (self.status in (302, 303) and self.location.startswith("/login?next="))

    @property
    def let_in(self) -> bool:
        return not self.stranger and self.status != 403

    def __str__(self) -> str:
        return f"{self.status}{' ' + self.code if self.code else ''}{' → ' + self.location if self.location else ''}"


async def sign_in(server: RunningServer, http: aiohttp.ClientSession, name: str) -> str:
    """Signs in on /login; the staff CSRF token from the staff home."""
    async with http.get(f"{server.url}/login") as resp:
        form_token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert form_token, "the login form carries a CSRF token"
    async with http.post(
        f"{server.url}/login",
        allow_redirects=False,
        data={"name": name, "password": PASSWORD, "csrf": form_token.group(1), "next": "/staff"},
    ) as resp:
        assert resp.status == 303, f"{name} could not sign in: {resp.status}"
    async with http.get(f"{server.url}/staff") as resp:
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', await resp.text())
    assert csrf, "the staff home carries the staff CSRF token"
    return csrf.group(1)


@pytest.fixture
async def callers(start_server: Callable[..., Awaitable[RunningServer]]) -> AsyncIterator[Callers]:
    server = await start_server(rate_limit=False)
    session = await server.new_session(SessionState.LIVE)
    receipt = await server.store.submit_question(
        parse_submission(valid_payload(session.id), channel=Channel.SOCKET)
    )
    values = {
        **VALUES,
        "session_id": str(session.id),
        "question_id": str(receipt.question_id),
        "receipt": receipt.receipt,
    }
    sessions: list[aiohttp.ClientSession] = []

    def client(jar: aiohttp.abc.AbstractCookieJar | None = None) -> aiohttp.ClientSession:
        made = aiohttp.ClientSession(cookie_jar=jar or aiohttp.CookieJar(unsafe=True))
        sessions.append(made)
        return made

    try:
        found = Callers(
            server,
            values,
            Caller("anonymous", client(aiohttp.DummyCookieJar())),
            Caller("a viewer", client()),
        )
        async with found.viewer.http.get(f"{server.url}/s/{session.id}") as resp:
            assert resp.status == 200 and resp.cookies, "the session page gives the viewer its cookies"
        accounts: Accounts = server.app[accounts_key]
        for role in ROLES:
            name = f"dt-{role}"
            await accounts.add_user(
                name, role, PASSWORD, department="Sở Xây dựng" if role == "responder" else None
            )
            token = (await accounts.issue_token(name, "authorization walk"))["token"]
            found.tokens[role] = Caller(
                f"{role} (API token)", client(aiohttp.DummyCookieJar()), role, bearer=token
            )
            http = client()
            found.cookies[role] = Caller(
                f"{role} (signed in)", http, role, csrf=await sign_in(server, http, name), cookie=True
            )
        tokens = server.app[stream_tokens_key]
        for kind, secret in (
            ("publish token", tokens.publish(session.id)),
            ("watch token", tokens.watch(session.id)),
        ):
            found.stream[kind] = Caller(kind, client(aiohttp.DummyCookieJar()), bearer=secret)
        yield found
    finally:
        for made in sessions:
            await made.close()


async def call(callers: Callers, caller: Caller, method: str, path: str, *, with_csrf: bool = True) -> Answer:
    headers = caller.headers(with_csrf=with_csrf)
    data: object = None
    json_body: object = None
    if method not in SAFE_METHODS:
        if path.startswith(("/whip/", "/whep/")):
            data, headers["Content-Type"] = SDP, "application/sdp"
        elif path.startswith("/api/"):
            json_body = {}
        else:  # a page's form: its CSRF field is how a page proves it
            data = {"csrf": caller.csrf} if caller.cookie and with_csrf and caller.csrf else {}
    async with caller.http.request(
        method, callers.server.url + path, headers=headers, json=json_body, data=data, allow_redirects=False
    ) as resp:
        code = ""
        if resp.content_type == "application/json" and method != "HEAD":
            body = await resp.json()
            error = body.get("error") if isinstance(body, dict) else None
            code = str(error.get("code", "")) if isinstance(error, dict) else ""
        else:
            await resp.read()
        return Answer(resp.status, resp.headers.get("Location", ""), code)


def concrete(resource: web.AbstractResource, canonical: str, values: dict[str, str]) -> str:
    """The route's path with parameters that exist; "1" for one this walk has no value for."""
    if isinstance(resource, web.StaticResource):
        return str(resource.url_for(filename=values["filename"]))
    names = re.findall(r"\{(\w+)", canonical)
    return str(resource.url_for(**{n: values.get(n, "1") for n in names}))


# ---- the walk ----


async def observed(callers: Callers, method: str, path: str) -> Who:
    """Who the server lets in on a route today: for the rows a missing route needs."""
    if not (await call(callers, callers.anonymous, method, path)).stranger:
        return Who(public=True)
    roles = set()
    for role in ROLES:
        if (await call(callers, callers.cookies[role], method, path)).let_in:
            roles.add(role)
    tokens = {
        kind
        for kind, caller in callers.stream.items()
        if (await call(callers, caller, method, path)).let_in and not roles
    }
    return Who(roles=frozenset(roles), tokens=frozenset(tokens))


async def check_route(callers: Callers, method: str, path: str, who: Who) -> list[str]:
    """What is wrong with one route against its row (nothing: an empty list)."""
    problems: list[str] = []
    methods = [method, "HEAD"] if method == "GET" else [method]
    api = path.startswith("/api/")
    page = not api and not path.startswith(("/whip/", "/whep/"))

    def expect(caller: Caller, verb: str, answer: Answer, ok: bool, wanted: str) -> None:
        if not ok:
            problems.append(
                f"{verb} {path} by {caller.name}: {answer}; the route table says {who.text()!r}, so {wanted}"
            )

    for verb in methods:
        for stranger in (callers.anonymous, callers.viewer):
            answer = await call(callers, stranger, verb, path)
            if who.public:
                expect(stranger, verb, answer, not answer.stranger, "it should not ask to sign in")
            elif page:
                expect(
                    stranger,
                    verb,
                    answer,
                    answer.status == 303 and answer.location.startswith("/login?next="),
                    "303 to /login?next=…",
                )
            else:
                expect(stranger, verb, answer, answer.status == 401, "401")
        if who.public:
            continue
        for role in ROLES:
            # pages take the sign-in cookie; the API and WHEP the cookie or an API token
            kinds = [callers.cookies[role]] + ([] if page else [callers.tokens[role]])
            for caller in kinds:
                answer = await call(callers, caller, verb, path)
                if who.per_action:
                    expect(
                        caller,
                        verb,
                        answer,
                        not answer.stranger,
                        "it should open the door to every staff member",
                    )
                elif role in who.roles:
                    expect(caller, verb, answer, answer.let_in, f"{role} may")
                elif who.roles:
                    expect(caller, verb, answer, answer.status == 403, f"{role} may not (403)")
                else:  # only a stream token opens it: a staff sign-in is no token
                    expect(
                        caller, verb, answer, answer.status == 401, "a staff sign-in is not its token (401)"
                    )
            if verb not in SAFE_METHODS and (who.per_action or who.roles):
                caller = callers.cookies[role]
                answer = await call(callers, caller, verb, path, with_csrf=False)
                expect(
                    caller,
                    verb,
                    answer,
                    answer.status == 403,
                    "403 with the cookie and without the CSRF token",
                )
        for kind, caller in callers.stream.items():
            answer = await call(callers, caller, verb, path)
            if kind in who.tokens:
                expect(caller, verb, answer, answer.let_in, f"the {kind} opens it")
            elif not who.roles and not who.per_action:
                expect(caller, verb, answer, answer.status == 401, f"the {kind} does not open it (401)")
    return problems


async def walk(
    callers: Callers, table: dict[tuple[str, str], Who], only: Iterable[tuple[str, str]] | None = None
) -> list[str]:
    """Everything wrong between the router and the table (limited to `only`'s keys when given)."""
    routes = routed(callers.server.app)
    keys = set(only) if only is not None else set(routes) | set(table)
    problems: list[str] = []
    missing = sorted(k for k in keys if k in routes and k not in table)
    if missing:
        rows = []
        for method, key in missing:
            resource, canonical = routes[method, key]
            who = await observed(callers, method, concrete(resource, canonical, callers.values))
            rows.append(f"| `{method}` | `{canonical}` | {who.text()} | WHAT IT DOES |")
        problems.append(
            "routes missing from docs/moderation.md's route table: add these rows between "
            "`routes:begin` and `routes:end` (the who column is what the server does today: check "
            "it is what it should do)\n" + "\n".join(rows)
        )
    for method, key in sorted(k for k in keys if k in table and k not in routes):
        problems.append(
            f"the route table has {method} {key}, which the server does not route: remove or correct it"
        )
    for method, key in sorted(k for k in keys if k in table and k in routes):
        resource, canonical = routes[method, key]
        problems += await check_route(
            callers, method, concrete(resource, canonical, callers.values), table[method, key]
        )
    return problems


async def test_every_route_holds_each_caller_to_the_route_table(callers: Callers) -> None:
    problems = await walk(callers, documented(DOCS.read_text(encoding="utf-8")))
    assert not problems, "\n".join(problems)


async def test_the_walk_finds_a_route_let_in_refused_or_undocumented(callers: Callers) -> None:
    """The walk itself can fail: a table that lets the chair read the audit log, keeps responders
    from /api/v1/me, forgets the blocks list and names a route that does not exist is caught, row by
    row, and the row to add says who the server lets in."""
    table = documented(DOCS.read_text(encoding="utf-8"))
    audit, me, blocks = ("GET", "/api/v1/audit"), ("GET", "/api/v1/me"), ("GET", "/api/v1/blocks")
    table[audit] = replace(table[audit], roles=table[audit].roles | {"chair"})
    table[me] = replace(table[me], roles=table[me].roles - {"responder"})
    del table[blocks]
    ghost = ("GET", "/api/v1/ghosts")
    table[ghost] = Who(roles=frozenset({"admin"}))
    problems = "\n".join(await walk(callers, table, only=[audit, me, blocks, ghost]))
    assert "GET /api/v1/audit by chair (signed in): 403 forbidden" in problems, problems
    assert "GET /api/v1/audit by chair (API token): 403 forbidden" in problems, problems
    assert "GET /api/v1/me by responder (signed in): 200" in problems, problems
    assert "| `GET` | `/api/v1/blocks` | admin, editor, head | WHAT IT DOES |" in problems, problems
    assert "the route table has GET /api/v1/ghosts" in problems, problems
    assert "by admin" not in problems and "by editor" not in problems, problems
