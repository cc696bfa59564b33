"""``agentry up``: embedded services, migrations, demo data, then API, worker and web.

The supervisor owns the embedded PostgreSQL and Redis it starts and passes their URLs
to the children, so children never manage them. Each child runs in its own process
group; on SIGINT/SIGTERM every group gets SIGTERM, then SIGKILL after a grace period,
and finally the embedded services stop: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backend.embedded.urls import ServiceUrls, resolve_urls
from backend.schema_version import database_state, head_revision
from backend.settings import Settings

GRACE_S = 20.0
MAX_RESTARTS = 5


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, start_new_session=True)
        self.started_at = time.monotonic()

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)


class Supervisor:
    def __init__(self, settings: Settings, *, web: bool, console: Console) -> None:
        self.settings = settings
        self.web = web
        self.console = console
        self.children: list[Child] = []
        self.stopping = False

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        urls: ServiceUrls | None = None
        try:
            with self.console.status("Starting PostgreSQL and Redis"):
                urls = resolve_urls(self.settings)
            # API and worker import for a few seconds; migrating meanwhile overlaps the two.
            # /readyz stays 503 until the schema is at the latest revision.
            self._spawn(urls, web=False)
            self._prepare(urls)
            if self.stopping:
                return 0
            if self.web:
                self._spawn(urls, web=True)
            self._wait_ready()
            self._banner()
            return self._watch()
        except KeyboardInterrupt:
            return 0
        finally:
            self._stop_children()
            if urls is not None:
                with self.console.status("Stopping embedded services"):
                    urls.stop_started()
            self.console.print("[dim]Agentry stopped.[/dim]")

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.console.print(f"\n[yellow]Received {signal.Signals(signum).name}, stopping...[/yellow]")

    def _prepare(self, urls: ServiceUrls) -> None:
        # A warm start has nothing to migrate or seed: find out without importing either.
        revision, has_users = asyncio.run(database_state(urls.database_url))
        if revision != head_revision():
            from backend.db.migrate import upgrade

            with self.console.status("Applying migrations"):
                upgrade(urls.database_url)
        if not has_users:
            from backend.demo import seed_demo

            with self.console.status("Creating demo data"):
                created = asyncio.run(seed_demo(self.settings, urls))
            if created:
                self.console.print("[green]Demo data created.[/green]")
        if self.web:
            from agentry import web as web_tier

            with self.console.status("Building the web UI (first start only)"):
                web_tier.build(self.settings)

    def _spawn(self, urls: ServiceUrls, *, web: bool) -> None:
        if web:
            from agentry import web as web_tier

            argv, web_env, cwd = web_tier.command(self.settings)
            new = [Child("web", argv, web_env, cwd)]  # its own environment (separate venv)
        else:
            env = dict(os.environ)
            env.update(
                AGENTRY_DATABASE_URL=urls.database_url,
                AGENTRY_REDIS_URL=urls.redis_url,
                AGENTRY_DATA_DIR=str(self.settings.resolved_data_dir),
            )
            exe = [sys.executable, "-m", "agentry"]
            new = [Child("api", [*exe, "api"], env), Child("worker", [*exe, "worker"], env)]
        for child in new:
            child.start()
        self.children.extend(new)

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        targets = [f"{self.settings.api_url}/readyz"] + ([self.settings.web_url] if self.web else [])
        with self.console.status("Waiting for the API" + (" and web UI" if self.web else "")):
            for url in targets:
                while not self.stopping and time.monotonic() < deadline:
                    if _http_ok(url):
                        break
                    time.sleep(0.1)

    def _banner(self) -> None:
        if self.stopping:
            return
        table = Table(title="Agentry is running", show_header=False)
        if self.web:
            table.add_row("Web UI", self.settings.web_url)
        table.add_row("GraphQL API", f"{self.settings.api_url}/graphql")
        table.add_row("Readiness", f"{self.settings.api_url}/readyz")
        table.add_row("Metrics", f"{self.settings.api_url}/metrics")
        creds = self.settings.resolved_data_dir / "demo-credentials.txt"
        if creds.exists():
            for line in creds.read_text().splitlines():
                role, email, password = [*line.split(), "", "", ""][:3]
                table.add_row(f"demo {role}", f"{email}  /  {password}")
        self.console.print(table)
        self.console.print("[dim]Press Ctrl-C to stop.[/dim]")

    def _watch(self) -> int:
        while not self.stopping:
            for child in self.children:
                assert child.proc is not None
                code = child.proc.poll()
                if code is None or self.stopping:
                    continue
                if child.restarts >= MAX_RESTARTS:
                    self.console.print(f"[red]{child.name} keeps exiting (code {code}); giving up.[/red]")
                    return 1
                child.restarts += 1
                self.console.print(f"[yellow]{child.name} exited with {code}; restarting.[/yellow]")
                time.sleep(min(2**child.restarts * 0.1, 5))
                child.start()
            time.sleep(0.2)
        return 0

    def _stop_children(self) -> None:
        for child in self.children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.signal(signal.SIGKILL)
                child.proc.wait(timeout=5)
            child.signal(signal.SIGKILL)  # stragglers left in the group


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own loopback URL)
            return bool(response.status == 200)
    except OSError:
        return False
