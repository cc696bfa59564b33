"""GraphQL types of the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from backend import models
from graph.pagination import PageInfo


@strawberry.type(description="One audit event: who did what to which resource, and whether it was allowed.")
class AuditEvent:
    model: strawberry.Private[models.AuditEvent]
    id: strawberry.ID = strawberry.field(description="The event's id.")
    seq: int = strawberry.field(description="Position in the organisation's hash chain (1, 2, 3...).")
    at: datetime = strawberry.field(description="When it happened.")
    action: str = strawberry.field(description="What was attempted, e.g. `agent.update`.")
    outcome: str = strawberry.field(description="`allowed` or `denied`.")
    actor_type: str = strawberry.field(description="user, api_key, agent, system or anonymous.")
    actor_id: strawberry.ID | None = strawberry.field(description="The user, API key or agent that acted.")
    resource_type: str = strawberry.field(description="Kind of resource, e.g. `agent`.")
    resource_id: strawberry.ID | None = strawberry.field(description="The resource's id.")
    client_addr: str | None = strawberry.field(description="Client address of the request.")
    user_agent: str | None = strawberry.field(description="Client user agent of the request.")
    request_id: str | None = strawberry.field(description="Request id: ties API calls to runs and logs.")
    summary: JSON = strawberry.field(description="A short change summary (never secrets).")
    prev_hash: str = strawberry.field(description="Hash of the previous event in the chain.")
    hash: str = strawberry.field(description="SHA-256 over prevHash and this event's canonical fields.")

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        return cls(
            model=row,
            id=strawberry.ID(str(row.id)),
            seq=row.seq,
            at=row.at,
            action=row.action,
            outcome=row.outcome,
            actor_type=row.actor_type,
            actor_id=strawberry.ID(str(row.actor_id)) if row.actor_id else None,
            resource_type=row.resource_type,
            resource_id=strawberry.ID(row.resource_id) if row.resource_id else None,
            client_addr=row.client_addr,
            user_agent=row.user_agent,
            request_id=row.request_id,
            summary=row.summary,  # type: ignore[arg-type]
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


@strawberry.type(description="An edge of the audit log.")
class AuditEventEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this edge.")
    node: AuditEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The events of this page.")
    page_info: PageInfo = strawberry.field(description="Pagination.")
