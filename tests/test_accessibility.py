"""Accessibility of the pages in a real browser (Debian's chromium through Playwright) against a real
server: axe-core (tests/vendor/axe.min.js, see tests/vendor/README.md) checks each page against the
WCAG 2.0 and 2.1 A and AA rules, in Vietnamese and in English, on a phone and on a desktop, with public
questions, with the form's errors shown, on the receipt, on the index and on the staff screens; and a
person using only the keyboard fills in the question form and sends it, in the order the fields are
seen, always seeing where the focus is.

A "serious" or "critical" violation fails the test; the message names each rule, its impact and the
first elements it found. Fix the page, never the rule list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, FloatRect, Page, ViewportSize

from moderation.consent import Channel
from moderation.sessions import SessionState
from moderation.submission import parse_submission
from server.keys import accounts_key, media_key
from tests.browser import DESKTOP, PHONE, RECEIPT, Viewer, fill_question, js, log_in, open_viewer, screenshot
from tests.conftest import RunningServer, valid_payload, wait_for
from tests.test_browser_video import set_feed

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
PASSWORD = "mật khẩu đủ dài 123"
CONSOLE: ViewportSize = {"width": 1440, "height": 900}
QUESTION = "Xin hỏi thời hạn giải quyết hồ sơ cấp giấy chứng nhận quyền sử dụng đất lần đầu là bao nhiêu ngày?"


# ---- helpers ----

async def new_person(browser: Browser, viewport: ViewportSize | None = None) -> BrowserContext:
    """A browser context that lets axe in: the pages' CSP (script-src 'self') would refuse the inline
    script that add_script_tag makes, so this context alone bypasses it. Nothing else changes."""
    return await browser.new_context(viewport=viewport or PHONE, locale="vi-VN", device_scale_factor=1,
                                     bypass_csp=True)


async def visit(browser: Browser, url: str, *, viewport: ViewportSize | None = None,
                wait_joined: bool = True) -> Viewer:
    context = await new_person(browser, viewport)
    return await open_viewer(browser, url, context=context, wait_joined=wait_joined)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA rules on the whole document, as it is now."""
    if not await js(page, "typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:4]]
        more = f" (+{len(v['nodes']) - 4} more)" if len(v["nodes"]) > 4 else ""
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} -> {targets}{more}")
        summary = v["nodes"][0].get("failureSummary", "").replace("\n", " ")
        if summary:
            lines.append(f"    first: {summary[:300]}")
    return "\n".join(lines)


async def assert_accessible(page: Page, what: str) -> None:
    violations = await axe_violations(page)
    if violations:  # every finding is shown in the test's output, the lesser ones too
        print(f"axe on {what}:\n{describe(violations)}")  # noqa: T201
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe found serious or critical WCAG 2.1 AA violations on {what}:\n{describe(failing)}"


async def store_question(server: RunningServer, session_id: int, text: str, **asker: str) -> tuple[int, str]:
    payload = valid_payload(session_id, text=text)
    payload["asker"].update(asker)
    receipt = await server.store.submit_question(parse_submission(payload, channel=Channel.SOCKET))
    return receipt.question_id, receipt.receipt


async def public_questions(server: RunningServer, session_id: int) -> None:
    """Public questions in each state a viewer sees: accepted, queued, on air, answered in writing."""
    ask = store_question
    accepted, _ = await ask(server, session_id, "Khi nào thành phố mở rộng tuyến đường Hồ Sen – Cầu Rào 2?",
                            name="Bùi Quang Huy")
    await server.store.apply_action(accepted, "accept")
    await server.store.apply_action(accepted, "classify", field="Giao thông")
    queued, _ = await ask(server, session_id, "Xin hỏi khi nào lắp đèn tín hiệu tại ngã tư Văn Cao – Trần Nguyên Hãn?",
                          name="Ngô Thị Mai", name_shown="full")
    await server.store.apply_action(queued, "accept")
    await server.store.apply_action(queued, "queue")
    answered, _ = await ask(server, session_id, "Doanh nghiệp thuê đất trong khu công nghiệp cần những thủ tục gì?",
                            kind="organization", name="Công ty TNHH Biển Xanh", name_shown="anonymous")
    await server.store.apply_action(answered, "accept")
    await server.store.apply_action(answered, "answer", answer="Doanh nghiệp nộp hồ sơ tại Trung tâm Phục vụ "
                                    "hành chính công; thời hạn giải quyết 20 ngày làm việc.")
    on_air, _ = await ask(server, session_id, QUESTION, name="Lê Văn Hùng")
    await server.store.apply_action(on_air, "accept")
    await server.store.apply_action(on_air, "air")


async def sign_in(browser: Browser, server: RunningServer, name: str, role: str, path: str, ready: str,
                  viewport: ViewportSize) -> Viewer:
    await server.app[accounts_key].add_user(name, role, PASSWORD)
    viewer = await visit(browser, f"{server.url}/login?next={path}", viewport=viewport, wait_joined=False)
    await log_in(viewer.page, name, PASSWORD, path, ready)
    return viewer


# ---- axe on each page ----

async def test_axe_finds_what_it_should(server: RunningServer, browser: Browser) -> None:
    """The check itself: on a page spoiled on purpose, axe runs and reports what is wrong."""
    viewer = await visit(browser, f"{server.url}/", viewport=PHONE, wait_joined=False)
    page = viewer.page
    await page.evaluate("""() => {
        const main = document.getElementById('main');
        main.insertAdjacentHTML('beforeend', '<input type="text" id="spoiled-input"><p id="spoiled-text">Chữ quá nhạt, khó đọc</p>');
        document.getElementById('spoiled-text').style.color = '#c8c8c8';
    }""")
    found = {v["id"]: v for v in await axe_violations(page)}
    assert {"label", "color-contrast"} <= set(found), describe(list(found.values()))
    assert found["label"]["impact"] == "critical" and found["color-contrast"]["impact"] == "serious"
    assert "#spoiled-input" in describe([found["label"]])


async def test_session_page_on_a_phone_in_vietnamese(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(SessionState.LIVE)
    await public_questions(server, session.id)
    viewer = await visit(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    assert await page.get_attribute("html", "lang") == "vi"
    await page.locator("#questions .interest-btn").first.wait_for()
    await assert_accessible(page, "the session page (phone, Vietnamese)")
    await page.click("#why-full summary")  # the consent's full text, unfolded
    button = page.locator("#questions .interest-btn").first
    await button.click()  # an interest marked: the pressed button's colours
    await page.wait_for_selector("#questions .interest-btn[aria-pressed=true]")
    await assert_accessible(page, "the session page with the consent text open, an interest marked "
                            "(phone, Vietnamese)")
    # offline: the question waits in the outbox, the connection banner says so
    await viewer.context.set_offline(True)
    await page.wait_for_selector("#session[data-live=offline]", state="attached")
    await fill_question(page, text=QUESTION)
    await page.click("#send-button")
    await page.locator(".outbox-item").wait_for()
    await assert_accessible(page, "the session page offline, a question in the outbox (phone, Vietnamese)")
    await viewer.context.set_offline(False)
    await page.locator("#ask-result .receipt-code").wait_for(timeout=10000)
    assert viewer.unexpected_errors() == []

    # a closed session: no form, the intake closed
    closed = await server.new_session(SessionState.CLOSED)
    await page.goto(f"{server.url}/s/{closed.id}")
    assert page.url.endswith(f"/s/{closed.id}")
    await page.wait_for_selector("#intake-notice", state="visible", timeout=5000)
    await assert_accessible(page, "a closed session's page (phone, Vietnamese)")


async def test_session_page_on_a_desktop_in_english(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(SessionState.ANNOUNCED)
    await public_questions(server, session.id)
    viewer = await visit(browser, f"{server.url}/s/{session.id}?lang=en", viewport=DESKTOP)
    page = viewer.page
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("#ask-title") == "Send a question"
    await page.locator("#questions .interest-btn").first.wait_for()
    await assert_accessible(page, "the session page (desktop, English)")
    # what citizens and the city wrote stays marked Vietnamese on the English page (as the script
    # renders it), so a screen reader does not read it with English pronunciation
    assert await page.get_attribute("h1", "lang") == "vi"
    langs = await page.eval_on_selector_all(
        "#questions .q-text, #questions .q-field, #questions .q-answer span", "els => els.map(e => e.lang)")
    assert langs and set(langs) == {"vi"}
    badges = await page.eval_on_selector_all("#questions .badge", "els => els.map(e => e.lang)")
    assert badges and set(badges) == {""}  # the page's own words inherit its language: English
    assert viewer.unexpected_errors() == []


async def test_session_page_with_the_form_errors_shown(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    viewer = await visit(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    await fill_question(page, phone="12345", text="ngắn", consent=False)
    await page.click("#send-button")
    await page.wait_for_selector("#e-phone")
    await page.wait_for_selector("#e-consent")
    await assert_accessible(page, "the session page after a refused question (script)")
    # a question sent, so that the receipt and the list of sent questions are in the page too
    await fill_question(page, text=QUESTION)
    await page.click("#send-button")
    await page.locator("#ask-result .receipt-code").wait_for()
    await assert_accessible(page, "the session page after a question was sent (script)")
    assert viewer.unexpected_errors() == []


async def test_session_page_with_the_form_errors_shown_by_the_server(server: RunningServer,
                                                                      browser: Browser) -> None:
    """Without the page's script (it is not loaded), the form posts and the server shows the errors."""
    session = await server.new_session()
    context = await new_person(browser, PHONE)
    page = await context.new_page()
    await page.route("**/static/js/**", lambda route: route.abort())  # axe is a script: only the page's are off
    await page.goto(f"{server.url}/s/{session.id}")
    await fill_question(page, phone="12345", text="ngắn", consent=False)
    async with page.expect_navigation():
        await page.click("#send-button")
    assert "Số điện thoại không hợp lệ" in await page.inner_text("#e-phone")
    await page.wait_for_selector("#e-consent")
    await assert_accessible(page, "the session page after a refused question (no script)")
    await context.close()


async def test_receipt_pages(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    _, waiting = await store_question(server, session.id, QUESTION)
    declined_id, declined = await store_question(server, session.id, "Đề nghị Quốc hội sửa Luật Đất đai về thời hạn "
                                                 "sử dụng đất nông nghiệp.")
    await server.store.apply_action(declined_id, "decline", reason="outside_city_remit")
    answered_id, answered = await store_question(server, session.id, "Thủ tục thuê đất trong khu công nghiệp?")
    await server.store.apply_action(answered_id, "accept")
    await server.store.apply_action(answered_id, "answer", answer="Nộp hồ sơ tại Trung tâm Phục vụ hành chính công.")
    assert RECEIPT.match(waiting)
    viewer = await visit(browser, f"{server.url}/q/{waiting}?new=1", viewport=PHONE, wait_joined=False)
    page = viewer.page
    assert await page.inner_text("#receipt-code") == waiting
    await assert_accessible(page, "the receipt page, just sent (phone)")
    await page.goto(f"{server.url}/q/{declined}")
    assert await page.inner_text("#q-reason") == "Ngoài thẩm quyền của thành phố."
    await assert_accessible(page, "the receipt page of a declined question (phone)")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{server.url}/q/{answered}?lang=en")
    await assert_accessible(page, "the receipt page of a question answered in writing (desktop, English)")
    await page.goto(f"{server.url}/q")
    await assert_accessible(page, "the receipt look-up page (desktop, English)")
    assert viewer.unexpected_errors() == []


async def test_index_page(server: RunningServer, browser: Browser) -> None:
    viewer = await visit(browser, f"{server.url}/", viewport=PHONE, wait_joined=False)
    await assert_accessible(viewer.page, "the index with no session (phone)")
    for state in (SessionState.ANNOUNCED, SessionState.LIVE, SessionState.CLOSED, SessionState.PUBLISHED):
        await server.new_session(state, title=f"Đối thoại trực tuyến ({state.value})")
    page = viewer.page
    await page.reload()
    assert await page.locator(".sessions > li").count() == 4
    await assert_accessible(page, "the index (phone, Vietnamese)")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{server.url}/?lang=en")
    await assert_accessible(page, "the index (desktop, English)")
    assert viewer.unexpected_errors() == []


async def test_staff_sign_in_page(server: RunningServer, browser: Browser) -> None:
    viewer = await visit(browser, f"{server.url}/login", viewport=PHONE, wait_joined=False)
    page = viewer.page
    await assert_accessible(page, "the staff sign-in page")
    await page.fill("#login-name", "khongco")
    await page.fill("#login-password", "không đúng mật khẩu")
    await page.click("#login-submit")
    await page.wait_for_selector("#login-password[aria-invalid=true]")
    await assert_accessible(page, "the staff sign-in page with an error")


async def test_moderator_console(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về thủ tục đất đai")
    await public_questions(server, session.id)
    received, _ = await store_question(server, session.id, "Hồ sơ của tôi để ba tháng không ai giải quyết, xin "
                                       "hỏi vì sao?", name="Hoàng Văn Tư")
    declined, _ = await store_question(server, session.id, "Đề nghị Quốc hội sửa Luật Đất đai.", name="Lê Văn Hùng")
    await server.store.apply_action(declined, "decline", reason="outside_city_remit")
    viewer = await sign_in(browser, server, "truongban", "head", f"/mod/{session.id}", "#console[data-live=joined]",
                           CONSOLE)
    page = viewer.page
    await page.locator(".qcard").first.wait_for()
    await assert_accessible(page, "the moderators' console")
    await page.click("#help-open")  # the keyboard shortcuts, in a modal dialog
    await page.wait_for_selector("#help-dialog[open]")
    await assert_accessible(page, "the moderators' console with the shortcuts dialog open")
    await page.click("#help-close")
    await page.locator(f"#qc-{received}").focus()
    await page.keyboard.press("d")  # "decline": the dialog asks for the reason
    await page.wait_for_selector("#action-dialog[open]")
    await assert_accessible(page, "the moderators' console with the decline dialog open")
    assert viewer.unexpected_errors() == []


async def test_chair_screen_and_staff_home(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về thủ tục đất đai")
    await public_questions(server, session.id)
    viewer = await sign_in(browser, server, "chutri", "chair", f"/chair/{session.id}", "#chair[data-live=joined]",
                           DESKTOP)
    page = viewer.page
    await page.wait_for_selector("#now-text:not([hidden])")
    await assert_accessible(page, "the chair's screen")
    await page.goto(f"{server.url}/staff")
    await assert_accessible(page, "the staff home (the chair's)")
    assert viewer.unexpected_errors() == []


async def test_officer_intake_page(server: RunningServer, browser: Browser) -> None:
    """Officer intake (server/officer_intake_pages.py): the form, the form with its errors, the slip."""
    session = await server.new_session(SessionState.LIVE, title="Đối thoại về thủ tục đất đai")
    viewer = await sign_in(browser, server, "bientap", "editor", f"/staff/intake/{session.id}", "#oi-form", PHONE)
    page = viewer.page
    await assert_accessible(page, "the officer intake form")
    async with page.expect_navigation():
        await page.click("#oi-submit")
    await page.wait_for_selector("#oi-e-channel")
    await assert_accessible(page, "the officer intake form with its errors")
    await page.check("#oi-channel-phone")
    await page.fill("#oi-name", "Nguyễn Văn An")
    await page.fill("#oi-address", "12 Lạch Tray, Ngô Quyền, Hải Phòng")
    await page.fill("#oi-phone", "0912 345 678")
    await page.fill("#oi-text", QUESTION)
    await page.check("#oi-consent")
    async with page.expect_navigation():
        await page.click("#oi-submit")
    await page.wait_for_selector("#oi-receipt")
    await assert_accessible(page, "the officer intake receipt slip")


# ---- the keyboard alone ----

# What has the focus, and how it shows: its name in the page (an id; a radio button by name=value; the
# consent text's summary by its details' id), where it is, and its focus indicator: the outline or the
# box-shadow drawn while it is focused, with the outline's contrast against what is behind it.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const name = e.id || (e.type === 'radio' ? `${e.name}=${e.value}` : '')
    || (e.tagName === 'SUMMARY' ? `summary:${e.parentElement.id}` : `${e.tagName.toLowerCase()}:${e.textContent.trim()}`);
  const style = getComputedStyle(e);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // what is on the screen where the outline is drawn: the first element under it that is not the
  // focused one, and the first opaque background from there up
  const r = e.getBoundingClientRect();
  const gap = (parseFloat(style.outlineOffset) || 0) + (parseFloat(style.outlineWidth) || 0) / 2;
  const y = Math.min(Math.max(r.top + r.height / 2, 0), window.innerHeight - 1);
  const x = r.left - gap >= 0 ? r.left - gap : Math.min(r.right + gap, window.innerWidth - 1);
  let behind = document.elementsFromPoint(x, y).find((u) => u !== e && !e.contains(u)) || document.body;
  let bg = [255, 255, 255];
  while (behind) {
    const c = rgb(getComputedStyle(behind).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
    behind = behind.parentElement;
  }
  // an outline drawn outside the element is cut off by any ancestor that clips its overflow: which
  // sides of the ring (left, top, right, bottom) are lost so
  const clipped = new Set();
  for (let a = e.parentElement; gap > 0 && a && a !== document.documentElement; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
    const b = a.getBoundingClientRect();
    const left = b.left + a.clientLeft, top = b.top + a.clientTop;
    if (r.left - gap < left) clipped.add('left');
    if (r.top - gap < top) clipped.add('top');
    if (r.right + gap > left + a.clientWidth) clipped.add('right');
    if (r.bottom + gap > top + a.clientHeight) clipped.add('bottom');
  }
  const ring = rgb(style.outlineColor).slice(0, 3);
  const [hi, lo] = [lum(ring), lum(bg)].sort((a, b) => b - a);
  return {
    name, tag: e.tagName.toLowerCase(),
    outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
    outlineContrast: Math.round(((hi + 0.05) / (lo + 0.05)) * 10) / 10,
    boxShadow: style.boxShadow, clipped: [...clipped],
    top: r.top + window.scrollY, left: r.left + window.scrollX, width: r.width, height: r.height,
    inViewport: r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth,
  };
}"""
# the question form's controls, in the order a person sees them, top to bottom
FORM_ORDER = ["f-kind", "f-name", "f-address", "f-phone", "f-email", "f-name_shown", "f-field", "f-text", "summary:why-full",
              "f-consent", "send-button"]


async def focused(page: Page) -> dict[str, Any]:
    state: dict[str, Any] | None = await js(page, FOCUSED)
    assert state is not None, "the focus went to the page itself"
    return state


def indicator_problem(state: dict[str, Any]) -> str | None:
    """None when the focused element shows it: an outline of 2 px or more with 3:1 contrast against what
    is behind it (WCAG 1.4.11) and not cut off on every side by a container, or a box-shadow; else what
    is wrong."""
    if state["outline"] >= 2 and state["outlineContrast"] >= 3 and len(state["clipped"]) < 4:
        return None
    if state["boxShadow"] != "none":
        return None
    return (f"{state['name']}: outline {state['outline']} px at {state['outlineContrast']}:1, "
            f"cut off at {state['clipped'] or 'no side'}, box-shadow {state['boxShadow']}")


async def tab(page: Page, key: str = "Tab") -> dict[str, Any]:
    await page.keyboard.press(key)
    state = await focused(page)
    assert state["inViewport"], f"{state['name']} has the focus but is scrolled out of sight"
    problem = indicator_problem(state)
    assert problem is None, f"no visible focus indicator on {problem}"
    return state


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_question_form_with_the_keyboard_alone(server: RunningServer, browser: Browser,
                                                     viewport: ViewportSize) -> None:
    session = await server.new_session(fields=["Đất đai", "Giao thông"])
    viewer = await visit(browser, f"{server.url}/s/{session.id}", viewport=viewport)
    page = viewer.page
    keys = page.keyboard

    # the first Tab shows the skip link; everything in the header shows its focus too
    first = await tab(page)
    assert first["name"].startswith("a:") and "skip" in (await js(page, "document.activeElement.className"))
    visited = [first]
    while visited[-1]["name"] != "f-kind":
        visited.append(await tab(page))
        assert len(visited) < 20, f"the form is not reached by Tab: {[v['name'] for v in visited]}"

    # the asker: a person (arrows move within the radio group, Space picks the focused one)
    await keys.press("ArrowDown")
    assert await page.is_checked("input[name=kind][value=organization]")
    await keys.press("ArrowUp")
    await keys.press("Space")
    assert await page.is_checked("#f-kind")
    form = [visited[-1]]
    typed = {"f-name": "Nguyễn Văn An", "f-address": "12 Lạch Tray, Ngô Quyền, Hải Phòng", "f-phone": "0912 345 678",
             "f-text": QUESTION}
    while form[-1]["name"] != "send-button":
        state = await tab(page)
        form.append(state)
        assert len(form) <= len(FORM_ORDER), f"the form's focus order: {[f['name'] for f in form]}"
        if state["name"] in typed:
            await keys.type(typed[state["name"]])
        elif state["name"] == "f-name_shown":
            await keys.press("ArrowDown")  # "Nguyễn V. An" -> the full name
        elif state["name"] == "f-field":
            await keys.press("ArrowDown")  # "(không chọn)" -> the session's first field
        elif state["name"] == "summary:why-full":
            await keys.press("Enter")  # the consent's full text opens from the keyboard
            assert await js(page, "document.getElementById('why-full').open")
        elif state["name"] == "f-consent":
            await keys.press("Space")
            assert await page.is_checked("#f-consent")
    assert [f["name"] for f in form] == FORM_ORDER
    # the focus order is the order on the screen: each control below the one before it
    tops = [f["top"] for f in form]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), [(f["name"], f["top"]) for f in form]

    # and back, with Shift+Tab, the same way
    back = [(await tab(page, "Shift+Tab"))["name"] for _ in FORM_ORDER[1:]]
    assert back == FORM_ORDER[-2::-1]
    for _ in FORM_ORDER[1:]:
        await tab(page)
    assert (await focused(page))["name"] == "send-button"

    await keys.press("Enter")
    code = page.locator("#ask-result .receipt-code")
    await code.wait_for()
    receipt = await code.inner_text()
    assert RECEIPT.match(receipt)
    # the focus moves to the acknowledgement, which shows it; the next Tab reaches its link
    result = await focused(page)
    assert result["name"] == "ask-result", result
    assert indicator_problem(result) is None, f"no visible focus indicator on {indicator_problem(result)}"
    link = await tab(page)
    assert await js(page, "document.activeElement.getAttribute('href')") == f"/q/{receipt}", link

    register = await server.store.register(session.id)
    assert len(register) == 1
    row = register[0]
    assert row["receipt"] == receipt and row["text"] == QUESTION and row["field"] == "Đất đai"
    assert row["asker"]["name"] == "Nguyễn Văn An" and row["asker"]["phone"] == "0912345678"
    assert row["asker"]["name_shown"] == "full"
    await screenshot(page, f"a11y-keyboard-sent-{'phone' if viewport == PHONE else 'desktop'}.png", full_page=False)
    assert viewer.unexpected_errors() == []


async def test_skip_link_moves_to_the_main_content(server: RunningServer, browser: Browser) -> None:
    session = await server.new_session()
    viewer = await visit(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    skip = await tab(page)
    assert skip["top"] >= 0 and skip["width"] > 0
    await page.keyboard.press("Enter")
    assert await js(page, "document.activeElement.id") == "main"
    after = await tab(page)  # past the header: the first control of the page's own content
    assert await js(page, "document.getElementById('main').contains(document.activeElement)"), after


async def test_keyboard_focus_on_the_video_player_is_seen(start_server: Callable[..., Awaitable[RunningServer]],
                                                          browser: Browser) -> None:
    """The player (static/js/player.js) on a real live stream (the media worker's test card): paused long
    enough to be behind the live edge, it shows the <video>, "Trực tiếp" and "Bật tiếng", each reached by
    Tab. Every state here is the player's own, reached by waiting for it, so its one-second check of the
    buttons agrees with the test. The video's focus ring cannot be read from its style alone (the slot
    clips it, the video paints over it): the picture of the slot must change when the video takes the
    focus. "Bật tiếng" disappears once pressed: the focus goes to the video, not to the page."""
    server = await start_server(media=True)
    session = await server.new_session(SessionState.LIVE)
    await set_feed(server, session.id, "test")
    await wait_for(lambda: server.app[media_key].state(session.id) == "live", 60)
    viewer = await visit(browser, f"{server.url}/s/{session.id}", viewport=PHONE)
    page = viewer.page
    await page.wait_for_function("() => document.getElementById('video').dataset.player === 'playing' && "
                                 "document.getElementById('video-player').currentTime > 0", timeout=60000)
    # paused, the viewer falls behind the live edge until the player offers the jump back
    await js(page, "document.getElementById('video-player').pause()")
    await page.wait_for_selector("#video-live", state="visible", timeout=60000)
    assert await page.is_visible("#video-unmute")  # started muted

    async def ring_edge() -> bytes:
        """The slot's left edge, between the buttons on top and the browser's controls at the bottom:
        there the ring is drawn over the (paused, so still) picture; the controls' clock moves on."""
        # in the page's coordinates: a Tab may have scrolled the slot away
        x, y, height = await js(page, "(() => { const r = document.getElementById('video').getBoundingClientRect();"
                                      " return [r.left + scrollX, r.top + scrollY, r.height]; })()")
        clip: FloatRect = {"x": x, "y": y + height * 0.3, "width": 8, "height": height * 0.3}
        return await page.screenshot(clip=clip, full_page=True, animations="disabled")

    before = await ring_edge()
    for _ in range(12):
        if (await tab(page))["name"] == "video-player":
            break
    assert (await focused(page))["name"] == "video-player"
    ring = await js(page, "getComputedStyle(document.getElementById('video'), '::after').borderTopColor")
    assert ring == "rgb(255, 210, 77)", ring
    changed = await ring_edge() != before
    assert changed, "the focused video looks the same as before it had the focus"
    await screenshot(page, "a11y-video-focus-phone.png", full_page=False)
    # then the browser's own controls (play, timeline, volume, full screen, more), which it draws with
    # its own focus rings inside the video's shadow tree, where a page's styles cannot reach
    for _ in range(12):
        await page.keyboard.press("Tab")
        if (await focused(page))["name"] != "video-player":
            break
    assert await js(page, "document.activeElement.id") == "video-live"
    assert indicator_problem(await focused(page)) is None
    assert [(await tab(page))["name"] for _ in range(2)] == ["video-unmute", "f-kind"]
    unchanged = await ring_edge() == before
    assert unchanged, "the ring stays on the video after the focus left it"

    assert (await tab(page, "Shift+Tab"))["name"] == "video-unmute"
    await page.keyboard.press("Enter")  # sound on: the button goes, the focus stays in the player
    await page.wait_for_selector("#video-unmute", state="hidden", timeout=30000)
    assert (await focused(page))["name"] == "video-player"
    assert not await js(page, "document.getElementById('video-player').muted")
    assert viewer.unexpected_errors() == []


# ---- forum (issue 13): the standing forum's page and the list of forums ----

async def test_forum_page(server: RunningServer, browser: Browser) -> None:
    from moderation.roles import Actor, Role
    from moderation.sessions import SessionDraft

    forum = await server.store.create_session(SessionDraft(
        title="Trao đổi và tháo gỡ", chair_name="Nguyễn Văn Cao", starts_at=None, minutes=None, kind="forum",
        chair_position="Phó Chủ tịch UBND tỉnh", fields=["Đất đai", "Thuế - tài chính"]))
    await server.store.transition_session(forum.id, SessionState.ANNOUNCED)
    for text, field in ((QUESTION, "Đất đai"), ("Doanh nghiệp mới thành lập được miễn thuế thế nào?", "Thuế - tài chính")):
        qid, _ = await store_question(server, forum.id, text, name="Trần Thị Lan")
        await server.store.apply_action(qid, "accept")
        await server.store.apply_action(qid, "classify", field=field)
        await server.store.apply_action(qid, "answer", answer="Thời hạn giải quyết là 30 ngày kể từ ngày nhận đủ hồ sơ.")
        await server.store.apply_action(qid, "approve_answer", actor=Actor("truongban", Role.HEAD))
    viewer = await visit(browser, f"{server.url}/s/{forum.id}", viewport=PHONE, wait_joined=False)
    page = viewer.page
    assert await page.locator("#forum-list > li").count() == 2
    await assert_accessible(page, "the forum page (phone, Vietnamese)")
    await page.goto(f"{server.url}/s/{forum.id}?q=khong+co+gi&field=Đất+đai")
    await page.locator("#forum-empty").wait_for()
    await assert_accessible(page, "the forum page, a search that finds nothing (phone, Vietnamese)")
    async with page.expect_navigation():
        await page.click("#send-button")  # the server's errors beside each field (the page has no script)
    assert await page.locator(".field-error").count() >= 4
    await assert_accessible(page, "the forum page with the form's errors (phone, Vietnamese)")
    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{server.url}/s/{forum.id}?lang=en")
    await assert_accessible(page, "the forum page (desktop, English)")
    await page.goto(f"{server.url}/forum")
    await assert_accessible(page, "the list of forums (desktop, English)")
    # the one error the browser reports is the refused form's status (400), which the page shows
    assert [e for e in viewer.unexpected_errors() if "400 (Bad Request)" not in e] == []
