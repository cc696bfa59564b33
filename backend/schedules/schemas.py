"""Validated inputs of the schedule operations.

Cron and time zone are checked here (see :mod:`backend.schedules.cron`); the service turns a
:class:`pydantic.ValidationError` into ``Invalid`` naming the field, so bad input changes nothing.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backend.errors import Invalid
from backend.schedules.cron import CronError, normalize_cron, parse_timezone

MAX_INPUT_CHARS = 8000  # = Schedule.input column size
MAX_NAME_CHARS = 120


class MisfirePolicy(StrEnum):
    """What a schedule does about fire times that passed while no tick ran (see docs/schedules.md)."""

    SKIP = "skip"
    CATCH_UP_ONCE = "catch_up_once"


class ScheduleStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    SUSPENDED = "suspended"


M = TypeVar("M", bound=BaseModel)
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_INPUT_CHARS)]  # a run needs a message


def _cron(value: str) -> str:
    try:
        return normalize_cron(value)
    except CronError as exc:
        raise ValueError(str(exc)) from exc


def _zone(value: str) -> str:
    try:
        parse_timezone(value)
    except CronError as exc:
        raise ValueError(str(exc)) from exc
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CreateScheduleInput(_Strict):
    deployment_id: uuid.UUID
    cron: str = Field(max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    input: Text
    name: Name = ""
    misfire_policy: MisfirePolicy = MisfirePolicy.SKIP

    _check_cron = field_validator("cron")(_cron)
    _check_zone = field_validator("timezone")(_zone)


class UpdateScheduleInput(_Strict):
    """Fields left ``None`` are unchanged."""

    id: uuid.UUID
    cron: str | None = Field(default=None, max_length=120)
    timezone: str | None = Field(default=None, max_length=64)
    input: Text | None = None
    name: Name | None = None
    misfire_policy: MisfirePolicy | None = None

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        return None if value is None else _cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validates ``data`` or raises ``Invalid`` naming the first bad field (camelCase, as in the API)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = str(first["msg"]).removeprefix("Value error, ")
        api_field = _camel(field) if field else None
        raise Invalid(f"{api_field}: {message}" if api_field else message, field=api_field) from exc


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
