"""The real platform for the browser tests and ``benchmarks/ui.py``: ``agentry up`` plus demo data.

``Stack.start`` runs ``python -m agentry up`` (embedded PostgreSQL and Redis, migrations, seed, API, worker,
web UI) on free ports and waits for ``/readyz`` and the UI. ``ensure_demo`` makes sure there is something to
find and talk to: it uses the seeded demo agents when ``agentry seed`` created them, and otherwise creates a
demo organisation and agents through the public GraphQL API (like any integrator would).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 600.0  # the first start builds the web UI (bun install + export)
PASSWORD = "correct horse battery staple"

DEMO_AGENTS = [
    {
        "name": "Travel Planner",
        "slug": "travel-planner",
        "category": "Travel",
        "icon": "🧭",
        "description": "Plans trips: itineraries, packing lists and local tips for any city.",
        "examplePrompts": ["Plan a weekend in Lisbon", "What should I pack for Iceland in March?"],
        "tags": ["travel", "planning"],
    },
    {
        "name": "Code Reviewer",
        "slug": "code-reviewer",
        "category": "Engineering",
        "icon": "🧑‍💻",
        "description": "Reviews code snippets and explains bugs, with fixes in Markdown code blocks.",
        "examplePrompts": ["Review this Python function", "Explain this stack trace"],
        "tags": ["code", "review"],
    },
    {
        "name": "Support Triage",
        "slug": "support-triage",
        "category": "Support",
        "icon": "🎧",
        "description": "Sorts incoming support requests by urgency and drafts first replies.",
        "examplePrompts": ["Triage this ticket: the app crashes on login"],
        "tags": ["support"],
    },
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Stack:
    data_dir: Path
    log_path: Path
    api_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    web_backend_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
        env.update(
            AGENTRY_DATA_DIR=str(self.data_dir),
            AGENTRY_API_PORT=str(self.api_port),
            AGENTRY_WEB_PORT=str(self.web_port),
            AGENTRY_WEB_BACKEND_PORT=str(self.web_backend_port),
            AGENTRY_LOG_LEVEL="WARNING",
        )
        return env

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentry", "up"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        for url in (f"{self.api}/readyz", f"{self.ui}/", f"http://127.0.0.1:{self.web_backend_port}/ping"):
            while not _http_ok(url):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"agentry up exited with {self.proc.returncode}; see {self.log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready after {READY_TIMEOUT}s; see {self.log_path}")
                time.sleep(0.25)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    # --- GraphQL, as an integrator would call it ------------------------------------------------------

    def gql_body(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The whole GraphQL response (data and errors)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.api}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )
        return dict(response.json())

    def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = self.gql_body(query, variables, token)
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return dict(body["data"])

    def log_in(self, email: str, password: str = PASSWORD) -> str:
        data = self.gql(
            "mutation($i: LogInInput!){ logIn(input: $i){ token } }",
            {"i": {"email": email, "password": password}},
        )
        return str(data["logIn"]["token"])

    def sign_up(self, email: str, name: str, password: str = PASSWORD) -> str:
        data = self.gql(
            "mutation($i: SignUpInput!){ signUp(input: $i){ token } }",
            {"i": {"email": email, "password": password, "displayName": name}},
        )
        return str(data["signUp"]["token"])

    def credentials(self) -> dict[str, tuple[str, str]]:
        """``role -> (email, password)`` from ``<data dir>/demo-credentials.txt`` (empty when not seeded)."""
        path = self.data_dir / "demo-credentials.txt"
        if not path.exists():
            return {}
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        return {row[0]: (row[1], row[2]) for row in rows if len(row) >= 3}

    def ensure_demo(self) -> None:
        """Public demo agents on the offline model, created through the API unless the seed made some."""
        owner = "web-fixture-owner@example.com"
        try:
            token = self.sign_up(owner, "Demo Owner")
        except AssertionError:  # called before on this data dir
            token = self.log_in(owner)
        listed = self.gql("{ marketplace(first: 50) { edges { node { name } } } }", token=token)
        names = {e["node"]["name"] for e in listed["marketplace"]["edges"]}
        if names:
            return
        org = self.gql(
            "mutation($i: CreateOrganizationInput!){ createOrganization(input: $i){ id } }",
            {"i": {"name": "Demo Co", "slug": "demo-co"}},
            token,
        )["createOrganization"]["id"]
        for spec in DEMO_AGENTS:
            agent = {
                **spec,
                "organizationId": org,
                "model": "offline",
                "instructions": f"You are {spec['name']}. Be brief and helpful.",
            }
            agent_id = self.gql(
                "mutation($i: CreateAgentInput!){ createAgent(input: $i){ id } }", {"i": agent}, token
            )["createAgent"]["id"]
            version = self.gql(
                "mutation($i: PublishAgentVersionInput!){ publishAgentVersion(input: $i){ id } }",
                {"i": {"agentId": agent_id, "changelog": "First version"}},
                token,
            )
            self.gql(
                "mutation($i: DeployAgentInput!){ deployAgent(input: $i){ id } }",
                {"i": {"versionId": version["publishAgentVersion"]["id"], "visibility": "PUBLIC"}},
                token,
            )
