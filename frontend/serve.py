"""Foreground launcher for the production web tier (``agentry web`` runs it through ``agentry.web.command``).

Reflex 0.10's ``reflex run --env prod`` recompiles and rebuilds the frontend on every start (it needs bun
and a writable ``.web`` at run time, and takes seconds). Instead ``agentry.web.build`` exports the static
frontend once, and this launcher supervises two children, the layout of Reflex's self-hosting guide:

- Reflex's backend: ``reflex run --env prod --backend-only`` (state, events, ``/_event`` websocket);
- the exported static frontend, served by Granian through Reflex's own static mount (pre-compressed files,
  prerendered routes, SPA fallback for dynamic routes).

Stopping: SIGTERM, SIGINT or SIGHUP make the launcher stop both children (SIGTERM, then SIGKILL after a
grace period) and exit 0. If either child dies, the other is stopped and the launcher exits non-zero, so a
supervisor sees one failing process. The children also get SIGTERM if the launcher itself is killed. A
supervisor should start this in its own session and, after it has exited, SIGKILL the process group as a
safety net (``agentry.web.stop`` does both).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from typing import Any

GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies: a killed launcher leaks no server.

    Used for the children only: the launcher itself may be exec'd by ``agentry web`` from a shell, where
    dying with the shell would surprise ``nohup`` users.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def static_app() -> Any:
    """Granian factory for the static frontend (cwd must be the frontend project, where rxconfig.py is)."""
    from reflex.utils.exec import get_frontend_mount
    from starlette.applications import Starlette

    return Starlette(routes=[get_frontend_mount()])


def children(host: str, port: int, backend_port: int) -> list[list[str]]:
    python = sys.executable
    backend = [python, "-m", "reflex", "run", "--env", "prod", "--backend-only"]
    backend += ["--backend-host", host, "--backend-port", str(backend_port)]
    frontend = [python, "-m", "granian", "--interface", "asgi", "--factory", "--no-ws", "--workers", "1"]
    frontend += ["--host", host, "--port", str(port), "--log-level", "warning", "serve:static_app"]
    return [backend, frontend]


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="UI (static frontend) port")
    parser.add_argument("--backend-port", type=int, required=True, help="Reflex backend (events) port")
    args = parser.parse_args(argv)

    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        # Keep an inherited "ignore" (nohup, `&` in scripts): the children inherit it too.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, lambda signum, _frame: stopping.append(signum))

    procs = [
        subprocess.Popen(cmd, preexec_fn=die_with_parent)  # no threads exist yet, so preexec_fn is safe
        for cmd in children(args.host, args.port, args.backend_port)
    ]
    try:
        while not stopping and all(proc.poll() is None for proc in procs):
            time.sleep(0.2)
    finally:
        stop_all(procs)
    if stopping:
        return 0
    failed = [proc.args for proc in procs if proc.returncode]
    print(f"agentry web: a child exited, stopping: {failed}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
