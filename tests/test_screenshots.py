"""Running the tests leaves the tracked docs/screenshots/ as they were: the browser tests still take
every screenshot (so that code runs), into their own tmp_path, and write the README's pictures only
when asked (`pytest --screenshots`, `make screenshots`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser import (
    ARTIFACTS,
    DOCS_SCREENSHOTS,
    doc_screenshot,
    open_viewer,
    screenshot,
    screenshot_folder,
)
from tests.conftest import RunningServer

pytestmark = pytest.mark.browser


def tracked_pictures() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(DOCS_SCREENSHOTS.glob("*.png"))
    }


async def test_a_test_run_leaves_the_docs_screenshots_alone(
    server: RunningServer, browser: Browser, tmp_path: Path
) -> None:
    before = tracked_pictures()
    assert "console.png" in before
    viewer = await open_viewer(browser, f"{server.url}/", wait_joined=False)
    doc = await doc_screenshot(viewer.page, "console.png")  # the name the console test uses
    other = await screenshot(viewer.page, "index-phone.png")
    await viewer.close()
    for path in (doc, other):
        assert path.is_relative_to(tmp_path), path
        assert path.read_bytes().startswith(b"\x89PNG"), path
    assert tracked_pictures() == before


def test_asked_for_they_go_to_the_docs_and_artifacts(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytestconfig.option, "screenshots", True)
    assert screenshot_folder(doc=True) == DOCS_SCREENSHOTS
    assert screenshot_folder(doc=False) == ARTIFACTS
