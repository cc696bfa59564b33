"""Fixtures of the browser tests: the real platform (``agentry up``) and one headless Chromium per module.

Skipped with a reason when Debian's Chromium (``/usr/bin/chromium``) or the ``playwright`` package is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.stack import Stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT: Any = {"width": 1280, "height": 800}


def require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright.async_api", reason="browser tests need the playwright package (dev deps)")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``agentry up`` on free ports in a temp data dir (first start builds the UI), with demo agents."""
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    platform = Stack(
        data_dir=tmp_path_factory.mktemp("web-e2e") / "data", log_path=ARTIFACTS / "web-e2e-up.log"
    )
    try:
        platform.start()
        platform.ensure_demo()
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (no cookies) per test; console errors are collected for the report."""
    context = await browser.new_context(viewport=VIEWPORT)
    tab = await context.new_page()
    tab.set_default_timeout(30_000)
    tab.console_errors = []
    tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    tab.on(
        "response",
        lambda r: tab.console_errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )
    yield tab
    if tab.console_errors:
        with (ARTIFACTS / "web-console-errors.log").open("a") as log:
            log.write("\n".join(tab.console_errors) + "\n")
    await context.close()


async def shot(page: Any, name: str) -> None:
    """Save the screen as a test artifact (tests/artifacts/web-<name>.png); settles animations first."""
    await asyncio.sleep(0.3)
    await page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=False)
