"""Cron validation and DST-correct fire times (pure functions, no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from backend.errors import Invalid
from backend.models import Schedule
from backend.schedules.cron import (
    CronError,
    last_fire_at_or_before,
    next_fire_after,
    parse_timezone,
    validate,
)
from backend.schedules.misfire import MISFIRE_GRACE, plan
from backend.schedules.schemas import CreateScheduleInput, parse

BERLIN = parse_timezone("Europe/Berlin")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def fires(expr: str, start: datetime, n: int) -> list[datetime]:
    out, t = [], start
    for _ in range(n):
        nxt = next_fire_after(expr, BERLIN, t)
        assert nxt is not None
        out.append(nxt)
        t = nxt
    return out


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("61 * * * *", "invalid cron expression"),
        ("every tuesday", "not a cron expression"),
        ("* * * * * *", "at most once a minute"),
        ("*/10 * * * * * *", "at most once a minute"),
        ("@reboot", "unsupported cron alias"),
        ("0 0 30 2 *", "never fires"),
        ("", "empty"),
    ],
)
def test_nonsense_cron_is_refused(expr: str, fragment: str) -> None:
    with pytest.raises(CronError, match=fragment):
        validate(expr, "UTC", now=NOW)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "localtime", "CET "])
def test_unknown_time_zone_is_refused(zone: str) -> None:
    with pytest.raises(CronError, match="unknown time zone"):
        parse_timezone(zone)


def test_schema_maps_errors_to_bad_user_input_naming_the_field() -> None:
    base = {"deployment_id": "00000000-0000-0000-0000-000000000001", "cron": "0 9 * * *", "input": "go"}
    with pytest.raises(Invalid) as err:
        parse(CreateScheduleInput, {**base, "cron": "61 * * * *"})
    assert err.value.code == "BAD_USER_INPUT" and err.value.field == "cron"
    with pytest.raises(Invalid) as err:
        parse(CreateScheduleInput, {**base, "timezone": "Nowhere/Land"})
    assert err.value.field == "timezone"
    with pytest.raises(Invalid) as err:
        parse(CreateScheduleInput, {**base, "input": "x" * 8001})
    assert err.value.field == "input"
    with pytest.raises(Invalid) as err:
        parse(CreateScheduleInput, {**base, "misfire_policy": "sometimes"})
    assert err.value.field == "misfirePolicy"
    ok = parse(CreateScheduleInput, {**base, "cron": "  0   9 * *   mon-fri "})
    assert ok.cron == "0 9 * * mon-fri"


def test_daily_fire_keeps_local_time_across_spring_forward() -> None:
    # Berlin: 2025-03-30 02:00 CET -> 03:00 CEST. 09:00 local is 08:00Z before and 07:00Z after.
    got = fires("0 9 * * *", datetime(2025, 3, 28, 12, tzinfo=UTC), 3)
    assert got == [
        datetime(2025, 3, 29, 8, 0, tzinfo=UTC),
        datetime(2025, 3, 30, 7, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 7, 0, tzinfo=UTC),
    ]
    assert [g.astimezone(BERLIN).hour for g in got] == [9, 9, 9]


def test_nonexistent_local_time_fires_shifted_by_the_gap() -> None:
    got = fires("30 2 * * *", datetime(2025, 3, 29, 12, tzinfo=UTC), 2)
    assert got[0] == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)  # 03:30 CEST: 02:30 does not exist that day
    assert got[1] == datetime(2025, 3, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_repeated_local_time_fires_once_in_autumn() -> None:
    # 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 happens twice, fires once (first occurrence).
    got = fires("30 2 * * *", datetime(2025, 10, 25, 12, tzinfo=UTC), 2)
    assert got == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC), datetime(2025, 10, 27, 1, 30, tzinfo=UTC)]


def test_sub_hourly_fire_times_stay_strictly_increasing_through_both_changes() -> None:
    for start in (datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 10, 25, 22, tzinfo=UTC)):
        got = fires("*/15 * * * *", start, 24)
        assert all(b > a for a, b in itertools.pairwise(got))
        assert len(set(got)) == len(got)


def test_last_fire_at_or_before() -> None:
    at = datetime(2025, 1, 1, 10, 7, tzinfo=UTC)
    assert last_fire_at_or_before("*/5 * * * *", BERLIN, at) == datetime(2025, 1, 1, 10, 5, tzinfo=UTC)
    exact = datetime(2025, 1, 1, 10, 5, tzinfo=UTC)
    assert last_fire_at_or_before("*/5 * * * *", BERLIN, exact) == exact


def _sched(next_fire_at: datetime, policy: str, cron: str = "0 * * * *") -> Schedule:
    return Schedule(cron=cron, timezone="UTC", misfire_policy=policy, next_fire_at=next_fire_at)


@pytest.mark.parametrize("policy", ["skip", "catch_up_once"])
def test_plan_on_time_fires_the_due_time(policy: str) -> None:
    due = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    p = plan(_sched(due, policy), due + timedelta(seconds=2))
    assert (p.fire_time, p.next_fire_at, p.missed) == (due, datetime(2025, 1, 1, 11, 0, tzinfo=UTC), False)


def test_plan_after_downtime_skip_drops_missed_fires() -> None:
    due = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    now = datetime(2025, 1, 1, 13, 30, tzinfo=UTC)  # 10:00, 11:00, 12:00, 13:00 missed
    p = plan(_sched(due, "skip"), now)
    assert (p.fire_time, p.next_fire_at, p.missed) == (None, datetime(2025, 1, 1, 14, 0, tzinfo=UTC), True)


def test_plan_after_downtime_skip_still_fires_a_latest_time_that_is_on_time() -> None:
    due = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    now = datetime(2025, 1, 1, 13, 0, tzinfo=UTC) + MISFIRE_GRACE / 2
    p = plan(_sched(due, "skip"), now)
    assert p.fire_time == datetime(2025, 1, 1, 13, 0, tzinfo=UTC) and p.missed


def test_plan_after_downtime_catch_up_once_fires_once_as_the_latest_missed_time() -> None:
    due = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    now = datetime(2025, 1, 1, 13, 30, tzinfo=UTC)
    p = plan(_sched(due, "catch_up_once"), now)
    assert p.fire_time == datetime(2025, 1, 1, 13, 0, tzinfo=UTC)
    assert p.next_fire_at == datetime(2025, 1, 1, 14, 0, tzinfo=UTC)
