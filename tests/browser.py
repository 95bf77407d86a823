"""Headless Chromium for the browser tests: Debian's package (installed by
scripts/install-browser.sh), driven by Playwright, with every request outside the page's own
file refused and recorded."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

import pytest

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


def chromium_path() -> str:
    """The Chromium executable; fails (or skips, with SEGMENT_SKIP_BROWSER) when missing."""
    path = os.environ.get("SEGMENT_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("SEGMENT_SKIP_BROWSER"):
            pytest.skip("SEGMENT_SKIP_BROWSER is set")
        pytest.fail(
            "Chromium not found: run scripts/install-browser.sh (the README's test command "
            "does), or set SEGMENT_SKIP_BROWSER=1 to skip the browser test"
        )
    return path


@dataclass
class OfflinePage:
    """A page with its record of refused requests, console messages and page errors."""

    page: object
    requests: list[str] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def offline_page(playwright, *, width: int, height: int = 900) -> OfflinePage:
    """Launch Chromium and open a page that may load only ``file:`` and ``data:`` URLs."""
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    context = browser.new_context(viewport={"width": width, "height": height})
    record = OfflinePage(page=None)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else (record.requests.append(route.request.url), route.abort())
        ),
    )
    page = context.new_page()
    page.on("console", lambda m: record.messages.append((m.type, m.text)))
    page.on("pageerror", lambda e: record.errors.append(str(e)))
    record.page = page
    return record
