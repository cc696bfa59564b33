"""Real worker processes for fault tests (``python -m agentry worker`` against the test database)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backend.settings import Settings


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.database_url and settings.redis_url and settings.secret_key
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
    env.update(
        {
            "AGENTRY_ENV": "test",
            "PYTHONUNBUFFERED": "1",
            "AGENTRY_DATABASE_URL": settings.database_url,
            "AGENTRY_REDIS_URL": settings.redis_url,
            "AGENTRY_SECRET_KEY": settings.secret_key.get_secret_value(),
            "AGENTRY_DATA_DIR": str(settings.data_dir),
            "AGENTRY_LOG_FORMAT": "json",
            "AGENTRY_LOG_LEVEL": "INFO",
            "AGENTRY_RUN_LEASE_SECONDS": "3",
            "AGENTRY_MODEL_RETRY_BACKOFF": "0.05",
            "AGENTRY_WORKER_CONCURRENCY": "20",
            **extra,
        }
    )
    return env


@contextmanager
def workers(
    settings: Settings, count: int, log_dir: Path, **extra: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            log = open(log_dir / f"worker-{i}.log", "wb")  # noqa: SIM115 (closed with the process)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "agentry", "worker"],
                    env=worker_env(settings, **extra),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(5)
