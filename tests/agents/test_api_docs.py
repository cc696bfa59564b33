"""docs/api.md's quickstarts run as written against a live server and a worker (docs cannot rot)."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.runtime.harness import running_worker

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def block(marker: str) -> str:
    match = re.search(rf"<!-- quickstart:{marker} -->\n```\w+\n(.*?)\n```", DOC.read_text(), re.S)
    assert match, f"no quickstart:{marker} block in docs/api.md"
    return match.group(1)


@pytest.fixture
async def server(app: Any, live_server: str) -> AsyncIterator[str]:
    async with running_worker(app.state.resources):
        yield live_server


async def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{out.decode()}\nstderr:\n{err.decode()}"
    return out.decode()


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
async def test_curl_quickstart(server: str) -> None:
    out = await run(
        ["bash", "-c", block("bash")], {"AGENTRY_URL": server, "EMAIL": f"{secrets.token_hex(4)}@example.com"}
    )
    assert '"name": "Trip Planner"' in out
    assert out.strip().splitlines()[-1].startswith("echo: Two weeks in Kyoto in April?")


async def _key(server: str) -> tuple[str, str]:
    async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
        assert not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]

    async with httpx.AsyncClient(base_url=server) as client:
        token = (
            await gql(
                client,
                "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                i={
                    "email": f"{secrets.token_hex(4)}@example.com",
                    "password": "a long passphrase!",
                    "displayName": "Integrator",
                },
            )
        )["signUp"]["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        org = (
            await gql(
                client,
                "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
                i={"name": "Docs", "slug": f"docs-{secrets.token_hex(3)}"},
            )
        )["createOrganization"]["id"]
        key = await gql(
            client,
            "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
            i={"organizationId": org, "name": "docs", "scopes": ["agents:write", "runs:write"]},
        )
    return key["createApiKey"]["secret"], org


async def test_python_quickstart(server: str, tmp_path: Path) -> None:
    key, org = await _key(server)
    script = tmp_path / "quickstart.py"
    script.write_text(block("python"))
    out = await run(
        [sys.executable, str(script)], {"AGENTRY_URL": server, "AGENTRY_API_KEY": key, "AGENTRY_ORG_ID": org}
    )
    assert "best match: Invoice Helper" in out
    assert "answer: echo: Which invoices are overdue?" in out
