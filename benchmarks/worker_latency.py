"""Enqueue-to-start latency of the Arq worker (the poll-delay tax every run pays).

Starts an embedded Redis and one `agentry worker` process, enqueues `ping` jobs one at a
time and reports the delay between enqueue and the worker starting the job.
Run: `uv run python benchmarks/worker_latency.py`
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from arq.connections import create_pool

from backend.db.migrate import upgrade
from backend.embedded import ensure_postgres, ensure_redis
from backend.resources import redis_settings
from backend.wakeup import wake

SAMPLES = 300


async def measure(redis_url: str) -> list[float]:
    pool = await create_pool(redis_settings(redis_url))
    delays: list[float] = []
    try:
        job = await pool.enqueue_job("ping")
        assert job is not None
        await job.result(timeout=60)  # worker is up
        for _ in range(SAMPLES):
            job = await pool.enqueue_job("ping")
            assert job is not None
            await wake(pool)
            await job.result(timeout=10, poll_delay=0.002)
            info = await job.result_info()
            assert info is not None
            delays.append((info.start_time - info.enqueue_time).total_seconds() * 1000)
            await asyncio.sleep(0.003)  # desynchronise from the poll loop
    finally:
        await pool.aclose()
    return delays


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agentry-bench-") as tmp:
        data_dir = Path(tmp)
        pg, rd = ensure_postgres(data_dir), ensure_redis(data_dir)
        upgrade(pg.url())  # the worker's own cron jobs (schedule tick, sweeper) need the schema
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
        env.update(
            AGENTRY_DATA_DIR=str(data_dir),
            AGENTRY_DATABASE_URL=pg.url(),
            AGENTRY_REDIS_URL=rd.url(),
            AGENTRY_LOG_LEVEL="WARNING",
        )
        worker = subprocess.Popen([sys.executable, "-m", "agentry", "worker"], env=env)
        try:
            started = time.monotonic()
            delays = asyncio.run(measure(rd.url()))
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            rd.stop()
            pg.stop()
    delays.sort()
    p50 = statistics.median(delays)
    p99 = delays[int(len(delays) * 0.99) - 1]
    print(
        f"enqueue-to-start over {len(delays)} jobs: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(wall {time.monotonic() - started:.1f} s); goal p50 < 50 ms"
    )


if __name__ == "__main__":
    main()
