"""Headless Chromium for page tests (a plain module: ``conftest`` names are ambiguous across folders).

Debian's chromium is used (nothing downloads a browser); without it a test is skipped, or fails under
``CI=true``, where ``.ci/run`` installs it."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    """The browser's executable, or skip (fail under CI=true)."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed (CI=true: .ci/run must install it)")
    pytest.skip("chromium not installed (apt-get install -y chromium)")


@contextlib.contextmanager
def browser_tab(width: int = 1200, height: int = 900):
    """A Playwright page in headless Chromium; ``tab.errors`` collects the console's errors."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extra has it)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.errors = errors
        try:
            yield tab
        finally:
            browser.close()
