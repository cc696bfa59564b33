"""Schedule and webhook trigger mutations: one transaction, one service call each."""

from __future__ import annotations

from typing import Any

import strawberry

from backend.db import transaction
from backend.schedules import service as schedules
from backend.webhooks import service as webhooks
from graph.context import Info
from graph.schedules.types import (
    MisfirePolicy,
    Schedule,
    WebhookTrigger,
    WebhookTriggerCreated,
    parse_id,
)


@strawberry.input(description="A new schedule of a deployment.")
class CreateScheduleInput:
    deployment_id: strawberry.ID = strawberry.field(description="The deployment to run.")
    cron: str = strawberry.field(description="Five-field cron expression, at most once a minute.")
    timezone: str = strawberry.field(default="UTC", description="IANA time zone, e.g. Europe/Berlin.")
    input: str = strawberry.field(description="The message each run starts with (1 to 8000 characters).")
    name: str = strawberry.field(default="", description="A label for people.")
    misfire_policy: MisfirePolicy = strawberry.field(
        default=MisfirePolicy.SKIP, description="Handling of fire times missed in downtime."
    )


@strawberry.input(description="Changes to a schedule; omitted fields stay as they are.")
class UpdateScheduleInput:
    id: strawberry.ID = strawberry.field(description="The schedule.")
    cron: str | None = strawberry.field(default=strawberry.UNSET, description="New cron expression.")
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="New time zone.")
    input: str | None = strawberry.field(default=strawberry.UNSET, description="New run input.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New label.")
    misfire_policy: MisfirePolicy | None = strawberry.field(
        default=strawberry.UNSET, description="New misfire policy."
    )


@strawberry.input(description="A new webhook trigger of a deployment.")
class CreateWebhookTriggerInput:
    deployment_id: strawberry.ID = strawberry.field(description="The deployment to run.")
    name: str = strawberry.field(description="A label for people.")
    rate_limit_per_minute: int = strawberry.field(default=60, description="Accepted requests per minute.")


def _data(obj: Any) -> dict[str, Any]:
    """Input object -> plain dict for the service's pydantic schema (enums by value, UNSET dropped)."""
    out: dict[str, Any] = {}
    for key, value in vars(obj).items():
        if value is strawberry.UNSET:
            continue
        out[key] = value.value if isinstance(value, MisfirePolicy) else value
    return out


@strawberry.type
class ScheduleMutations:
    @strawberry.mutation(description="Create a cron schedule; needs manage on the deployment.")
    async def create_schedule(self, info: Info, input: CreateScheduleInput) -> Schedule:
        async with transaction(info.context.resources.sessions) as session:
            created = await schedules.create(session, info.context.actor, data=_data(input))
        return Schedule.of(created)

    @strawberry.mutation(description="Change a schedule's cron, time zone, input, name or misfire policy.")
    async def update_schedule(self, info: Info, input: UpdateScheduleInput) -> Schedule:
        async with transaction(info.context.resources.sessions) as session:
            updated = await schedules.update(session, info.context.actor, data=_data(input))
        return Schedule.of(updated)

    @strawberry.mutation(description="Stop a schedule from firing until it is resumed.")
    async def pause_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        async with transaction(info.context.resources.sessions) as session:
            paused = await schedules.pause(session, info.context.actor, schedule_id=parse_id(id))
        return Schedule.of(paused)

    @strawberry.mutation(description="Re-activate a paused or suspended schedule from now (no catch-up).")
    async def resume_schedule(self, info: Info, id: strawberry.ID) -> Schedule:
        async with transaction(info.context.resources.sessions) as session:
            resumed = await schedules.resume(session, info.context.actor, schedule_id=parse_id(id))
        return Schedule.of(resumed)

    @strawberry.mutation(description="Delete a schedule; its past runs remain. Returns the deleted id.")
    async def delete_schedule(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        async with transaction(info.context.resources.sessions) as session:
            deleted = await schedules.delete(session, info.context.actor, schedule_id=parse_id(id))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(description="Create an inbound webhook URL; its secret token is returned only here.")
    async def create_webhook_trigger(
        self, info: Info, input: CreateWebhookTriggerInput
    ) -> WebhookTriggerCreated:
        async with transaction(info.context.resources.sessions) as session:
            trigger, token = await webhooks.create(session, info.context.actor, data=_data(input))
        url = f"{info.context.resources.settings.api_url}/hooks/{token}"
        return WebhookTriggerCreated(webhook_trigger=WebhookTrigger.of(trigger), token=token, url=url)

    @strawberry.mutation(description="Revoke a webhook trigger: its URL answers 404 from now on.")
    async def revoke_webhook_trigger(self, info: Info, id: strawberry.ID) -> WebhookTrigger:
        async with transaction(info.context.resources.sessions) as session:
            revoked = await webhooks.revoke(session, info.context.actor, trigger_id=parse_id(id))
        return WebhookTrigger.of(revoked)
