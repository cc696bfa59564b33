"""What one tick does with a due schedule: which fire time to run now and when it is due next.

Pure (no I/O), so the policy is unit-tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.models import Schedule
from backend.schedules.cron import last_fire_at_or_before, next_fire_after, parse_timezone
from backend.schedules.schemas import MisfirePolicy

# A fire this late is still "on time" (tick latency, a worker restart); later than this it was *missed*.
MISFIRE_GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Plan:
    fire_time: datetime | None  # the one fire to run now, if any
    next_fire_at: datetime | None
    missed: bool


def plan(schedule: Schedule, now: datetime) -> Plan:
    """Collapses every fire time in ``[next_fire_at, now]`` into at most one run.

    The latest due fire time runs when it is on time (within :data:`MISFIRE_GRACE`); older ones were missed.
    ``skip`` drops missed fires; ``catch_up_once`` runs once (as the latest due fire time) for all of them.
    """
    assert schedule.next_fire_at is not None
    zone = parse_timezone(schedule.timezone)
    due = schedule.next_fire_at
    latest = max(last_fire_at_or_before(schedule.cron, zone, now) or due, due)
    on_time = now - latest <= MISFIRE_GRACE
    missed = latest != due or not on_time
    catch_up = schedule.misfire_policy == MisfirePolicy.CATCH_UP_ONCE
    return Plan(latest if on_time or catch_up else None, next_fire_after(schedule.cron, zone, now), missed)
