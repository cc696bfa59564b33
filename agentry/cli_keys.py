"""``agentry keys``: the integration-secret key ring (status, rotation)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from rich.console import Console

from backend.settings import Settings, get_settings

app = typer.Typer(help="Integration secret keys.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


async def _with_sessions(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from backend.db import create_engine, create_sessionmaker
    from backend.resources import resolve_urls

    urls = resolve_urls(settings)
    engine = create_engine(urls.database_url, pool_size=2)
    try:
        return await work(create_sessionmaker(engine))
    finally:
        await engine.dispose()
        urls.stop_started()


@app.command()
def rotate() -> None:
    """Add a key generation and re-encrypt every integration secret with it (safe to re-run)."""
    from backend.integrations.keys import rotate as rotate_keys

    settings = get_settings()
    report = asyncio.run(_with_sessions(settings, lambda sessions: rotate_keys(sessions, settings)))
    before = ", ".join(f"{k}: {v}" for k, v in sorted(report.by_kid_before.items())) or "none"
    sys.stdout.write(
        f"OK: now encrypting with {report.kid}; re-encrypted {report.reencrypted} integrations "
        f"in {report.organizations} organisations (before: {before})\n"
    )


@app.command()
def status() -> None:
    """Show the current key id and how many integrations each key protects."""
    from backend.integrations.keys import current_generation, key_usage, kid_for

    async def work(sessions: Any) -> tuple[str, dict[str, int]]:
        async with sessions() as session:
            return kid_for(await current_generation(session)), await key_usage(session)

    kid, usage = asyncio.run(_with_sessions(get_settings(), work))
    sys.stdout.write(f"current key: {kid}\n")
    for key, count in sorted(usage.items()):
        sys.stdout.write(f"{key}: {count}\n")
