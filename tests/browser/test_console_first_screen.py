"""The first screen the server writes into the console page (`console/first_screen.py`), in a
real Chromium: it is the very markup the page's own code (`grid.js`) writes for the same
seats, it is there before any script runs, only for a signed-in proctor and only of an exam
the proctor's feed would follow, and what candidates typed stays text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from proctor_server.app import Server
from proctor_server.console import staff
from proctor_server.core.records import ProctorRole
from tests.browser.sitting import Sitting, mixed, open_sitting

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOSTILE = "</script><img src=x onerror=\"document.title='owned'\"> \"Q\" 'q' & <b>bold</b>"

# Each visible row as a list of its elements (tag, attributes, text of elements without
# children), but what comes after the first fill: a thumbnail's `src` (set once the first grid
# is on screen) and its `hidden` when it failed to load, its address's time bucket, the
# clocks' digits (they tick while the test reads them).
ROWS = """(count) => {
  const rows = [...document.querySelectorAll("#grid-space > .row:not([hidden])")].slice(0, count);
  return rows.map((row) => [row, ...row.querySelectorAll("*")].map((e) => {
    const failed = e.tagName === "IMG" && e.dataset.src; // hidden by its onerror once it loaded
    const attrs = [...e.attributes].filter((a) => a.name !== "src" && !(failed && a.name === "hidden"))
      .map((a) => `${a.name}=${a.name === "data-src" ? a.value.replace(/latest\\?v=\\d+/, "latest?v=T") : a.value}`)
      .sort();
    let text = e.children.length ? "" : e.textContent;
    if (e.classList.contains("time")) text = text.replace(/\\d/g, "9");
    return `${e.tagName} ${attrs.join(" ")} | ${text}`;
  }));
}"""
HEAD = """() => [document.getElementById("title").textContent, document.getElementById("shown").textContent,
  document.getElementById("summary").textContent, document.documentElement.lang]"""


async def sitting_with_a_hostile_name(server: Server) -> Sitting:
    sitting = await open_sitting(server)
    await sitting.ticket(HOSTILE)
    await mixed(sitting, 24)
    return sitting


@pytest_asyncio.fixture(loop_scope="module")
async def no_script(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A browser that runs no script of the page: what the document itself holds."""
    context = await browser.new_context(
        viewport={"width": 1600, "height": 1000}, locale="en-US", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    yield context
    await context.close()


async def test_the_servers_rows_are_the_pages_own(
    server: Server, page: Page, no_script: BrowserContext
) -> None:
    sitting = await sitting_with_a_hostile_name(server)
    written = await no_script.new_page()
    await written.goto(f"{server.url}/login?token={sitting.token}")
    count = await written.locator("#grid-space > .row").count()
    assert count >= 12
    served_rows = await written.evaluate(ROWS, count)
    served_head = await written.evaluate(HEAD)

    async def without_first_screen(route: Route) -> None:
        # the page as if the server had written no rows: the page's code makes its own
        response = await route.fetch()
        html = await response.text()
        start = html.index('<div id="grid-space"')
        end = html.index('<aside id="panel"')
        space = '<div id="grid-space" class="grid-space" role="rowgroup"></div></div>\n'
        await route.fulfill(response=response, body=html[:start] + space + html[end:])

    await page.route(f"{server.url}/", without_first_screen)
    await page.route("**/api/exam/**", lambda route: route.abort())  # the snapshot's words only
    await page.goto(f"{server.url}/login?token={sitting.token}")
    await page.wait_for_selector('body[data-ready="true"]')
    assert await page.locator("#grid-space > .row").count() >= count
    drawn_rows = await page.evaluate(ROWS, count)
    for served, drawn in zip(served_rows, drawn_rows, strict=True):
        assert served == drawn
    assert served_head == await page.evaluate(HEAD)
    # the name is text in both, and no script ran from it
    await expect(written.locator("#grid-space")).to_contain_text(HOSTILE)
    await expect(page.locator("#grid-space")).to_contain_text(HOSTILE)
    assert await written.title() != "owned" and await page.title() != "owned"


async def test_the_page_takes_the_servers_rows_over_and_keeps_them_live(
    server: Server, page: Page
) -> None:
    sitting = await sitting_with_a_hostile_name(server)
    reads = server.grids.reads
    await page.goto(f"{server.url}/login?token={sitting.token}")
    await page.wait_for_selector('body[data-ready="true"]')
    # one read of the grid for the sign-in, the page and its socket (begun at the sign-in)
    assert server.grids.reads == reads + 1
    rows = page.locator("#grid-space > .row")
    # the server's rows were taken over, not doubled: one element per seat shown
    codes = await rows.evaluate_all("rs => rs.filter(r => !r.hidden).map(r => r.dataset.candidate)")
    assert len(codes) == len(set(codes))
    await expect(page.locator("#status")).to_have_text("live")
    first = rows.first
    await first.locator('[data-action="open"]').click()
    await expect(page.locator("#panel")).to_be_visible()
    # sorting works on the taken-over rows
    await page.select_option("#sort", "code")
    await expect(rows.first).to_have_attribute("data-candidate", "C00001")


async def test_the_document_holds_the_grid_only_for_a_proctor_of_that_exam(
    server: Server, no_script: BrowserContext
) -> None:
    sitting = await sitting_with_a_hostile_name(server)
    other = await open_sitting(server)
    await other.ticket("Someone Else")
    view = await no_script.new_page()
    # no session: the sign-in form, no exam
    await view.goto(f"{server.url}/")
    assert await view.locator("[data-candidate]").count() == 0
    # a proctor of this exam, asking for another: nothing of either
    await view.goto(f"{server.url}/login?token={sitting.token}")
    await view.goto(f"{server.url}/?exam={other.exam.id}")
    assert await view.locator("[data-candidate]").count() == 0
    assert "Someone Else" not in await view.content()
    assert await view.locator("#console").is_hidden()
    # their own exam: its rows, written before any script ran
    await view.goto(f"{server.url}/")
    assert await view.locator("[data-candidate]").count() > 0
    await expect(view.locator("#title")).to_have_text(sitting.exam.title)
    # a chief with two live exams and no choice made sees none; with a choice, that one
    _, chief = await staff.add_proctor(
        server.store, name="Chief", exam_id=None, role=ProctorRole.CHIEF
    )
    await view.goto(f"{server.url}/login?token={chief}")
    assert await view.locator("[data-candidate]").count() == 0
    await view.goto(f"{server.url}/?exam={other.exam.id}")
    await expect(view.locator("[data-candidate]")).to_have_count(1)
    await expect(view.locator("#grid-space")).to_contain_text("Someone Else")


async def test_the_first_screen_is_in_the_proctors_language(
    server: Server, no_script: BrowserContext
) -> None:
    sitting = await sitting_with_a_hostile_name(server)
    await no_script.add_cookies([{"name": "proctor_lang", "value": "zh", "url": server.url}])
    view = await no_script.new_page()
    await view.goto(f"{server.url}/login?token={sitting.token}")
    assert await view.evaluate("document.documentElement.lang") == "zh-CN"
    await expect(view.locator('[data-filter="absent"]')).to_have_text("未进入")
    await expect(view.locator("#grid-space")).to_contain_text("考试中")
