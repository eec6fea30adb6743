"""The OAuth example app in a real browser: headless Chromium (Debian's ``chromium`` package,
driven by Playwright with ``executable_path``; no browser download) opens the app, clicks
"Connect Cal.com", then Allow (or Deny) on FakeCalCom's consent page.

With ``CI=true`` this must run; elsewhere it skips when Chromium or Playwright is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio

from tests.support.files import ROOT, load_module

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXAMPLE = ROOT / "examples" / "oauth_app" / "webapp.py"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str | None:
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        return f"Chromium is not installed ({CHROMIUM}; apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


_REASON = _missing()
# in CI nothing is skipped: a missing browser fails the tests (see the `browser` fixture)
pytestmark = pytest.mark.skipif(_REASON is not None and not IN_CI, reason=_REASON or "")


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_module("oauth_app_example", EXAMPLE)


@pytest_asyncio.fixture
async def running(example: ModuleType) -> AsyncIterator[Any]:
    app = await example.start(host="127.0.0.1", port=0, fake=True, bookings=60)
    try:
        yield app
    finally:
        await app.close()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    if _REASON is not None:
        pytest.fail(f"the browser test must run in CI: {_REASON}")
    from playwright.async_api import async_playwright

    executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _open_consent_page(browser: Any, running: Any) -> Any:
    page = await browser.new_page()
    page.set_default_timeout(15_000)
    await page.goto(running.url + "/")
    await page.get_by_role("link", name="Connect Cal.com").click()
    # the fake's consent page, on the fake's own origin
    await page.wait_for_url(running.fake.base_url + "/auth/oauth2/authorize?*")
    await page.get_by_text("Example CRM wants to access your Cal.com account").wait_for()
    return page


async def test_connect_allow_shows_the_users_bookings(
    browser: Any, running: Any, tmp_path: Path
) -> None:
    page = await _open_consent_page(browser, running)
    consent = tmp_path / "oauth-consent.png"
    await page.screenshot(path=str(consent), full_page=True)
    print(f"\nscreenshot (consent page): {consent}")
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(running.url + "/")
    user = await page.locator("#user").inner_text()
    assert "Connected as Frankie Owner" in user
    bookings = page.locator("#bookings li.booking")
    await bookings.first.wait_for()
    assert await bookings.count() >= 1
    shot = tmp_path / "oauth-allow.png"
    await page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot (allowed): {shot}")
    assert shot.stat().st_size > 0
    # the app called the API with the user's OAuth token, as that user
    fake = running.fake
    assert fake.operations["oauth2.token"] == 1
    assert [r.status for r in fake.requests if r.operation == "bookings.list"] == [200]
    assert len(running.sessions.tokens) == 1
    await page.close()


async def test_connect_deny_shows_access_denied(browser: Any, running: Any, tmp_path: Path) -> None:
    page = await _open_consent_page(browser, running)
    await page.get_by_role("button", name="Deny").click()
    await page.wait_for_url(running.url + "/oauth/callback?*")
    await page.get_by_role("heading", name="Access denied").wait_for()
    assert "nothing was shared" in await page.content()
    shot = tmp_path / "oauth-deny.png"
    await page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot (denied): {shot}")
    assert shot.stat().st_size > 0
    assert running.fake.operations["oauth2.token"] == 0  # no exchange
    assert not running.sessions.tokens
    await page.close()
