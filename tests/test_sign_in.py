"""Signing in, against a real server over real HTTP: the sign-in guard (failures counted atomically
per name and address, a lock that an outsider elsewhere cannot put on an officer, a slowed account,
one answer for every refusal), redirects after sign-in and language switch that stay on the site,
Secure cookies behind a trusted TLS proxy, and managing accounts from the command line and the
administrator's page (disable, enable, password, sign out everywhere: each audited, each ending
the user's open staff sockets)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any, Literal

import aiohttp
import argon2
import pytest
import socketio
from yarl import URL

import moderation.accounts
import moderation.audit
from moderation import sign_in_guard as guard
from moderation.accounts import Accounts
from server.keys import accounts_key
from tests.conftest import RunningServer, run_cli, wait_for
from tests.postgres import PostgresCluster, cluster

PASSWORD = "mật khẩu đủ dài 123"
NEW_PASSWORD = "một mật khẩu mới dài hơn 456"
WRONG = "sai mật khẩu"
# client addresses, told to the server by a trusted proxy (X-Forwarded-For)
A, B, C, D, E, F, G = (f"203.0.113.{n}" for n in range(1, 8))
GUARDED = {"trusted_proxies": ["127.0.0.1/32"], "sign_ins_per_ip_per_minute": 1000}


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    yield from cluster()


@dataclass
class Answer:
    status: int
    body: str
    location: str | None
    cookies: dict[str, Any]  # name -> Morsel, from Set-Cookie


def _set_cookies(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    for header in resp.headers.getall("Set-Cookie", []):
        jar.load(header)
    return dict(jar)


async def form_token(http: aiohttp.ClientSession, url: str) -> str:
    """Open the sign-in form (its CSRF cookie stays in the client's jar); the form's token."""
    async with http.get(f"{url}/login") as resp:
        found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


async def attempt(http: aiohttp.ClientSession, url: str, name: str, password: str, *, address: str,
                  token: str, next_path: str = "/staff") -> Answer:
    async with http.post(f"{url}/login", allow_redirects=False, headers={"X-Forwarded-For": address},
                         data={"name": name, "password": password, "csrf": token, "next": next_path}) as resp:
        return Answer(resp.status, await resp.text(), resp.headers.get("Location"), _set_cookies(resp))


async def audit(server: RunningServer) -> list[dict[str, Any]]:
    """The audit log, oldest first, and its chain intact."""
    async with server.store.read_engine.connect() as conn:
        assert (await conn.run_sync(moderation.audit.verify)).ok
        return list(reversed(await conn.run_sync(moderation.audit.entries, limit=1000)))


class Clock:
    """The accounts' clock, held still and moved by the test (lockouts and slow-downs are timed)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


# ---- the guard ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_parallel_wrong_passwords_all_count_and_lock(backend: str, request: pytest.FixtureRequest,
                                                           start_server: Any, http: aiohttp.ClientSession) -> None:
    """15 wrong passwords at once: each is counted (the count was read, then written back, so
    parallel guesses left it at 1 and never locked), and the address is locked."""
    extra = {"database": request.getfixturevalue("postgres").new_database()} if backend == "postgresql" else {}
    server: RunningServer = await start_server(**GUARDED, **extra)
    await server.app[accounts_key].add_user("lan", "editor", PASSWORD)
    token = await form_token(http, server.url)

    answers = await asyncio.gather(*(attempt(http, server.url, "lan", WRONG, address=A, token=token)
                                     for _ in range(15)))
    assert [a.status for a in answers] == [401] * 15
    async with server.store.read_engine.connect() as conn:
        counted = (await conn.exec_driver_sql("SELECT failed_logins FROM users WHERE name = 'lan'")).scalar()
    assert counted == 15  # every one of them, across the account
    locked = await attempt(http, server.url, "lan", PASSWORD, address=A, token=token)
    assert locked.status == 401 and "doithoai_staff" not in locked.cookies  # the right password: too late
    actions = [e["action"] for e in await audit(server)]
    assert actions.count("login_failed") == 16 and "lockout" in actions and "login" not in actions


async def test_unknown_and_locked_names_answer_alike(start_server: Any, http: aiohttp.ClientSession,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked account answered 429 and an unknown name 401: names could be enumerated. Now every
    refusal gets the same status and page, after the same work (one password verification)."""
    server: RunningServer = await start_server(**GUARDED)
    await server.app[accounts_key].add_user("officer_01", "editor", PASSWORD)
    token = await form_token(http, server.url)
    for _ in range(guard.MAX_FAILURES):
        await attempt(http, server.url, "officer_01", WRONG, address=A, token=token)

    verified: list[str] = []

    class CountingHasher(argon2.PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(hash)[:9])
            return super().verify(hash, password)

    monkeypatch.setattr(moderation.accounts, "_hasher", CountingHasher())
    locked = await attempt(http, server.url, "officer_01", PASSWORD, address=A, token=token)  # right, but locked
    unknown = await attempt(http, server.url, "officer_02", PASSWORD, address=A, token=token)  # no such user
    wrong = await attempt(http, server.url, "officer_01", WRONG, address=B, token=token)  # a plain wrong password
    assert locked.status == unknown.status == wrong.status == 401

    def page(answer: Answer, name: str) -> str:
        return answer.body.replace(f'value="{name}"', 'value="NAME"')

    assert page(locked, "officer_01") == page(unknown, "officer_02") == page(wrong, "officer_01")
    assert len(verified) == 3 and all(h.startswith("$argon2") for h in verified)  # one argon2 verification each


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_lock_from_one_address_leaves_the_officer_in_elsewhere(backend: str, request: pytest.FixtureRequest,
                                                                       start_server: Any,
                                                                       http: aiohttp.ClientSession) -> None:
    """Anyone could lock a named account: wrong passwords from A locked the officer out at B too."""
    extra = {"database": request.getfixturevalue("postgres").new_database()} if backend == "postgresql" else {}
    server: RunningServer = await start_server(**GUARDED, **extra)
    accounts: Accounts = server.app[accounts_key]
    clock = Clock()
    accounts.clock = clock
    await accounts.add_user("truong_ban", "head", PASSWORD)
    token = await form_token(http, server.url)
    for _ in range(guard.MAX_FAILURES):
        assert (await attempt(http, server.url, "truong_ban", WRONG, address=A, token=token)).status == 401
    assert (await attempt(http, server.url, "truong_ban", PASSWORD, address=A, token=token)).status == 401

    at_office = await attempt(http, server.url, "truong_ban", PASSWORD, address=B, token=token)
    assert at_office.status == 303 and "doithoai_staff" in at_office.cookies

    clock.advance(guard.LOCKOUT + timedelta(seconds=1))  # the lock on A ends by itself
    assert (await attempt(http, server.url, "truong_ban", PASSWORD, address=A, token=token)).status == 303
    lockouts = [e for e in await audit(server) if e["action"] == "lockout"]
    assert len(lockouts) == 1 and lockouts[0]["detail"]["client"] == A


async def test_past_the_ceiling_new_addresses_are_slowed_not_locked(start_server: Any, http: aiohttp.ClientSession,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A guesser spread over many addresses: once the account has had ACCOUNT_CEILING failures, a
    new address is heard once per SLOW_INTERVAL; the officer's own known address is not slowed."""
    monkeypatch.setattr(guard, "ACCOUNT_CEILING", 8)
    server: RunningServer = await start_server(**GUARDED)
    accounts: Accounts = server.app[accounts_key]
    clock = Clock()
    accounts.clock = clock
    await accounts.add_user("lan", "editor", PASSWORD)
    token = await form_token(http, server.url)
    assert (await attempt(http, server.url, "lan", PASSWORD, address=B, token=token)).status == 303  # B is known

    async def guess_from(*addresses: str) -> None:
        for address in addresses:
            for _ in range(guard.MAX_FAILURES - 1):  # below each address's lock
                assert (await attempt(http, server.url, "lan", WRONG, address=address, token=token)).status == 401

    await guess_from(A, C)  # 8 failures: the ceiling
    assert (await attempt(http, server.url, "lan", WRONG, address=D, token=token)).status == 401  # heard, wrong
    slowed = await attempt(http, server.url, "lan", PASSWORD, address=E, token=token)
    assert slowed.status == 401  # right, but not heard: the account's one try per interval is taken
    clock.advance(guard.SLOW_INTERVAL)
    assert (await attempt(http, server.url, "lan", PASSWORD, address=E, token=token)).status == 303  # slowed only

    await guess_from(F, G)  # past the ceiling again (a sign-in starts the count afresh)
    assert (await attempt(http, server.url, "lan", WRONG, address=D, token=token)).status == 401
    assert (await attempt(http, server.url, "lan", PASSWORD, address=B, token=token)).status == 303  # known: in
    entries = await audit(server)
    assert [e["detail"]["failures"] for e in entries if e["action"] == "sign_in_slowed"] == [8, 8]
    assert any(e["action"] == "login_failed" and e["detail"]["why"] == "slowed" for e in entries)


# ---- redirects ---------------------------------------------------------------------------------

# What an attacker puts in `next=` (as the server decodes it): each is another site to a browser,
# or a path of this one that must stay one.
OFF_SITE = ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil.example", "\\\\evil.example",
            "/\\\\evil.example", "//evil.example", "https://evil.example", "\t//evil.example", " //evil.example",
            "/\t\\evil.example", "http:evil.example", "///evil.example", "/\x00/evil.example"]
RAW_QUERIES = ["/%09/evil.example", "/%0A/evil.example", "/%0D/evil.example", "/%5Cevil.example", "/%2F%2Fevil.example",
               "%2F%09%2Fevil.example", "/%5C%5Cevil.example"]


def stays_on_site(location: str | None, url: str) -> bool:
    assert location is not None
    here = URL(url)
    target = here.join(URL(location, encoded=True))
    return (target.origin() == here.origin() and location.startswith("/") and not location.startswith("//")
            and "\\" not in location and not any(ord(c) < 0x21 for c in location))


async def test_redirects_stay_on_the_site(start_server: Any, http: aiohttp.ClientSession) -> None:
    """`/lang/en?next=/%09/evil.example` answered `Location: //evil.example`, and the same `next=`
    on /login sent the officer there after signing in."""
    server: RunningServer = await start_server(**GUARDED)
    await server.app[accounts_key].add_user("lan", "editor", PASSWORD)
    token = await form_token(http, server.url)
    switches = [URL(f"{server.url}/lang/en").with_query(next=target) for target in OFF_SITE]
    switches += [URL(f"{server.url}/lang/en?next={raw}", encoded=True) for raw in RAW_QUERIES]
    for switch in switches:
        async with http.get(switch, allow_redirects=False) as resp:
            assert resp.status == 303 and stays_on_site(resp.headers.get("Location"), server.url), (switch, resp.headers)
    for target in OFF_SITE + [URL(f"?next={raw}", encoded=True).query["next"] for raw in RAW_QUERIES]:
        signed = await attempt(http, server.url, "lan", PASSWORD, address=A, token=token, next_path=target)
        assert signed.status == 303 and stays_on_site(signed.location, server.url), (target, signed.location)
        async with http.get(URL(f"{server.url}/login").with_query(next=target)) as resp:
            carried = re.search(r'name="next" value="([^"]*)"', await resp.text())
        assert carried and stays_on_site(carried.group(1).replace("&amp;", "&"), server.url), (target, carried)

    # pages of this site still come back
    for target, expected in (("/s/1?x=1", "/s/1?x=1"), ("/mod/1", "/mod/1"), ("/%2F%2Fevil", "/%2F%2Fevil")):
        async with http.get(URL(f"{server.url}/lang/vi").with_query(next=target), allow_redirects=False) as resp:
            assert resp.headers["Location"] == expected
        signed = await attempt(http, server.url, "lan", PASSWORD, address=A, token=token, next_path=target)
        assert signed.location == expected


# ---- Secure cookies ------------------------------------------------------------------------------


async def test_cookies_are_secure_behind_a_trusted_tls_proxy(start_server: Any) -> None:
    """Behind a TLS proxy the server saw plain HTTP and set every cookie without Secure."""
    trusted: RunningServer = await start_server(**GUARDED)
    await trusted.app[accounts_key].add_user("lan", "editor", PASSWORD)

    async def cookies(server: RunningServer, headers: dict[str, str]) -> dict[str, bool]:
        """Every cookie a first visit, a language switch and a sign-in set: name -> Secure."""
        found: dict[str, bool] = {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as fresh:
            async with fresh.get(f"{server.url}/login", headers=headers) as resp:
                set_here = _set_cookies(resp)
                token = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
            async with fresh.get(f"{server.url}/lang/en?next=/", headers=headers, allow_redirects=False) as resp:
                set_here.update(_set_cookies(resp))
            assert token
            async with fresh.post(f"{server.url}/login", allow_redirects=False,
                                  headers={**headers, "Cookie": f"doithoai_csrf={set_here['doithoai_csrf'].value}"},
                                  data={"name": "lan", "password": PASSWORD, "csrf": token.group(1)}) as resp:
                assert resp.status == 303
                set_here.update(_set_cookies(resp))
        for name, morsel in set_here.items():
            found[name] = bool(morsel["secure"])
        return found

    names = {"doithoai_csrf", "doithoai_viewer", "lang", "doithoai_staff"}
    over_tls = await cookies(trusted, {"X-Forwarded-Proto": "https", "X-Forwarded-For": A})
    assert set(over_tls) == names and all(over_tls.values()), over_tls
    plain = await cookies(trusted, {"X-Forwarded-For": A})
    assert set(plain) == names and not any(plain.values()), plain

    untrusted: RunningServer = await start_server(sign_ins_per_ip_per_minute=1000)  # no proxy; the same store
    claimed = await cookies(untrusted, {"X-Forwarded-Proto": "https"})  # anyone can send the header
    assert set(claimed) == names and not any(claimed.values()), claimed


# ---- managing accounts -------------------------------------------------------------------------


async def cookie_sign_in(server: RunningServer, name: str, password: str) -> str | None:
    """A browser's sign-in (its own cookie jar); the staff cookie, or None when refused."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        token = await form_token(browser, server.url)
        answer = await attempt(browser, server.url, name, password, address="127.0.0.1", token=token)
    morsel = answer.cookies.get("doithoai_staff")
    return morsel.value if answer.status == 303 and morsel else None


class Consoles:
    """Open /moderator sockets, joined to a session, disconnected at the end."""

    def __init__(self, server: RunningServer, session_id: int) -> None:
        self.server, self.session_id = server, session_id
        self.clients: list[socketio.AsyncClient] = []

    async def open(self, *, cookie: str | None = None, token: str | None = None) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        self.clients.append(client)
        await client.connect(self.server.url, namespaces=["/moderator"], transports=["websocket"], wait_timeout=5,
                             headers={"Cookie": f"doithoai_staff={cookie}"} if cookie else {},
                             auth={"token": token} if token else None)
        ack = await client.call("join", {"session_id": self.session_id}, namespace="/moderator", timeout=5)
        assert ack["ok"], ack
        return client

    async def close(self) -> None:
        for client in self.clients:
            if client.connected:
                await client.disconnect()


async def staff_page_status(server: RunningServer, cookie: str) -> int:
    async with aiohttp.ClientSession() as browser, browser.get(
            f"{server.url}/staff", headers={"Cookie": f"doithoai_staff={cookie}"}, allow_redirects=False) as resp:
        return resp.status


async def test_cli_disables_enables_resets_and_signs_out(start_server: Any) -> None:
    """`doithoai user disable | enable | password | signout`: each takes effect at once in the store,
    is audited, and a running server closes the user's open staff sockets (at its next sweep: the
    command line is another process)."""
    server: RunningServer = await start_server(**GUARDED, staff_recheck_seconds=0.2)
    session = await server.new_session()
    await server.app[accounts_key].add_user("bien_tap", "editor", PASSWORD)
    data_dir = server.settings.data_dir
    consoles = Consoles(server, session.id)
    try:
        cookie = await cookie_sign_in(server, "bien_tap", PASSWORD)
        assert cookie
        socket = await consoles.open(cookie=cookie)

        disabled = json.loads(run_cli("user", "disable", "bien_tap", data_dir=data_dir).stdout)
        assert disabled == {"ok": True, "name": "bien_tap", "disabled": True, "sessions_ended": 1}
        await wait_for(lambda: not socket.connected, timeout=10)
        assert await staff_page_status(server, cookie) == 303  # back to the sign-in page
        assert await cookie_sign_in(server, "bien_tap", PASSWORD) is None
        listed = [json.loads(line) for line in run_cli("user", "list", data_dir=data_dir).stdout.splitlines()]
        assert [(u["name"], u["disabled"]) for u in listed] == [("bien_tap", True)]

        run_cli("user", "enable", "bien_tap", data_dir=data_dir)
        assert await staff_page_status(server, cookie) == 303  # an ended sign-in does not come back with it
        cookie = await cookie_sign_in(server, "bien_tap", PASSWORD)
        assert cookie
        socket = await consoles.open(cookie=cookie)

        weak = run_cli("user", "password", "bien_tap", data_dir=data_dir, stdin="ngắn\n", check=False)
        assert weak.returncode == 1 and "ít nhất 10 ký tự" in weak.stderr and "at least 10 characters" in weak.stderr
        reset = json.loads(run_cli("user", "password", "bien_tap", data_dir=data_dir, stdin=NEW_PASSWORD + "\n").stdout)
        assert reset == {"ok": True, "name": "bien_tap", "sessions_ended": 1}
        await wait_for(lambda: not socket.connected, timeout=10)
        assert await cookie_sign_in(server, "bien_tap", PASSWORD) is None
        cookie = await cookie_sign_in(server, "bien_tap", NEW_PASSWORD)
        assert cookie

        issued = await server.app[accounts_key].issue_token("bien_tap", "script")
        by_cookie, by_token = await consoles.open(cookie=cookie), await consoles.open(token=issued["token"])
        signed_out = json.loads(run_cli("user", "signout", "bien_tap", "--tokens", data_dir=data_dir).stdout)
        assert signed_out == {"ok": True, "name": "bien_tap", "sessions_ended": 1, "tokens_revoked": 1}
        await wait_for(lambda: not by_cookie.connected and not by_token.connected, timeout=10)
        assert await server.app[accounts_key].token_actor(issued["token"]) is None

        unknown = run_cli("user", "disable", "nobody", data_dir=data_dir, check=False)
        assert unknown.returncode == 1 and "Không tìm thấy người dùng" in unknown.stderr
    finally:
        await consoles.close()
    entries = {e["action"]: e for e in await audit(server)}
    for action in ("user_disable", "user_enable", "password_reset", "user_signout"):
        assert entries[action]["actor"] == "cli" and entries[action]["detail"]["user"] == "bien_tap", action
    assert entries["user_signout"]["detail"] == {"user": "bien_tap", "sessions_ended": 1, "tokens_revoked": 1}


class StaffBrowser:
    """A signed-in staff member over plain HTTP: its cookie, and the staff CSRF token of its pages."""

    def __init__(self, server: RunningServer, cookie: str) -> None:
        self.server, self.cookie = server, cookie

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(
                f"{self.server.url}{path}", headers={"Cookie": f"doithoai_staff={self.cookie}"},
                allow_redirects=False) as resp:
            return resp.status, await resp.text()

    async def post(self, path: str, csrf: str | None = None, **form: str) -> tuple[int, str, str | None]:
        if csrf is None:
            _, page = await self.get("/staff")
            found = re.search(r'name="csrf-token" content="([^"]+)"', page)
            assert found
            csrf = found.group(1)
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.server.url}{path}", data={"csrf": csrf, **form}, allow_redirects=False,
                headers={"Cookie": f"doithoai_staff={self.cookie}", "X-Forwarded-For": A}) as resp:
            return resp.status, await resp.text(), resp.headers.get("Location")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_admin_page_is_admins_only_asks_first_and_keeps_the_admin_in(backend: str,
                                                                           request: pytest.FixtureRequest,
                                                                           start_server: Any) -> None:
    extra = {"database": request.getfixturevalue("postgres").new_database()} if backend == "postgresql" else {}
    server: RunningServer = await start_server(**GUARDED, **extra)
    accounts: Accounts = server.app[accounts_key]
    await accounts.add_user("quan_tri", "admin", PASSWORD)
    await accounts.add_user("bien_tap", "editor", PASSWORD)
    admin_cookie = await cookie_sign_in(server, "quan_tri", PASSWORD)
    editor_cookie = await cookie_sign_in(server, "bien_tap", PASSWORD)
    assert admin_cookie and editor_cookie
    admin, editor = StaffBrowser(server, admin_cookie), StaffBrowser(server, editor_cookie)

    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{server.url}/staff/users",
                                                                   allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=")
    assert (await editor.get("/staff/users"))[0] == 403
    assert (await editor.post("/staff/users/disable", name="quan_tri", confirmed="yes"))[0] == 403
    status, page = await admin.get("/staff/users")
    assert status == 200 and "bien_tap" in page and "Thành viên Ban Biên tập" in page

    # no CSRF token: refused; no confirmation (no script ran): asked on a page, nothing done yet
    assert (await admin.post("/staff/users/disable", csrf="forged", name="bien_tap", confirmed="yes"))[0] == 403
    status, page, _ = await admin.post("/staff/users/disable", name="bien_tap")
    assert status == 200 and 'name="confirmed" value="yes"' in page and "Khóa tài khoản bien_tap?" in page
    assert [a.disabled for a in await accounts.accounts()] == [False, False]
    status, page, _ = await admin.post("/staff/users/disable", name="quan_tri", confirmed="yes")  # not oneself
    assert status == 400 and "Không thể tự khóa tài khoản của chính mình." in page

    status, _, location = await admin.post("/staff/users/disable", name="bien_tap", confirmed="yes")
    assert status == 303 and location and location.startswith("/staff/users?done=disable")
    assert await staff_page_status(server, editor_cookie) == 303
    status, page = await admin.get(location)
    assert "Đã khóa tài khoản bien_tap; 1 phiên đăng nhập đã kết thúc." in page
    status, page, _ = await admin.post("/staff/users/password", name="bien_tap", confirmed="yes",
                                       new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD + "x")
    assert status == 400 and "Hai lần nhập mật khẩu mới không khớp." in page
    entry = next(e for e in reversed(await audit(server)) if e["action"] == "user_disable")
    assert entry["actor"] == "quan_tri" and entry["role"] == "admin" and entry["detail"]["user"] == "bien_tap"

    assert (await admin.post("/staff/users/enable", name="bien_tap", confirmed="yes"))[0] == 303
    status, _, location = await admin.post("/staff/users/password", name="bien_tap", confirmed="yes",
                                           new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    assert status == 303 and location and "ended=0" in location  # the disable had ended them already
    assert await cookie_sign_in(server, "bien_tap", NEW_PASSWORD)
    issued = await accounts.issue_token("bien_tap")
    status, _, location = await admin.post("/staff/users/signout", name="bien_tap", confirmed="yes", tokens="on")
    assert status == 303 and location and "ended=1" in location
    assert await accounts.token_actor(issued["token"]) is None
    assert {a.name: a.signed_in for a in await accounts.accounts()} == {"bien_tap": 0, "quan_tri": 1}


async def test_own_password_change_checks_the_old_one_and_ends_other_sign_ins(start_server: Any) -> None:
    server: RunningServer = await start_server(**GUARDED)
    await server.app[accounts_key].add_user("bien_tap", "editor", PASSWORD)
    here, elsewhere = await cookie_sign_in(server, "bien_tap", PASSWORD), await cookie_sign_in(server, "bien_tap",
                                                                                                  PASSWORD)
    assert here and elsewhere
    me = StaffBrowser(server, here)
    status, page, _ = await me.post("/staff/password", old_password=PASSWORD, new_password="ngắn",
                                    new_password_again="ngắn")
    assert status == 400 and "Mật khẩu cần ít nhất 10 ký tự." in page
    status, page, _ = await me.post("/staff/password", old_password=WRONG, new_password=NEW_PASSWORD,
                                    new_password_again=NEW_PASSWORD)
    assert status == 401 and "Mật khẩu hiện tại không đúng" in page
    status, page, _ = await me.post("/staff/password", old_password=PASSWORD, new_password=NEW_PASSWORD,
                                    new_password_again=NEW_PASSWORD)
    assert status == 200 and "Đã đổi mật khẩu. 1 phiên đăng nhập khác đã kết thúc." in page
    assert await staff_page_status(server, here) == 200 and await staff_page_status(server, elsewhere) == 303
    assert await cookie_sign_in(server, "bien_tap", NEW_PASSWORD)

    # a session left open cannot be used to guess the password: wrong old ones lock this address
    for _ in range(guard.MAX_FAILURES):
        await me.post("/staff/password", old_password=WRONG, new_password=PASSWORD, new_password_again=PASSWORD)
    status, _, _ = await me.post("/staff/password", old_password=NEW_PASSWORD, new_password=PASSWORD,
                                 new_password_again=PASSWORD)
    assert status == 401
    actions = [e["action"] for e in await audit(server)]
    assert actions.count("password_change") == 1 and actions.count("password_change_failed") == 7
    assert "lockout" in actions


# ---- in Chromium -------------------------------------------------------------------------------


@pytest.mark.browser
async def test_admin_page_and_own_password_in_chromium(start_server: Any, browser: Any) -> None:
    """The administrator works the accounts page in a real browser: each action asks in a dialog
    (cancel does nothing), is audited, and closes the user's open console at once (no sweep is due
    for an hour: the page's own check does it). An officer changes their own password."""
    from tests.browser import DESKTOP, log_in, open_viewer

    server: RunningServer = await start_server(**GUARDED, staff_recheck_seconds=3600)
    session = await server.new_session()
    accounts: Accounts = server.app[accounts_key]
    await accounts.add_user("quan_tri", "admin", PASSWORD)
    await accounts.add_user("bien_tap", "editor", PASSWORD)
    consoles = Consoles(server, session.id)
    admin = await open_viewer(browser, f"{server.url}/login?next=/staff/users", viewport=DESKTOP, wait_joined=False)
    page = admin.page
    try:
        await log_in(page, "quan_tri", PASSWORD, "/staff/users", ready="li.account[data-user=bien_tap]")
        assert await page.locator(".staff-account-nav a[href='/staff/users']").count() == 1
        card = page.locator("li.account[data-user=bien_tap]")
        dialog, question = page.locator("#confirm-dialog"), page.locator("#confirm-text")

        async def confirm(button: str, *, expect: str) -> None:
            await card.locator(f"button[data-action={button}]").click()
            await dialog.wait_for(state="visible")
            assert expect in (await question.text_content() or "")
            async with page.expect_navigation():
                await page.click("#confirm-ok")
            await page.wait_for_selector("#accounts-status .success")

        cookie = await cookie_sign_in(server, "bien_tap", PASSWORD)
        socket = await consoles.open(cookie=cookie)
        await card.locator("button[data-action=disable]").click()  # asked, and cancelled
        await dialog.wait_for(state="visible")
        await page.click("#confirm-cancel")
        await dialog.wait_for(state="hidden")
        assert socket.connected and not any(a.disabled for a in await accounts.accounts())

        await confirm("disable", expect="Khóa tài khoản bien_tap?")
        await wait_for(lambda: not socket.connected, timeout=10)
        assert await card.get_attribute("data-disabled") == "yes"
        await confirm("enable", expect="Mở khóa tài khoản bien_tap?")
        assert await card.get_attribute("data-disabled") == "no"

        socket = await consoles.open(cookie=await cookie_sign_in(server, "bien_tap", PASSWORD))
        await card.locator("summary").click()
        await card.locator("input[name=new_password]").fill(NEW_PASSWORD)
        await card.locator("input[name=new_password_again]").fill(NEW_PASSWORD)
        await confirm("password", expect="Đặt mật khẩu mới cho bien_tap?")
        await wait_for(lambda: not socket.connected, timeout=10)
        assert await cookie_sign_in(server, "bien_tap", PASSWORD) is None

        socket = await consoles.open(cookie=await cookie_sign_in(server, "bien_tap", NEW_PASSWORD))
        issued = await accounts.issue_token("bien_tap")
        scripted = await consoles.open(token=issued["token"])
        await card.locator("input[name=tokens]").check()
        await confirm("signout", expect="Mã truy cập API của người này cũng bị thu hồi.")
        await wait_for(lambda: not socket.connected and not scripted.connected, timeout=10)
        assert admin.unexpected_errors() == []
    finally:
        await admin.close()
        await consoles.close()
    done = [e for e in await audit(server) if e["actor"] == "quan_tri" and e["action"] != "login"]
    assert [e["action"] for e in done] == ["user_disable", "user_enable", "password_reset", "user_signout"]
    assert all(e["detail"]["user"] == "bien_tap" for e in done)

    # the officer's own page, reached from the header; a redirect to another site stays here
    officer = await open_viewer(browser, f"{server.url}/login?next=/staff", viewport=DESKTOP, wait_joined=False)
    try:
        await log_in(officer.page, "bien_tap", NEW_PASSWORD, "/staff")
        assert await officer.page.locator(".staff-account-nav a[href='/staff/users']").count() == 0
        async with officer.page.expect_navigation():
            await officer.page.click(".staff-account-nav a[href='/staff/password']")
        await officer.page.fill("#pw-old", NEW_PASSWORD)
        await officer.page.fill("#pw-new", PASSWORD)
        await officer.page.fill("#pw-again", PASSWORD)
        async with officer.page.expect_navigation():
            await officer.page.click("#pw-submit")
        assert "Đã đổi mật khẩu." in (await officer.page.locator("#password-done").text_content() or "")
        for target in ("/%09/evil.example", "/%0A/evil.example", "/%5Cevil.example"):
            await officer.page.goto(f"{server.url}/lang/en?next={target}")
            assert URL(officer.page.url).origin() == URL(server.url).origin(), officer.page.url
        assert officer.unexpected_errors() == []
    finally:
        await officer.close()
    assert await cookie_sign_in(server, "bien_tap", PASSWORD)


@pytest.mark.browser
async def test_account_pages_are_accessible(start_server: Any, browser: Any) -> None:
    """axe-core finds no serious or critical WCAG 2.1 AA violation on the new pages, in Vietnamese
    and English, with the confirmation dialog open and with an error shown."""
    from tests.browser import DESKTOP, log_in, open_viewer
    from tests.test_accessibility import assert_accessible, new_person

    server: RunningServer = await start_server(**GUARDED)
    await server.app[accounts_key].add_user("quan_tri", "admin", PASSWORD)
    await server.app[accounts_key].add_user("bien_tap", "responder", PASSWORD, department="Sở Xây dựng")
    context = await new_person(browser, DESKTOP)
    admin = await open_viewer(browser, f"{server.url}/login?next=/staff/users", context=context, wait_joined=False)
    page = admin.page
    try:
        await log_in(page, "quan_tri", PASSWORD, "/staff/users", ready="li.account[data-user=bien_tap]")
        await page.locator("li.account[data-user=bien_tap] summary").click()
        await assert_accessible(page, "the accounts page")
        await page.locator("li.account[data-user=bien_tap] button[data-action=disable]").click()
        await page.locator("#confirm-dialog").wait_for(state="visible")
        await assert_accessible(page, "the accounts page's dialog")
        await page.click("#confirm-cancel")
        await page.goto(f"{server.url}/lang/en?next=/staff/password")
        await page.fill("#pw-old", WRONG)
        await page.fill("#pw-new", NEW_PASSWORD)
        await page.fill("#pw-again", NEW_PASSWORD)
        async with page.expect_navigation():
            await page.click("#pw-submit")
        assert "The current password is wrong" in (await page.locator("#password-alert").text_content() or "")
        assert await page.get_attribute("#pw-old", "aria-invalid") == "true"
        await assert_accessible(page, "the password page with an error, in English")
        assert [e for e in admin.unexpected_errors() if "status of 401" not in e] == []  # the refusal's own page
    finally:
        await context.close()
