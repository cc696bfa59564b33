"""Web tier smoke test: build the Reflex UI, serve it like `agentry web`, open it in Chromium, stop it.

A stub HTTP server stands in for the API (only ``/healthz`` is needed), so this needs neither PostgreSQL
nor Redis. Skipped without Debian's Chromium (CI installs it) or the ``playwright`` package.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agentry import web
from backend.settings import Settings

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

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HealthyApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/healthz"
        body = json.dumps({"status": "ok"} if ok else {"error": "not found"}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub_api() -> Iterator[ThreadingHTTPServer]:
    """A healthy API; the test shuts it down midway to see the UI report it unreachable."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), HealthyApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds until ``url`` answers 200; fails early if the server process dies."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, f"web server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_first_page_shows_product_and_api_health(tmp_path: Path, stub_api: ThreadingHTTPServer) -> None:
    async_playwright = pytest.importorskip("playwright.async_api").async_playwright
    settings = Settings(
        data_dir=tmp_path / "data",
        host="127.0.0.1",
        web_port=free_port(),
        web_backend_port=free_port(),
        public_api_url=f"http://127.0.0.1:{stub_api.server_address[1]}",
    )
    await asyncio.to_thread(web.build, settings)
    assert web.is_built(settings)

    argv, env, cwd = web.command(settings)
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "web-smoke.log").open("wb")
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        ui = f"http://127.0.0.1:{settings.web_port}"
        await asyncio.to_thread(wait_http, ui + "/", proc)
        await asyncio.to_thread(wait_http, f"http://127.0.0.1:{settings.web_backend_port}/ping", proc)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(ui + "/")
            await page.get_by_role("heading", name="Agentry", exact=True).first.wait_for()
            # Proves the whole path: browser -> Reflex websocket -> state -> httpx -> the API's /healthz.
            await page.get_by_text("API: healthy").wait_for(timeout=30_000)
            await page.screenshot(path=str(ARTIFACTS / "web-home.png"), full_page=True)
            stub_api.shutdown()
            stub_api.server_close()
            await page.reload()
            await page.get_by_text("API: unreachable").wait_for(timeout=30_000)
            await page.goto(ui + "/login")
            await page.get_by_role("heading", name="Log in").wait_for()
            # A signed-out visitor of a page that needs a session lands on the login page (next: way back).
            await page.goto(ui + "/marketplace")
            await page.wait_for_url(re.compile(r".*/login\?next=/marketplace/?$"))
            await page.get_by_role("heading", name="Log in").wait_for()
            await browser.close()

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 20) == 0
        deadline = time.monotonic() + 5
        while group_alive(proc.pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not group_alive(proc.pid), "processes of the web server's group outlived it"
    finally:
        web.stop(proc)
        log.close()
