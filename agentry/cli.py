"""The ``agentry`` command: each platform process, plus operator tools."""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.console import Console

from backend.settings import get_settings

app = typer.Typer(
    help="Agentry: build, deploy and run AI agents.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)


@app.command()
def up(no_web: bool = typer.Option(False, "--no-web", help="Do not start the web UI.")) -> None:
    """Run the whole platform in the foreground; Ctrl-C stops everything."""
    from agentry.supervisor import Supervisor

    raise typer.Exit(Supervisor(get_settings(), web=not no_web, console=console).run())


@app.command()
def api() -> None:
    """Serve the GraphQL API, health, readiness and metrics endpoints."""
    import uvicorn

    from backend.resources import resolve_urls
    from graph.app import create_app
    from graph.ws_protocol import CoalescingWebSocketProtocol

    settings = get_settings()
    urls = resolve_urls(settings)
    try:
        uvicorn.run(
            create_app(settings, urls),
            host=settings.host,
            port=settings.api_port,
            log_level="warning",
            # Frames written in one loop iteration leave in one system call (graph/ws_protocol.py).
            ws=CoalescingWebSocketProtocol,
            # Run events are small JSON frames: compressing each costs more CPU than it saves bytes.
            ws_per_message_deflate=False,
            # Longer than clients' and load balancers' idle expiry (httpx: 5 s, AWS ALB: 60 s): with
            # uvicorn's default of 5 s, a client reusing a connection just as the server closes it
            # gets a connection error on a request that was never read.
            timeout_keep_alive=65,
            timeout_graceful_shutdown=10,
            lifespan="on",
        )
    finally:
        urls.stop_started()


@app.command()
def worker() -> None:
    """Run an Arq worker: agent runs, schedule ticks, sweeper and maintenance jobs."""
    from backend.resources import resolve_urls
    from jobs.waking import WakingWorker
    from jobs.worker import worker_settings

    settings = get_settings()
    urls = resolve_urls(settings)
    try:
        import uvloop  # the worker is event-loop bound: uvloop cuts its CPU per run

        asyncio.set_event_loop(uvloop.new_event_loop())
    except ImportError:
        pass
    try:
        WakingWorker(**worker_settings(urls)).run()
    finally:
        urls.stop_started()


@app.command()
def web() -> None:
    """Serve the web UI (builds it on first start)."""
    import os

    from agentry import web as web_tier

    settings = get_settings()
    web_tier.build(settings)
    argv, env, cwd = web_tier.command(settings)
    os.chdir(cwd)
    os.execvpe(argv[0], argv, env)  # noqa: S606  (replace this process: signals reach the server)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the latest revision."""
    from backend.db.migrate import upgrade
    from backend.resources import resolve_urls

    urls = resolve_urls(get_settings())
    try:
        with console.status("Applying migrations"):
            upgrade(urls.database_url)
        console.print("[green]Database is up to date.[/green]")
    finally:
        urls.stop_started()


@app.command()
def seed(force: bool = typer.Option(False, help="Seed even when the database has data.")) -> None:
    """Create the demo organisation, users and agents (only on an empty database)."""
    from backend.demo import seed_demo
    from backend.resources import resolve_urls

    settings = get_settings()
    urls = resolve_urls(settings)
    try:
        created = asyncio.run(seed_demo(settings, urls, force=force))
        if not created:
            console.print("Database already has data; nothing seeded.")
            return
        console.print("[green]Demo data created.[/green] Logins (role, e-mail, password):")
        creds = settings.resolved_data_dir / "demo-credentials.txt"
        sys.stdout.write(creds.read_text())
    finally:
        urls.stop_started()


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (the committed graph/schema.graphql)."""
    from graph.schema import export_sdl

    sys.stdout.write(export_sdl())


from agentry.cli_audit import app as audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")

from agentry.cli_keys import app as keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")


def main() -> None:
    app()
