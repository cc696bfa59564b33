"""Thread and run mutations: one unit of work each (commit, then enqueue and publish)."""

from __future__ import annotations

import strawberry

from backend.runs import service, threads
from backend.runs.dispatch import unit_of_work
from graph.context import Info
from graph.runs.types import Run, Thread, parse_id


@strawberry.input(description="Start a conversation with a deployed agent.")
class StartThreadInput:
    deployment_id: strawberry.ID = strawberry.field(description="The deployment to talk to (needs `use`).")


@strawberry.input(description="Start a test conversation with an agent's current draft.")
class StartPlaygroundThreadInput:
    agent_id: strawberry.ID = strawberry.field(description="The agent (needs `playground`).")


@strawberry.input(description="Send a message to a thread; it starts a run.")
class SendMessageInput:
    thread_id: strawberry.ID = strawberry.field(description="The viewer's thread.")
    content: str = strawberry.field(description="The message (1 to 32,000 characters).")


@strawberry.input(description="Rename a thread.")
class RenameThreadInput:
    thread_id: strawberry.ID = strawberry.field(description="The viewer's thread.")
    title: str = strawberry.field(description="The new title (1 to 200 characters).")


@strawberry.type
class RunMutations:
    @strawberry.mutation(description="Start a thread with a deployed agent the viewer may use.")
    async def start_thread(self, info: Info, input: StartThreadInput) -> Thread:
        async with unit_of_work(info.context.resources) as session:
            row = await threads.start_thread(
                session, info.context.actor, deployment_id=parse_id(input.deployment_id, "deploymentId")
            )
        return Thread.from_row(row)

    @strawberry.mutation(
        description="Start a playground thread: runs use the agent's current DRAFT and are "
        "marked as tests (trigger PLAYGROUND, isTest), excluded from usage."
    )
    async def start_playground_thread(self, info: Info, input: StartPlaygroundThreadInput) -> Thread:
        async with unit_of_work(info.context.resources) as session:
            row = await threads.start_playground_thread(
                session, info.context.actor, agent_id=parse_id(input.agent_id, "agentId")
            )
        return Thread.from_row(row)

    @strawberry.mutation(
        description="Store a message and start its run; returns the QUEUED run at once. "
        "Follow it with the runEvents subscription."
    )
    async def send_message(self, info: Info, input: SendMessageInput) -> Run:
        row = await threads.post_message(
            info.context.resources,
            info.context.actor,
            thread_id=parse_id(input.thread_id, "threadId"),
            content=input.content,
        )
        return Run.from_row(row)

    @strawberry.mutation(
        description="Cancel a run: a queued run never starts; a running one stops within "
        "about a second. Cancelling a finished run is a CONFLICT."
    )
    async def cancel_run(self, info: Info, id: strawberry.ID) -> Run:
        async with unit_of_work(info.context.resources) as session:
            row = await service.cancel_run(session, info.context.actor, run_id=parse_id(id, "id"))
        return Run.from_row(row)

    @strawberry.mutation(description="Rename one of the viewer's threads.")
    async def rename_thread(self, info: Info, input: RenameThreadInput) -> Thread:
        async with unit_of_work(info.context.resources) as session:
            row = await threads.rename_thread(
                session,
                info.context.actor,
                thread_id=parse_id(input.thread_id, "threadId"),
                title=input.title,
            )
        return Thread.from_row(row)

    @strawberry.mutation(description="Delete one of the viewer's threads (it disappears from every list).")
    async def delete_thread(self, info: Info, id: strawberry.ID) -> Thread:
        async with unit_of_work(info.context.resources) as session:
            row = await threads.delete_thread(session, info.context.actor, thread_id=parse_id(id, "id"))
        return Thread.from_row(row)
