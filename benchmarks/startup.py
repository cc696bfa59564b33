"""Start-to-ready time of `agentry up --no-web`: cold (empty data dir) and warm (second start).

Ready means: `/readyz` answers 200 (API, PostgreSQL, Redis) and a worker has executed a job.
Run: `uv run python benchmarks/startup.py`
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from arq.connections import create_pool

from backend.embedded.paths import socket_dir
from backend.resources import redis_settings
from backend.wakeup import wake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310
            return bool(r.status == 200)
    except OSError:
        return False


async def _worker_ready(data_dir: Path, deadline: float) -> None:
    pool = await create_pool(redis_settings(f"unix://{socket_dir(data_dir) / 'redis.sock'}"))
    try:
        job = await pool.enqueue_job("ping")
        assert job is not None
        await wake(pool)  # as the platform's own enqueues do: no wait for the worker's idle poll
        await job.result(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        await pool.aclose()


def start_once(data_dir: Path) -> float:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
    env.update(AGENTRY_DATA_DIR=str(data_dir), AGENTRY_API_PORT=str(port), AGENTRY_LOG_LEVEL="WARNING")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentry", "up", "--no-web"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        deadline = started + 120
        while not _api_ready(f"http://127.0.0.1:{port}/readyz"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("platform did not become ready")
            time.sleep(0.02)
        asyncio.run(_worker_ready(data_dir, deadline))
        return time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agentry-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        cold = start_once(data_dir)
        warm = [start_once(data_dir) for _ in range(3)]
    print(f"cold start to ready (initdb, migrations, seed, API, worker): {cold:.2f} s")
    best, median = min(warm), sorted(warm)[1]
    print(f"warm start to ready (API + worker), best/median of 3: {best:.2f} s / {median:.2f} s")
    print("goal: warm start under 5 s")


if __name__ == "__main__":
    main()
