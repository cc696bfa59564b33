"""Embedded services: shared per data dir, restartable after a crash (stale pid files)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from backend.embedded import ensure_postgres, ensure_redis
from backend.embedded.paths import pid_alive


def _wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


async def test_services_are_shared_and_survive_a_crash(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    data_dir.mkdir()
    pg = ensure_postgres(data_dir)
    rd = ensure_redis(data_dir)
    try:
        assert pg.started and rd.started
        # A second process of the same data dir joins instead of starting another server.
        assert not ensure_postgres(data_dir).started
        assert not ensure_redis(data_dir).started

        redis = Redis.from_url(rd.url())
        assert (await redis.config_get("appendonly"))["appendonly"] == "yes"
        assert (await redis.config_get("maxmemory-policy"))["maxmemory-policy"] == "noeviction"
        assert (await redis.config_get("port"))["port"] == "0"  # unix socket only
        await redis.set("k", "v")
        await redis.aclose()

        conn = await asyncpg.connect(pg.url().replace("+asyncpg", ""))
        assert await conn.fetchval("SHOW listen_addresses") == ""
        await conn.execute("CREATE TABLE t (v int)")
        await conn.execute("INSERT INTO t VALUES (42)")
        await conn.close()

        # Simulate a crash: SIGKILL leaves postmaster.pid and redis.pid behind.
        pg_pid = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
        rd_pid = int((rd.directory / "redis.pid").read_text())
        await _sleep_for_aof()
        os.kill(pg_pid, signal.SIGKILL)
        os.kill(rd_pid, signal.SIGKILL)
        _wait_dead(pg_pid)
        _wait_dead(rd_pid)

        pg = ensure_postgres(data_dir)
        rd = ensure_redis(data_dir)
        assert pg.started and rd.started
        conn = await asyncpg.connect(pg.url().replace("+asyncpg", ""))
        assert await conn.fetchval("SELECT v FROM t") == 42
        await conn.close()
        redis = Redis.from_url(rd.url())
        assert await redis.get("k") == b"v"  # AOF replayed
        await redis.aclose()
    finally:
        pg.stop()
        rd.stop()


async def _sleep_for_aof() -> None:
    import asyncio

    await asyncio.sleep(1.2)  # appendfsync everysec
