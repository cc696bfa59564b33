"""A third-party integration type, installed as a package, registers through the entry point group."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.db import transaction
from backend.integrations import registry, service
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, run_tools, toolset_for
from tests.integrations.peers import serve

PLUGIN = Path(__file__).parent / "plugin_pkg"


@pytest.fixture(scope="module")
def weather_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``uv pip install --target`` (a real wheel build and install), then put the target on sys.path."""
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("src") / "plugin"
    shutil.copytree(PLUGIN, source)  # the build writes next to the sources: keep the repo clean
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--python",
            sys.executable,
            "--target",
            str(target),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            str(source),
        ],
        check=True,
        timeout=300,
    )
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registry.reload()
    yield
    sys.path.remove(str(target))
    sys.modules.pop("agentry_weather", None)
    importlib.invalidate_caches()
    registry.reload()


async def weather(request: Request) -> Response:
    if request.headers.get("x-key") != "wk-secret-1":
        return JSONResponse({"error": "bad key"}, status_code=403)
    return JSONResponse({"summary": f"sunny in {request.query_params['city']}", "temp": 21.5})


async def test_plugin_registers_and_runs(
    weather_plugin: None, resources: Resources, loopback: Settings, world: World
) -> None:
    kind = registry.get_type("weather")
    described = kind.describe()
    assert described["tools"][0]["name"] == "forecast"
    assert described["tools"][0]["parameters"]["required"] == ["city"]
    assert described["config_schema"]["required"] == ["apiUrl"]
    assert list(described["secrets_schema"]["properties"]) == ["apiKey"]
    async with serve(Starlette(routes=[Route("/weather", weather)])) as url:
        row = await create(
            resources.sessions,
            loopback,
            world.owner,
            world.a,
            "weather",
            "weather",
            {"apiUrl": url},
            {"apiKey": "wk-secret-1"},
        )
        run = await bound_run(resources, world, [row])
        toolset = await toolset_for(resources, loopback, run)
        outcome = await run_tools(toolset, [("forecast", {"city": "Oslo"})])
        assert outcome.contents == [
            {"city": "Oslo", "summary": "sunny in Oslo", "temperature": 21.5, "units": "metric"}
        ]
        async with transaction(resources.sessions) as s:
            assert (await service.check_integration(s, world.owner, loopback, row.id)).ok
    await asyncio.sleep(0)


def test_builtins_come_from_the_same_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group=registry.GROUP)}
    assert {
        "http",
        "sql",
        "email",
        "slack",
        "webhook",
        "mcp",
        "openai",
        "anthropic",
        "openai_compatible",
    } <= names
    assert set(registry.all_types()) >= names - {"weather"}
