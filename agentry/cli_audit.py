"""``agentry audit``: verify the hash chains and export an organisation's log."""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.console import Console

from backend.settings import get_settings

app = typer.Typer(help="Audit log tools.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


async def _with_session(coro_factory):  # type: ignore[no-untyped-def]
    from backend.db import create_engine, create_sessionmaker
    from backend.resources import resolve_urls

    urls = resolve_urls(get_settings())
    engine = create_engine(urls.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return await coro_factory(session)
    finally:
        await engine.dispose()
        urls.stop_started()


async def _org_id(session, slug: str | None):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from backend.models import Organization

    if slug is None:
        return None
    org_id = (await session.scalars(select(Organization.id).where(Organization.slug == slug))).first()
    if org_id is None:
        console.print(f"[red]No organisation with slug {slug!r}[/red]")
        raise typer.Exit(2)
    return org_id


@app.command()
def verify(
    org: str | None = typer.Option(None, "--org", help="Only this organisation's chain (slug)."),
) -> None:
    """Re-compute the hash chains; exit 1 naming the first broken event."""
    from backend.audit import verify_chain

    async def run(session):  # type: ignore[no-untyped-def]
        return await verify_chain(session, await _org_id(session, org))

    broken = asyncio.run(_with_session(run))
    if broken is not None:
        console.print(f"[red]Audit chain broken at {broken.describe()}[/red]")
        sys.stdout.write(
            f"BROKEN {broken.event_id or '-'} chain={broken.chain} seq={broken.seq}: {broken.reason}\n"
        )
        raise typer.Exit(1)
    sys.stdout.write("OK: audit chains verified\n")


@app.command()
def export(org: str = typer.Option(..., "--org", help="Organisation slug.")) -> None:
    """Print the organisation's audit events as JSON Lines (oldest first)."""
    from backend.audit import export_jsonl

    async def run(session):  # type: ignore[no-untyped-def]
        async for line in export_jsonl(session, await _org_id(session, org)):
            sys.stdout.write(line)

    asyncio.run(_with_session(run))
