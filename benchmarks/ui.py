"""Web UI latency, measured in a real browser (headless Chromium) against the real platform.

Figures (medians over ``--runs``; the first, cold-cache visit is reported apart):
- marketplace first render: first contentful paint of ``/marketplace``, from navigation start;
- marketplace interactive: until the agent cards are on screen and the search box takes input (the page's
  state is hydrated over Reflex's websocket and its ``on_load`` fetched the listings);
- search to results: from the last keystroke in the search box to the new results on screen (includes the
  250 ms typing debounce, reported separately too);
- send to first token: from pressing Enter in the chat to the first streamed characters of the answer
  (offline model: ``sendMessage``, the worker picking the run up, ``runEvents`` to Reflex to the page).

Goals: marketplace interactive < 1.5 s on localhost, first token < 300 ms.

Run: ``uv run python benchmarks/ui.py`` (starts ``agentry up`` in a temp data dir; the first start builds
the UI) or ``--data-dir DIR`` to keep that build between runs, or ``--ui URL --api URL`` for a running
platform (then ``--email``/``--password`` of a user who may use the searched agent).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.web.stack import PASSWORD, Stack

GOALS = {"marketplace interactive": 1500.0, "send to first token": 300.0}
DEBOUNCE_MS = 250
SEARCH_TERM = "memory"

# Records, inside the page, when the first characters of a streamed answer appear.
WATCH_TOKENS = """() => {
  window.__firstToken = null; window.__sent = null;
  const box = document.getElementById('chat-message');
  box.addEventListener('keydown', e => { if (e.key === 'Enter') window.__sent = performance.now(); },
                       {once: true});
  new MutationObserver((_, obs) => {
    const live = document.querySelector('.message-live .bubble');
    if (live && live.textContent.trim()) { window.__firstToken = performance.now(); obs.disconnect(); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


async def marketplace_visit(context: Any, ui: str) -> tuple[float, float]:
    """(first contentful paint, interactive) in ms for one fresh visit of the marketplace."""
    page = await context.new_page()
    await page.goto(f"{ui}/marketplace", wait_until="commit")
    await page.get_by_role("list", name="Agents").get_by_role("listitem").first.wait_for(timeout=30_000)
    await page.get_by_label("Search agents").wait_for(state="visible")
    interactive = await page.evaluate("() => performance.now()")
    await page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
    paint = await page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
    await page.close()
    return float(paint), float(interactive)


async def search_latency(page: Any, term: str) -> float:
    """ms from the last keystroke to results for ``term`` (the summary line names the search)."""
    search = page.get_by_label("Search agents")
    await search.fill("")
    await page.get_by_text(" agents").first.wait_for()
    await page.wait_for_timeout(DEBOUNCE_MS * 2)
    await search.fill(term[:-1])
    await page.get_by_text(f"“{term[:-1]}”").wait_for(timeout=30_000)  # events of one tab run in order
    await page.wait_for_timeout(300)  # let that search's trailing updates (URL sync) finish
    started = time.perf_counter()
    await search.press(term[-1])
    await page.get_by_text(f"“{term}”").wait_for(timeout=30_000)
    await page.get_by_role("list", name="Agents").wait_for()
    return (time.perf_counter() - started) * 1000


async def first_token(page: Any, text: str) -> float:
    await page.evaluate(WATCH_TOKENS)
    box = page.get_by_label("Message")
    await box.fill(text)
    await box.press("Enter")
    await page.wait_for_function("() => window.__firstToken !== null", timeout=30_000)
    value = await page.evaluate("() => window.__firstToken - window.__sent")
    await page.get_by_role("button", name="Send").wait_for(timeout=30_000)  # the answer finished
    return float(value)


def summary(name: str, values: list[float], cold: float | None = None) -> str:
    median = statistics.median(values)
    line = f"{name:<34} median {median:7.0f} ms   min {min(values):6.0f}   max {max(values):6.0f}"
    if cold is not None:
        line += f"   (cold first visit {cold:.0f} ms)"
    goal = GOALS.get(name)
    if goal is not None:
        line += f"   goal < {goal:.0f} ms: {'met' if statistics.median(values) < goal else 'MISSED'}"
    return line


async def measure(ui: str, api_token: str, runs: int) -> list[str]:
    from playwright.async_api import async_playwright

    host = ui.split("//", 1)[1].split(":")[0].split("/")[0]
    cookie = {
        "name": "agentry_session",
        "value": api_token,
        "domain": host,
        "path": "/",
        "sameSite": "Strict",
    }
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=VIEWPORT)
        await context.add_cookies(cast(Any, [cookie]))
        cold_paint, cold_interactive = await marketplace_visit(context, ui)
        visits = [await marketplace_visit(context, ui) for _ in range(runs)]

        page = await context.new_page()
        await page.goto(f"{ui}/marketplace")
        await page.get_by_role("list", name="Agents").wait_for()
        searches = [await search_latency(page, SEARCH_TERM) for _ in range(runs)]

        first = page.get_by_role("list", name="Agents").get_by_role("listitem").first
        await first.get_by_role("link").click()
        await page.wait_for_url("**/agents/**")
        await page.get_by_role("button", name="Start chat").click()
        await page.wait_for_url("**/chat/**")
        await page.get_by_label("Message").wait_for()
        await first_token(page, "warm-up")
        tokens = [await first_token(page, f"Benchmark message {n}") for n in range(runs)]
        await browser.close()
    return [
        summary("marketplace first render", [p for p, _ in visits], cold_paint),
        summary("marketplace interactive", [i for _, i in visits], cold_interactive),
        summary("search to results", searches),
        summary("search to results - debounce", [s - DEBOUNCE_MS for s in searches]),
        summary("send to first token", tokens),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--data-dir", type=Path, help="data dir to start the platform in (reuses its UI build)"
    )
    parser.add_argument("--ui", help="URL of a running web UI (with --api)")
    parser.add_argument("--api", help="URL of its API")
    parser.add_argument("--email", default="web-fixture-owner@example.com")
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2

    stack: Stack | None = None
    scratch: Path | None = None
    if args.ui and args.api:
        api_port = int(args.api.rsplit(":", 1)[1].split("/")[0])
        probe = Stack(
            data_dir=Path(tempfile.gettempdir()),
            log_path=Path(tempfile.gettempdir()) / "ui.log",
            api_port=api_port,
        )
        token, ui = probe.log_in(args.email, args.password), args.ui.rstrip("/")
    else:
        if args.data_dir is None:
            scratch = Path(tempfile.mkdtemp(prefix="agentry-ui-bench-"))
        data_dir = args.data_dir if scratch is None else scratch / "data"
        stack = Stack(data_dir=data_dir, log_path=data_dir.parent / "ui-bench-up.log")
        started = time.monotonic()
        print(f"starting agentry up in {data_dir} (the first start builds the UI)...", flush=True)
        stack.start()
        print(f"platform ready in {time.monotonic() - started:.1f} s", flush=True)
        stack.ensure_demo()
        token, ui = stack.log_in(args.email, args.password), stack.ui
    try:
        lines = asyncio.run(measure(ui, token, args.runs))
    finally:
        if stack is not None:
            stack.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nWeb UI latency ({args.runs} runs, headless Chromium, {ui})")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
