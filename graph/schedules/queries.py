"""Schedule and webhook trigger queries: one short read session per resolver."""

from __future__ import annotations

import strawberry

from backend.schedules import service as schedules
from backend.webhooks import service as webhooks
from graph.context import Info
from graph.schedules.types import (
    Schedule,
    ScheduleConnection,
    ScheduleEdge,
    WebhookTrigger,
    WebhookTriggerConnection,
    WebhookTriggerEdge,
    decode_cursor,
    encode_cursor,
    page_info,
    parse_id,
    parse_optional_id,
)


@strawberry.type
class ScheduleQueries:
    @strawberry.field(description="A schedule of a deployment you manage.")
    async def schedule(self, info: Info, id: strawberry.ID) -> Schedule | None:
        async with info.context.resources.sessions() as session:
            found = await schedules.get(session, info.context.actor, schedule_id=parse_id(id))
        return Schedule.of(found)

    @strawberry.field(
        description="Schedules of one deployment or of every deployment you manage in an organisation."
    )
    async def schedules(
        self,
        info: Info,
        deployment_id: strawberry.ID | None = None,
        organization_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ScheduleConnection:
        async with info.context.resources.sessions() as session:
            rows, has_next, total = await schedules.list_page(
                session,
                info.context.actor,
                deployment_id=parse_optional_id(deployment_id, "deploymentId"),
                organization_id=parse_optional_id(organization_id, "organizationId"),
                first=first,
                after=decode_cursor(after),
            )
        edges = [ScheduleEdge(cursor=encode_cursor(s.id), node=Schedule.of(s)) for s in rows]
        return ScheduleConnection(
            edges=edges, page_info=page_info([s.id for s in rows], has_next), total_count=total
        )

    @strawberry.field(
        description="Webhook triggers of one deployment or of every deployment you manage in an organisation."
    )
    async def webhook_triggers(
        self,
        info: Info,
        deployment_id: strawberry.ID | None = None,
        organization_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> WebhookTriggerConnection:
        async with info.context.resources.sessions() as session:
            rows, has_next, total = await webhooks.list_page(
                session,
                info.context.actor,
                deployment_id=parse_optional_id(deployment_id, "deploymentId"),
                organization_id=parse_optional_id(organization_id, "organizationId"),
                first=first,
                after=decode_cursor(after),
            )
        edges = [WebhookTriggerEdge(cursor=encode_cursor(t.id), node=WebhookTrigger.of(t)) for t in rows]
        return WebhookTriggerConnection(
            edges=edges, page_info=page_info([t.id for t in rows], has_next), total_count=total
        )
