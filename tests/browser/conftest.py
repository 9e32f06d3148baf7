"""Debian's chromium against the live uvicorn server (``chat_server``, tests/live_server.py), for the browser tests.

The server runs in a thread of the test process, so rows a test creates are what the browser sees.
"""

import os
from pathlib import Path

import pytest

from tests.live_server import HOST, PORT, wait_until_idle

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# How long a page may take to show what a test waits for. One figure for every browser test: the suite shares
# two cores with whatever else runs (a second suite, a benchmark), and a page that shows in 1 s alone can take
# 10 s then.
TIMEOUT_MS = 20_000

requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (make browser-deps installs it)"
)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, which trips Django's async-safety
    # check on every ORM call the test makes; the test code itself is plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def base_url(chat_server) -> str:
    return f"http://{HOST}:{PORT}"


@pytest.fixture
def context(browser, chat_server):
    """A fresh browser profile per test; afterwards every connection to the server has ended."""
    context = browser.new_context()
    yield context
    context.close()
    wait_until_idle(chat_server)


def screenshot(page, name: str, *, full_page: bool = True) -> None:
    """Save the page as ``<name>.png`` under $SHOPBEE_SCREENSHOTS when it is set (the README's and the guides'
    pictures, or a look at what a test drove); nothing otherwise."""
    folder = os.environ.get("SHOPBEE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def admin_page(context, base_url: str, username: str, password: str):
    """A new desktop-size page, logged in to the back office as ``username``."""
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")
    return page
