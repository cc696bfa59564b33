"""A schedule ticker in its own OS process, for the two-process exactly-once test.

Reads AGENTRY_DATABASE_URL / AGENTRY_REDIS_URL, prints ``ready``, waits for ``go`` on stdin (so both processes
start together), then ticks in small batches until three ticks in a row claim nothing, and prints a JSON line
with the run ids it created.
"""

from __future__ import annotations

import asyncio
import json
import sys

from backend.resources import ServiceUrls, open_resources
from backend.runs.dispatch import unit_of_work
from backend.schedules.tick import tick
from backend.settings import Settings


async def main(batch: int) -> None:
    settings = Settings()
    assert settings.database_url and settings.redis_url
    resources = await open_resources(settings, ServiceUrls(settings.database_url, settings.redis_url))
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        run_ids: list[str] = []
        idle = ticks = 0
        while idle < 3:
            async with unit_of_work(resources) as session:  # the tick job's own unit of work
                result = await tick(session, limit=batch)
            run_ids += [str(r) for r in result.run_ids]
            ticks += 1
            idle = idle + 1 if result.claimed == 0 else 0
        print(json.dumps({"runs": run_ids, "ticks": ticks}), flush=True)
    finally:
        await resources.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
