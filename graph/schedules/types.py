"""GraphQL types of schedules and webhook triggers (thin mirrors of the models)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from enum import Enum

import strawberry

from backend import models
from backend.errors import Invalid
from backend.schedules import service as schedule_service
from graph.context import Info
from graph.pagination import PageInfo
from graph.runs.types import Run


@strawberry.enum(description="What a schedule does about fire times missed while no worker ran.")
class MisfirePolicy(Enum):
    SKIP = strawberry.enum_value("skip", description="Drop missed fire times; continue with the next one.")
    CATCH_UP_ONCE = strawberry.enum_value(
        "catch_up_once", description="Run once for all missed fire times, then continue."
    )


@strawberry.enum(description="Whether a schedule fires.")
class ScheduleStatus(Enum):
    ACTIVE = strawberry.enum_value("active", description="Fires at nextFireAt.")
    PAUSED = strawberry.enum_value("paused", description="Paused by a manager; resume to fire again.")
    SUSPENDED = strawberry.enum_value(
        "suspended", description="Stopped by the platform (see statusReason), e.g. its creator lost access."
    )


@strawberry.type(description="A cron schedule that starts runs of a deployment as its creator.")
class Schedule:
    id: strawberry.ID = strawberry.field(description="The schedule's id.")
    name: str = strawberry.field(description="A label for people.")
    cron: str = strawberry.field(description="Five-field cron expression (minute hour day month weekday).")
    timezone: str = strawberry.field(description="IANA time zone the cron expression is read in.")
    input: str = strawberry.field(description="The message each run starts with.")
    misfire_policy: MisfirePolicy = strawberry.field(description="Handling of fire times missed in downtime.")
    status: ScheduleStatus = strawberry.field(description="Active, paused or suspended.")
    status_reason: str | None = strawberry.field(description="Why the platform suspended the schedule.")
    next_fire_at: datetime | None = strawberry.field(description="Next fire time (UTC); null unless active.")
    last_fired_at: datetime | None = strawberry.field(description="The fire time of the latest run.")
    deployment_id: strawberry.ID = strawberry.field(description="The deployment whose agent runs.")
    created_by_id: strawberry.ID = strawberry.field(description="The user whose permissions the runs use.")
    created_at: datetime = strawberry.field(description="When the schedule was created.")
    model: strawberry.Private[models.Schedule]

    @strawberry.field(description="The schedule's latest runs you may read, newest fire time first.")
    async def runs(self, info: Info, first: int = 20) -> list[Run]:
        async with info.context.resources.sessions() as session:
            rows = await schedule_service.runs(session, info.context.actor, self.model, first=first)
        return [Run.from_row(r) for r in rows]

    @classmethod
    def of(cls, s: models.Schedule) -> Schedule:
        return cls(
            id=strawberry.ID(str(s.id)),
            name=s.name,
            cron=s.cron,
            timezone=s.timezone,
            input=s.input,
            misfire_policy=MisfirePolicy(s.misfire_policy),
            status=ScheduleStatus(s.status),
            status_reason=s.status_reason,
            next_fire_at=s.next_fire_at,
            last_fired_at=s.last_fired_at,
            deployment_id=strawberry.ID(str(s.deployment_id)),
            created_by_id=strawberry.ID(str(s.created_by_id)),
            created_at=s.created_at,
            model=s,
        )


@strawberry.type(description="An inbound URL (POST /hooks/{token}) that starts runs of a deployment.")
class WebhookTrigger:
    id: strawberry.ID = strawberry.field(description="The trigger's id.")
    name: str = strawberry.field(description="A label for people.")
    token_prefix: str = strawberry.field(description="The token's first characters, to recognise it.")
    deployment_id: strawberry.ID = strawberry.field(description="The deployment whose agent runs.")
    created_by_id: strawberry.ID = strawberry.field(description="The user whose permissions the runs use.")
    rate_limit_per_minute: int = strawberry.field(description="Accepted requests per minute; more get 429.")
    created_at: datetime = strawberry.field(description="When the trigger was created.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; calls then get 404.")
    last_used_at: datetime | None = strawberry.field(description="When it last started a run.")

    @classmethod
    def of(cls, t: models.WebhookTrigger) -> WebhookTrigger:
        return cls(
            id=strawberry.ID(str(t.id)),
            name=t.name,
            token_prefix=t.token_prefix,
            deployment_id=strawberry.ID(str(t.deployment_id)),
            created_by_id=strawberry.ID(str(t.created_by_id)),
            rate_limit_per_minute=int((t.settings or {}).get("rate_limit_per_minute", 60)),
            created_at=t.created_at,
            revoked_at=t.revoked_at,
            last_used_at=t.last_used_at,
        )


@strawberry.type(description="A new webhook trigger and its secret, shown this once.")
class WebhookTriggerCreated:
    webhook_trigger: WebhookTrigger = strawberry.field(description="The trigger.")
    token: str = strawberry.field(description="The secret token; store it now, it is never shown again.")
    url: str = strawberry.field(description="The full URL to POST JSON to.")


@strawberry.type(description="An edge of a schedule list.")
class ScheduleEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this schedule.")
    node: Schedule = strawberry.field(description="The schedule.")


@strawberry.type(description="A page of schedules, newest first.")
class ScheduleConnection:
    edges: list[ScheduleEdge] = strawberry.field(description="The schedules on this page.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    total_count: int = strawberry.field(description="All schedules matching the filter.")


@strawberry.type(description="An edge of a webhook trigger list.")
class WebhookTriggerEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this trigger.")
    node: WebhookTrigger = strawberry.field(description="The trigger.")


@strawberry.type(description="A page of webhook triggers, newest first.")
class WebhookTriggerConnection:
    edges: list[WebhookTriggerEdge] = strawberry.field(description="The triggers on this page.")
    page_info: PageInfo = strawberry.field(description="Pagination state.")
    total_count: int = strawberry.field(description="All triggers matching the filter.")


def parse_id(value: str, what: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{what}: not a valid id", field=what) from None


def parse_optional_id(value: str | None, what: str) -> uuid.UUID | None:
    return None if value is None else parse_id(value, what)


def encode_cursor(id_: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(id_.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if not cursor:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise Invalid("after: not a valid cursor", field="after") from None


def page_info(ids: list[uuid.UUID], has_next: bool) -> PageInfo:
    return PageInfo(has_next_page=has_next, end_cursor=encode_cursor(ids[-1]) if ids else None)
