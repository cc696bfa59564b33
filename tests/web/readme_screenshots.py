"""Refresh the README's screenshots (docs/screenshots/marketplace.png and chat.png) from the real UI.

Run: ``uv run python -m tests.web.readme_screenshots [--data-dir DIR]``. Starts ``agentry up`` (seeded demo
data), signs in as the demo owner, and captures the marketplace and a conversation with the demo router
agent (a greeting, a handoff shown as a step, a highlighted code block).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.web.stack import PASSWORD, Stack

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHAT_VIEWPORT: Any = {"width": 1280, "height": 960}
CONVERSATION = [
    "/handoff support-triage My order never arrived",
    "Here is the function I use:\n```python\ndef total(prices: list[float]) -> float:\n"
    "    return round(sum(prices) * 1.2, 2)\n```\nCan you check it?",
]


async def capture(stack: Stack, email: str, password: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page: Any = await (await browser.new_context(viewport=VIEWPORT)).new_page()
        await page.goto(f"{stack.ui}/login")
        await page.get_by_label("E-mail").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.locator("#content").get_by_role("button", name="Log in").click()
        await page.get_by_role("list", name="Agents").get_by_role("listitem").first.wait_for(timeout=30_000)
        await page.mouse.move(5, 790)  # no hover effect on a card
        await page.wait_for_timeout(600)
        await page.screenshot(path=str(OUT / "marketplace.png"))

        cards = page.get_by_role("list", name="Agents").get_by_role("listitem")
        router = cards.filter(has_text="Router")
        await (router if await router.count() else cards).first.get_by_role("link").click()
        await page.get_by_role("button", name="Start chat").click()
        await page.wait_for_url("**/chat/**")
        answers = page.locator(".message-agent:not(.message-live)")
        for n, text in enumerate(CONVERSATION, start=1):
            await page.get_by_label("Message").fill(text)
            await page.get_by_role("button", name="Send").click()
            await answers.nth(n - 1).wait_for(timeout=30_000)
            await page.get_by_role("button", name="Send").wait_for(timeout=30_000)
        steps = page.locator(".run-step > summary")
        if await steps.count():
            await steps.first.click()
        await page.get_by_role("button", name="Rename conversation").click()
        await page.get_by_label("Title").fill("Lost order")
        await page.get_by_role("button", name="Save").click()
        await page.get_by_role("heading", name="Lost order").wait_for()
        await page.set_viewport_size(CHAT_VIEWPORT)
        await page.get_by_label("Message").fill("Thanks, that helps!")
        await page.locator("#chat-scroll").evaluate("el => el.scrollTo(0, el.scrollHeight)")
        await page.wait_for_timeout(600)
        await page.screenshot(path=str(OUT / "chat.png"))
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data dir for agentry up (reuses its UI build)")
    args = parser.parse_args()
    scratch = None if args.data_dir else Path(tempfile.mkdtemp(prefix="agentry-shots-"))
    data_dir = args.data_dir if scratch is None else scratch / "data"
    stack = Stack(data_dir=data_dir, log_path=data_dir.parent / "screenshots-up.log")
    stack.start()
    try:
        stack.ensure_demo()
        email, password = stack.credentials().get("owner", ("web-fixture-owner@example.com", PASSWORD))
        OUT.mkdir(parents=True, exist_ok=True)
        asyncio.run(capture(stack, email, password))
    finally:
        stack.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"wrote {OUT / 'marketplace.png'} and {OUT / 'chat.png'}")


if __name__ == "__main__":
    main()
