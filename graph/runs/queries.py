"""Queries of threads and runs: one short read session per resolver (siblings run concurrently)."""

from __future__ import annotations

import strawberry

from backend.runs import service, threads
from backend.runs.service import RunFilter as Filter
from graph.context import Info
from graph.runs.types import (
    Run,
    RunConnection,
    RunStatus,
    RunTrigger,
    Thread,
    ThreadConnection,
    clamp_first,
    decode_cursor,
    parse_id,
    run_connection,
    thread_connection,
)


@strawberry.input(description="Filters of the runs list (all optional; combined with AND).")
class RunFilter:
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Runs of this organization."
    )
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="Runs of this agent.")
    status: RunStatus | None = strawberry.field(default=None, description="Runs in this status.")
    trigger: RunTrigger | None = strawberry.field(default=None, description="Runs started this way.")
    user_id: strawberry.ID | None = strawberry.field(default=None, description="Runs started by this user.")
    include_tests: bool = strawberry.field(default=True, description="Include playground (test) runs.")


def _filters(f: RunFilter | None) -> Filter:
    if f is None:
        return Filter()
    return Filter(
        organization_id=parse_id(f.organization_id, "filter.organizationId") if f.organization_id else None,
        agent_id=parse_id(f.agent_id, "filter.agentId") if f.agent_id else None,
        status=str(f.status.value) if f.status else None,
        trigger=str(f.trigger.value) if f.trigger else None,
        user_id=parse_id(f.user_id, "filter.userId") if f.user_id else None,
        include_tests=f.include_tests,
    )


@strawberry.type
class RunQueries:
    @strawberry.field(description="A thread of the viewer (or of an agent they manage); null when not found.")
    async def thread(self, info: Info, id: strawberry.ID) -> Thread | None:
        async with info.context.resources.sessions() as session:
            row = await threads.get_thread(session, info.context.actor, parse_id(id, "id"))
        return Thread.from_row(row)

    @strawberry.field(description="The viewer's threads, most recently active first.")
    async def threads(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        deployment_id: strawberry.ID | None = None,
        include_playground: bool = False,
    ) -> ThreadConnection:
        async with info.context.resources.sessions() as session:
            rows, more = await threads.list_threads(
                session,
                info.context.actor,
                first=clamp_first(first),
                after=decode_cursor(after),
                deployment_id=parse_id(deployment_id, "deploymentId") if deployment_id else None,
                include_playground=include_playground,
            )
        return thread_connection(rows, more)

    @strawberry.field(description="A run the viewer may read; null (NOT_FOUND) otherwise.")
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        async with info.context.resources.sessions() as session:
            row = await service.get_run(session, info.context.actor, parse_id(id, "id"))
        return Run.from_row(row)

    @strawberry.field(
        description="Runs the viewer may read (their own; every run of agents they manage), "
        "newest first, filtered."
    )
    async def runs(
        self, info: Info, filter: RunFilter | None = None, first: int | None = 20, after: str | None = None
    ) -> RunConnection:
        async with info.context.resources.sessions() as session:
            rows, more = await service.list_runs(
                session,
                info.context.actor,
                filters=_filters(filter),
                first=clamp_first(first),
                after=decode_cursor(after),
            )
        return run_connection(rows, more)
