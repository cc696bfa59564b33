"""Arq worker settings: the task registry and latency tuning.

The worker is :class:`jobs.waking.WakingWorker`: it starts a job as soon as its enqueuer
publishes a wake-up (a few milliseconds), and otherwise polls every ``IDLE_POLL_S``. Domain
modules contribute functions and cron jobs through ``FUNCTIONS`` and ``CRON_JOBS``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob

from backend.logging import configure_logging, log
from backend.resources import Resources, ServiceUrls, open_resources, redis_settings, resolve_urls
from backend.runtime.http1 import close_pools
from backend.runtime.providers import load_sdks
from backend.settings import get_settings
from jobs.runs import RUN_CRON_JOBS, RUN_FUNCTIONS
from jobs.schedules import CRON_JOBS as SCHEDULE_CRON_JOBS
from jobs.waking import IDLE_POLL_S

FUNCTIONS: list[Any] = [*RUN_FUNCTIONS]
CRON_JOBS: list[CronJob] = [*RUN_CRON_JOBS, *SCHEDULE_CRON_JOBS]


async def ping(ctx: dict[str, Any]) -> str:
    """Liveness probe job: lets tests and benchmarks measure enqueue-to-start latency."""
    return "pong"


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_renderer, settings.log_level)
    urls: ServiceUrls | None = ctx.get("service_urls")
    ctx["resources"] = await open_resources(settings, urls)
    # Provider SDKs load in the background: offline runs start at once, provider runs await them.
    ctx["sdk_warmup"] = asyncio.create_task(load_sdks())
    log.info("worker.started")


async def shutdown(ctx: dict[str, Any]) -> None:
    resources: Resources | None = ctx.get("resources")
    if resources is not None:
        await resources.close()
    close_pools()  # model providers' keep-alive connections
    log.info("worker.stopped")


def worker_settings(urls: ServiceUrls | None = None) -> dict[str, Any]:
    """Keyword arguments for :class:`jobs.waking.WakingWorker` (an :class:`arq.Worker`)."""
    settings = get_settings()
    urls = urls or resolve_urls(settings)
    rs: RedisSettings = redis_settings(urls.redis_url)
    return {
        "functions": [ping, *FUNCTIONS],
        "cron_jobs": CRON_JOBS,
        "redis_settings": rs,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "poll_delay": IDLE_POLL_S,
        "max_jobs": settings.worker_concurrency,
        "job_timeout": 3600,
        "keep_result": 60,
        "handle_signals": True,
        "ctx": {"service_urls": urls},
        # On SIGTERM, running jobs get this long to finish; leases cover anything cut off.
        "job_completion_wait": 15,
    }
