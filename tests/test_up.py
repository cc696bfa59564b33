"""`agentry up` from an empty data dir: ready, stops everything on signals, keeps data."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncpg
import pytest

from backend.embedded.paths import socket_dir
from tests.conftest import free_port


def _env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
    env.update(
        AGENTRY_DATA_DIR=str(data_dir),
        AGENTRY_API_PORT=str(port),
        AGENTRY_LOG_LEVEL="WARNING",
        AGENTRY_WEB_PORT=str(free_port()),
    )
    return env


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"agentry up exited early with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready within {timeout}s")


def _processes_using(data_dir: Path) -> list[str]:
    """Command lines of live processes that mention the data dir (postgres, redis, children)."""
    marker = str(data_dir)
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker in cmdline or marker.encode() in environ:
            found.append(f"{pid}: {cmdline}")
    return found


def _stop(proc: subprocess.Popen[bytes], sig: int) -> float:
    started = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    return time.monotonic() - started


async def _query(data_dir: Path, sql: str) -> object:
    conn = await asyncpg.connect(f"postgresql://postgres@/agentry?host={socket_dir(data_dir) / 'pg'}")
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@pytest.mark.timeout(240)
async def test_up_is_ready_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    cmd = [sys.executable, "-m", "agentry", "up", "--no-web"]
    proc = subprocess.Popen(cmd, env=_env(data_dir, port), stdout=subprocess.DEVNULL)
    try:
        await asyncio.to_thread(_wait_ready, f"http://127.0.0.1:{port}/readyz", proc)
        await _query(data_dir, "CREATE TABLE IF NOT EXISTS persisted_marker (v text)")
        await _query(data_dir, "INSERT INTO persisted_marker VALUES ('kept')")
        elapsed = await asyncio.to_thread(_stop, proc, signal.SIGINT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert elapsed < 30
    assert proc.returncode == 0
    await asyncio.sleep(0.5)
    assert _processes_using(data_dir) == []

    proc = subprocess.Popen(cmd, env=_env(data_dir, port), stdout=subprocess.DEVNULL)
    try:
        await asyncio.to_thread(_wait_ready, f"http://127.0.0.1:{port}/readyz", proc)
        assert await _query(data_dir, "SELECT v FROM persisted_marker") == "kept"
        elapsed = await asyncio.to_thread(_stop, proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert elapsed < 30
    await asyncio.sleep(0.5)
    assert _processes_using(data_dir) == []
