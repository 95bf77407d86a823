"""The report in a real browser: headless Chromium (Debian's package, installed by
scripts/install-browser.sh) opens index.html, with the network cut off, and we check that it
renders without console errors, that every image loads, and save a screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import offline_page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "reports" / "browser-test" / "report.png"


@pytest.fixture(scope="module")
def page_report(bundled_report):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        view = offline_page(p, width=1200)  # the report must need nothing from outside its file
        page = view.page
        page.goto((bundled_report / "index.html").as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => "
            "({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))"
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        title = page.title()
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        page.context.browser.close()
    return {
        "messages": view.messages,
        "errors": view.errors,
        "images": images,
        "requests": view.requests,
        "title": title,
        "headings": headings,
    }


def test_report_renders_without_console_errors(page_report):
    assert page_report["errors"] == []
    assert [m for m in page_report["messages"] if m[0] in ("error", "warning")] == []


def test_report_requests_nothing_from_the_network(page_report):
    assert page_report["requests"] == []


def test_every_image_loads(page_report, bundled_report):
    images = page_report["images"]
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    assert len(images) == html.count("<img ") == 15  # 6 figures and 9 profile panels
    for img in images:
        assert img["complete"] and img["width"] > 200 and img["height"] > 100, img["alt"]


def test_report_title_and_sections(page_report):
    assert "attitude segments" in page_report["title"]
    assert page_report["headings"][0] == "Summary"
    assert page_report["headings"][-1] == "Methods and caveats"


def test_screenshot_is_saved(page_report):
    from PIL import Image

    with Image.open(SCREENSHOT) as im:
        width, height = im.size
    assert width == 1200 and height > 5000  # the whole page, not a blank viewport
