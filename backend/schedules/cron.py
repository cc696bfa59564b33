"""Cron arithmetic in a schedule's own time zone, stored and compared in UTC.

Why not hand croniter an aware datetime: croniter's DST handling has varied between releases. We iterate
in *naive local wall-clock time* and convert each candidate with :mod:`zoneinfo` ourselves, so the rules
are ours:

- a wall time that occurs twice (autumn, clocks go back) fires once, at its first occurrence;
- a wall time that does not exist (spring, clocks go forward) fires at the same wall time shifted forward by
  the gap (``02:30`` Europe/Berlin on the last Sunday of March fires at ``03:30`` CEST) — PEP 495 ``fold=0``;
- fire times are strictly increasing in UTC (candidates mapping to or before the previous instant are
  skipped).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

ALIASES = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
# A schedule must fire at least once in this horizon to be accepted (catches "0 0 30 2 *").
HORIZON = timedelta(days=366 * 5)
_MAX_STEPS = 5000  # candidates inspected per computation; DST gaps need at most ~60


class CronError(ValueError):
    """The expression or time zone is unusable; the message is safe to show to the user."""


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # "localtime" would follow the server's clock setting; a schedule must mean the same everywhere.
    return (frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}) | {"UTC"}


def parse_timezone(name: str) -> ZoneInfo:
    """Only IANA names from the tz database (no file paths, no ``localtime``)."""
    if name not in _zones():
        raise CronError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'")
    return ZoneInfo(name)


def normalize_cron(expr: str) -> str:
    """Validates a 5-field expression (or an alias) and returns it with single spaces.

    Six or seven fields would add seconds (or years): schedules fire at most once a minute.
    """
    text = " ".join(expr.split())
    if not text:
        raise CronError("cron expression is empty")
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise CronError(f"unsupported cron alias {text!r}; use one of {', '.join(sorted(ALIASES))}")
        text = text.lower()
    elif len(text.split(" ")) != 5:
        if len(text.split(" ")) in (6, 7):
            raise CronError(
                "schedules fire at most once a minute: use 5 fields (minute hour day month weekday)"
            )
        raise CronError(f"{text!r} is not a cron expression: use 5 fields (minute hour day month weekday)")
    try:
        croniter(text, datetime(2000, 1, 1))
    except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
        raise CronError(f"invalid cron expression {text!r}: {exc}") from exc
    return text


def _local(t: datetime, zone: ZoneInfo) -> datetime:
    return t.astimezone(zone).replace(tzinfo=None)


def _to_utc(naive_local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: first occurrence of a repeated time; a skipped time is read with the pre-gap offset.
    return naive_local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_fire_after(expr: str, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first fire instant (UTC) strictly after ``after``; None when none exists within the horizon."""
    it = croniter(expr, _local(after, zone))
    limit = after + HORIZON
    for _ in range(_MAX_STEPS):
        try:
            candidate = _to_utc(it.get_next(datetime), zone)
        except CroniterBadDateError:
            return None
        if candidate > limit:
            return None
        if candidate > after:
            return candidate
    return None


def last_fire_at_or_before(expr: str, zone: ZoneInfo, at: datetime) -> datetime | None:
    """The latest fire instant (UTC) at or before ``at`` (used to collapse missed fires)."""
    it = croniter(expr, _local(at, zone) + timedelta(microseconds=1))
    for _ in range(_MAX_STEPS):
        try:
            candidate = _to_utc(it.get_prev(datetime), zone)
        except CroniterBadDateError:
            return None
        if candidate <= at:
            return candidate
    return None


def validate(expr: str, timezone: str, *, now: datetime) -> tuple[str, ZoneInfo, datetime]:
    """Normalised expression, zone and first fire time; raises :class:`CronError`."""
    text = normalize_cron(expr)
    zone = parse_timezone(timezone)
    first = next_fire_after(text, zone, now)
    if first is None:
        raise CronError(f"cron expression {text!r} never fires")
    return text, zone, first
