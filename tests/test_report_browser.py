"""The report in a real browser: headless Chromium (Debian's package, installed by
scripts/install-browser.sh) opens index.html, with the network cut off, and we check that it
renders without console errors, that every image loads, and save a screenshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "reports" / "browser-test" / "report.png"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("SEGMENT_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("SEGMENT_SKIP_BROWSER"):
            pytest.skip("SEGMENT_SKIP_BROWSER is set")
        pytest.fail(
            "Chromium not found: run scripts/install-browser.sh (the README's test command "
            "does), or set SEGMENT_SKIP_BROWSER=1 to skip the browser test"
        )
    return path


@pytest.fixture(scope="module")
def page_report(bundled_report):
    playwright = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        # the report must need nothing from outside its own file
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:"))
                else (requests.append(route.request.url), route.abort())
            ),
        )
        page = context.new_page()
        messages: list[tuple[str, str]] = []
        errors: list[str] = []
        page.on("console", lambda m: messages.append((m.type, m.text)))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((bundled_report / "index.html").as_uri(), wait_until="load")
        images = page.evaluate(
            "Array.from(document.images).map(i => "
            "({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))"
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        title = page.title()
        headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
        browser.close()
    return {
        "messages": messages,
        "errors": errors,
        "images": images,
        "requests": requests,
        "title": title,
        "headings": headings,
    }


def test_report_renders_without_console_errors(page_report):
    assert page_report["errors"] == []
    assert [m for m in page_report["messages"] if m[0] in ("error", "warning")] == []


def test_report_requests_nothing_from_the_network(page_report):
    assert page_report["requests"] == []


def test_every_image_loads(page_report):
    images = page_report["images"]
    assert len(images) == 7
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
