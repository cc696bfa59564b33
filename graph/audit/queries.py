"""``auditEvents``: the organisation's log for OWNER, ADMIN and AUDITOR (and audit:read keys)."""

from __future__ import annotations

import strawberry

from backend.audit.repository import events_page
from backend.authz import authorize, authorized_select
from backend.models import AuditEvent as AuditEventRow
from backend.orgs.service import get_organization
from graph.audit.types import AuditEvent, AuditEventConnection, AuditEventEdge
from graph.context import Info
from graph.identity.mutations import signed_in, uuid_arg
from graph.orgs.types import decode_cursor, encode_cursor
from graph.pagination import PageInfo

MAX_PAGE = 200


@strawberry.type
class AuditQueries:
    @strawberry.field(description="Audit events of an organisation, newest first, with optional filters.")
    async def audit_events(
        self,
        info: Info,
        organization_id: strawberry.ID,
        first: int | None = 50,
        after: str | None = None,
        action: str | None = strawberry.UNSET,
        actor_id: strawberry.ID | None = strawberry.UNSET,
    ) -> AuditEventConnection:
        signed_in(info)
        org_id = uuid_arg(organization_id, "organizationId")
        limit = max(1, min(first or 50, MAX_PAGE))
        cursor = decode_cursor(after)
        async with info.context.resources.sessions() as session:
            org = await get_organization(session, org_id)
            await authorize(session, info.context.actor, "read_audit", org)
            base = await authorized_select(session, info.context.actor, "read", AuditEventRow)
            stmt = events_page(
                base,
                organization_id=org_id,
                action=action or None,
                actor_id=uuid_arg(actor_id, "actorId") if actor_id else None,
                before=(int(cursor), org_id) if cursor and cursor.isdigit() else None,
                limit=limit + 1,
            )
            rows = list((await session.scalars(stmt)).all())
        edges = [
            AuditEventEdge(cursor=encode_cursor(str(r.seq)), node=AuditEvent.from_row(r))
            for r in rows[:limit]
        ]
        return AuditEventConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > limit, end_cursor=edges[-1].cursor if edges else None
            ),
        )
