"""Build and run the web UI (the Reflex project in ``frontend/``) from the main project.

Reflex cannot live in the main environment (it needs ``redis>=6.4``, arq needs ``redis<6``), so this module
only drives ``frontend/.venv`` through subprocesses and imports nothing beyond the stdlib and settings.

Layout under ``<data dir>/web``: Reflex's home (``reflex``, ``xdg``; kept out of ``$HOME``), its disk state
(``states``), and the build work dir (``workdir``: generated sources, ``node_modules``, the exported site and
our build stamp). The build lives in the data dir, not in ``frontend/``, because Reflex bakes the browser's
backend URL (its port) into the JavaScript: two data dirs with different ports must not share one build.

Running: ``command`` returns a launcher (``frontend/serve.py``) that serves the exported UI on
``web_port`` and Reflex's event backend on ``web_backend_port``. Start it with ``start_new_session=True``
and stop it with :func:`stop`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.settings import Settings

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"
PYTHON = FRONTEND / ".venv" / "bin" / "python"
BUN_BIN = FRONTEND / "tools" / "node_modules" / ".bin"
STAMP = "agentry-build.json"
# Inputs of the build besides the app package: config, Python lock, JS lock (committed, kept by Reflex).
BUILD_INPUTS = ("rxconfig.py", "uv.lock", "reflex.lock/package.json", "reflex.lock/bun.lock")
# `reflex export`, not `reflex run --env prod`, which rebuilds on every start (see frontend/serve.py).
EXPORT = ["-m", "reflex", "export", "--frontend-only", "--no-zip", "--env", "prod", "--loglevel", "warning"]
# Variables of the caller's Python that must not leak into the frontend's interpreter.
DROPPED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")


def web_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "web"


def browser_backend_url(settings: Settings) -> str:
    """The Reflex backend URL baked into the build.

    ``localhost`` is a placeholder: Reflex's client swaps it for the page's own hostname, so one build works
    whatever name or address the browser uses. Only the port is really fixed at build time.
    """
    return f"http://localhost:{settings.web_backend_port}"


def environment(settings: Settings) -> dict[str, str]:
    """Environment for every Reflex process (build and serve)."""
    root = web_dir(settings)
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(
        PATH=f"{BUN_BIN}{os.pathsep}{env.get('PATH', os.defpath)}",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_DIR=str(root / "reflex"),
        XDG_DATA_HOME=str(root / "xdg"),
        REFLEX_STATES_WORKDIR=str(root / "states"),
        REFLEX_WEB_WORKDIR=str(root / "workdir"),
        REFLEX_API_URL=browser_backend_url(settings),
        REFLEX_CHECK_LATEST_VERSION="false",
        REFLEX_TELEMETRY_ENABLED="false",
        AGENTRY_API_URL=settings.api_url,
        PYTHONUNBUFFERED="1",
    )
    # Reflex otherwise probes two registries for latency on first use (one is unreachable from many hosts).
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
    return env


def fingerprint(settings: Settings, *, locks: bool = True) -> str:
    """Hash of everything the exported site depends on: sources, assets, locked versions and the baked URL.

    ``locks=False`` leaves out Reflex's JavaScript lock (``reflex.lock/``), which the export itself rewrites
    (reformatted, or completed with packages new components need).
    """
    digest = hashlib.sha256(browser_backend_url(settings).encode())
    sources = [*(FRONTEND / "agentry_web").rglob("*"), *(FRONTEND / "assets").rglob("*")]
    files = sorted(p for p in sources if p.is_file() and "__pycache__" not in p.parts)
    inputs = BUILD_INPUTS if locks else tuple(n for n in BUILD_INPUTS if not n.startswith("reflex.lock/"))
    files += [FRONTEND / name for name in inputs if (FRONTEND / name).exists()]
    for path in files:
        digest.update(str(path.relative_to(FRONTEND)).encode() + b"\0" + _content(path) + b"\0")
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    """File bytes; JSON canonically (Reflex writes its package.json compact or indented, by step)."""
    if path.suffix == ".json":
        try:
            return json.dumps(json.loads(path.read_text()), sort_keys=True).encode()
        except ValueError:
            pass
    return path.read_bytes()


def is_built(settings: Settings) -> bool:
    workdir = web_dir(settings) / "workdir"
    try:
        stamp = json.loads((workdir / STAMP).read_text())
    except (OSError, ValueError):
        return False
    exported = (workdir / "build" / "client" / "index.html").is_file()
    return exported and stamp.get("fingerprint") == fingerprint(settings)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise builds of one data dir (``agentry up`` and a test may race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build(settings: Settings, force: bool = False) -> None:
    """Export the production frontend unless an up-to-date export exists. Raises CalledProcessError."""
    with _locked(web_dir(settings) / "build.lock"):
        if not force and is_built(settings):
            return
        if not PYTHON.exists() or not (BUN_BIN / "bun").exists():
            subprocess.run(["bash", str(FRONTEND / "setup.sh")], check=True, env=environment(settings))
        before = fingerprint(settings, locks=False)
        stamp = web_dir(settings) / "workdir" / STAMP
        stamp.unlink(missing_ok=True)
        started = time.monotonic()
        subprocess.run([str(PYTHON), *EXPORT], cwd=FRONTEND, env=environment(settings), check=True)
        # A source edited during the build leaves no stamp, so the next build redoes it. The stamp includes
        # the lock as the export left it: a later change of the lock (a Reflex upgrade) rebuilds.
        if fingerprint(settings, locks=False) == before:
            seconds = round(time.monotonic() - started, 1)
            stamp.write_text(json.dumps({"fingerprint": fingerprint(settings), "seconds": seconds}))


def command(settings: Settings) -> tuple[list[str], dict[str, str], Path]:
    """argv, env and cwd that serve the built UI in the foreground; raises RuntimeError if not built.

    UI on ``settings.web_port``, Reflex's backend on ``settings.web_backend_port``, both bound to
    ``settings.host``. The process exits 0 on SIGTERM/SIGINT/SIGHUP after stopping its children, and
    non-zero if one of them dies. Start it with ``subprocess.Popen(argv, env=env, cwd=cwd,
    start_new_session=True)`` and stop it with :func:`stop`.
    """
    if not is_built(settings):
        raise RuntimeError("web UI not built for these settings: call agentry.web.build(settings) first")
    argv = [str(PYTHON), str(FRONTEND / "serve.py"), "--host", settings.host]
    argv += ["--port", str(settings.web_port), "--backend-port", str(settings.web_backend_port)]
    return argv, environment(settings), FRONTEND


def stop(process: subprocess.Popen[Any], timeout: float = 15.0) -> int:
    """Stop a process started from :func:`command` (in its own session) and everything it spawned.

    SIGTERM to the launcher lets it shut its servers down gracefully; the final SIGKILL to the process
    group only catches stragglers (e.g. after the launcher itself was killed).
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()
