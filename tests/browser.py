"""Helpers for the browser tests: Playwright's async API driving Debian's chromium (/usr/bin/chromium,
installed by `make browser`). Playwright never downloads a browser here.

Screenshots: every test takes its own, so the code that takes them always runs, but they are written
to the test's tmp_path unless asked for: `pytest --screenshots` (`make screenshots`) writes the
README's pictures to docs/screenshots/ (tracked) and the others to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    ViewportSize,
)

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
RECEIPT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


@dataclass
class Viewer:
    """One person's browser: its own context (cookies, localStorage) and page, and every error the
    page reported (script errors, CSP violations, failed loads), which a test expects to be none."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    async def close(self) -> None:
        await self.context.close()

    def unexpected_errors(self) -> list[str]:
        """Errors other than the browser's own report of a websocket it could not open (offline tests)."""
        return [e for e in self.errors if "WebSocket connection to" not in e]


async def open_viewer(browser: Browser, url: str, *, viewport: ViewportSize | None = None,
                      javascript: bool = True, locale: str = "vi-VN", wait_joined: bool = True,
                      context: BrowserContext | None = None,
                      before: Callable[[Page], Awaitable[None]] | None = None) -> Viewer:
    """A new browser context (a new person) unless `context` is given (the same person, another tab)."""
    if context is None:
        context = await browser.new_context(viewport=viewport or PHONE, locale=locale,
                                            java_script_enabled=javascript, device_scale_factor=1)
    page = await context.new_page()
    viewer = Viewer(context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            viewer.errors.append(f"console: {message.text} at {message.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: viewer.errors.append(f"pageerror: {err}"))
    if before is not None:
        await before(page)
    await page.goto(url)
    if javascript and wait_joined:
        await joined(page)
    return viewer


async def joined(page: Page) -> None:
    """The viewer script has connected, joined the session and rendered its snapshot."""
    await page.wait_for_selector("#session[data-live=joined]", state="attached", timeout=10000)


async def fill_question(page: Page, *, name: str = "Nguyễn Văn An", address: str = "12 Lạch Tray, Ngô Quyền, Hải Phòng",
                        phone: str = "0912 345 678", text: str, field: str | None = None, consent: bool = True,
                        kind: str = "person", name_shown: str | None = None) -> None:
    await page.check(f"input[name=kind][value={kind}]")
    await page.fill("#f-name", name)
    await page.fill("#f-address", address)
    await page.fill("#f-phone", phone)
    if name_shown:
        await page.select_option("#f-name_shown", name_shown)
    if field:
        await page.select_option("#f-field", field)
    await page.fill("#f-text", text)
    if consent:
        await page.check("#f-consent")
    else:
        await page.uncheck("#f-consent")


async def log_in(page: Page, name: str, password: str, path: str, ready: str | None = None) -> None:
    """On /login?next=PATH (already open): sign in, land on `path`, wait for `ready` there."""
    await page.fill("#login-name", name)
    await page.fill("#login-password", password)
    async with page.expect_navigation():
        await page.click("#login-submit")
    assert page.url.endswith(path), page.url
    if ready:
        await page.wait_for_selector(ready, state="attached", timeout=10000)


def pytest_addoption(parser: pytest.Parser) -> None:  # registered in conftest.py
    parser.addoption("--screenshots", action="store_true", default=False,
                     help="write the README's screenshots to docs/screenshots/ and the others to "
                          "tests/artifacts/ (make screenshots); without it they go to each test's tmp_path")


_running: pytest.FixtureRequest | None = None  # the test now running: where its screenshots go


@pytest.fixture(autouse=True)
def screenshot_place(request: pytest.FixtureRequest) -> Iterator[None]:
    """Lets screenshot() find the running test's options and tmp_path (registered in conftest.py)."""
    global _running
    _running = request
    yield
    _running = None


def screenshot_folder(*, doc: bool) -> Path:
    if _running is None:
        raise RuntimeError("a screenshot outside a test")
    if _running.config.getoption("screenshots"):
        folder = DOCS_SCREENSHOTS if doc else ARTIFACTS
    else:  # never the tracked docs/screenshots/: running the tests leaves the tree as it was
        tmp_path: Path = _running.getfixturevalue("tmp_path")
        folder = tmp_path / "screenshots" / ("docs" if doc else "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A picture of the page for a person to look at (tests/artifacts/ with --screenshots)."""
    path = screenshot_folder(doc=False) / name
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def doc_screenshot(page: Page, name: str, **options: Any) -> Path:
    """One of the README's pictures (docs/screenshots/NAME with --screenshots)."""
    path = screenshot_folder(doc=True) / name
    await page.screenshot(path=str(path), **options)
    return path


async def js(page: Page, expression: str, arg: Any = None) -> Any:
    try:
        return await page.evaluate(expression, arg)
    except Error as err:  # pragma: no cover - makes a failing expression readable
        raise AssertionError(f"{expression!r} failed: {err}") from None
