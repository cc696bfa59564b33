"""GraphQL types of threads, messages, runs, steps and run events (thin views over ORM rows)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from backend import models
from backend.errors import Invalid
from graph.agents import loaders as agent_loaders
from graph.agents.types import Agent
from graph.context import Info
from graph.pagination import PageInfo
from graph.permissions import protect
from graph.runs import loaders


@strawberry.enum(description="Where a run is in its lifecycle.")
class RunStatus(Enum):
    QUEUED = strawberry.enum_value("queued", description="Created; waiting for a worker.")
    RUNNING = strawberry.enum_value("running", description="A worker is executing it.")
    WAITING = strawberry.enum_value("waiting", description="Waiting for a child run (handoff).")
    SUCCEEDED = strawberry.enum_value("succeeded", description="Finished with an output.")
    FAILED = strawberry.enum_value("failed", description="Ended with an error (see error and statusReason).")
    CANCELLED = strawberry.enum_value("cancelled", description="Cancelled by cancelRun.")
    TIMED_OUT = strawberry.enum_value("timed_out", description="Exceeded its wall-clock limit.")


@strawberry.enum(description="What started a run.")
class RunTrigger(Enum):
    CHAT = strawberry.enum_value("chat", description="A user's message in a thread.")
    PLAYGROUND = strawberry.enum_value("playground", description="A builder's test against the draft.")
    SCHEDULE = strawberry.enum_value("schedule", description="A cron schedule.")
    WEBHOOK = strawberry.enum_value("webhook", description="An inbound webhook.")
    HANDOFF = strawberry.enum_value("handoff", description="Another agent's handoff (see parentRun).")
    API = strawberry.enum_value("api", description="An integrator's API key.")


def encode_cursor(at: datetime, id_: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{id_}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        at, _, raw_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(raw_id)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("after: not a cursor from this list", field="after") from None


def parse_id(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid(f"{field}: not an id", field=field) from None


def clamp_first(first: int | None, default: int = 20, maximum: int = 100) -> int:
    if first is None:
        return default
    if first < 1 or first > maximum:
        raise Invalid(f"first: between 1 and {maximum}", field="first")
    return first


@strawberry.type(description="Tokens, requests, tool calls and estimated cost of a run.")
class Usage:
    input_tokens: int = strawberry.field(description="Tokens sent to the model (all requests).")
    output_tokens: int = strawberry.field(description="Tokens the model produced.")
    total_tokens: int = strawberry.field(description="inputTokens + outputTokens.")
    requests: int = strawberry.field(description="Model requests made (steps).")
    tool_calls: int = strawberry.field(description="Tool calls executed.")
    cost_usd: float = strawberry.field(description="Estimated cost in USD from list prices (offline: 0).")


@strawberry.type(
    description="A persisted step of a run: model_request, model_response, tool_call or tool_result."
)
class RunStep:
    seq: int = strawberry.field(description="The step's sequence number among the run's events.")
    kind: str = strawberry.field(description="model_request | model_response | tool_call | tool_result.")
    data: JSON = strawberry.field(
        description="The step's details (text, tool name and arguments, result, usage)."
    )
    created_at: datetime = strawberry.field(description="When the step was persisted.")


@strawberry.type(description="One event of a run's live stream (replayed from persistence, then live).")
class RunEvent:
    run_id: strawberry.ID = strawberry.field(description="The run.")
    seq: int = strawberry.field(description="Sequence number; token deltas repeat the last persisted seq.")
    type: str = strawberry.field(description="status | step | message | done.")
    kind: str | None = strawberry.field(
        description="For steps: model_request, model_response, tool_call, tool_result. For messages: "
        "`delta` (a live token chunk: append data.delta), `reset` (drop the partial text), or null (the "
        "persisted full message in data.content)."
    )
    data: JSON | None = strawberry.field(description="The event's payload.")
    at: datetime | None = strawberry.field(description="When it was persisted (deltas: published).")


@strawberry.type(description="A message of a thread.")
class Message:
    id: strawberry.ID = strawberry.field(description="The message's id.")
    role: str = strawberry.field(description="user | assistant.")
    content: str = strawberry.field(description="The text.")
    created_at: datetime = strawberry.field(description="When it was stored.")
    run_id: strawberry.ID | None = strawberry.field(
        description="The run it started (user) or answered (assistant)."
    )

    @classmethod
    def from_row(cls, row: models.Message) -> Message:
        return cls(
            id=strawberry.ID(str(row.id)),
            role=row.role,
            content=row.content,
            created_at=row.created_at,
            run_id=strawberry.ID(str(row.run_id)) if row.run_id else None,
        )


@strawberry.type(
    description="A conversation of one user with one deployed agent (or a draft, in the playground)."
)
class Thread:
    _row: strawberry.Private[models.Thread]
    id: strawberry.ID = strawberry.field(description="The thread's id.")
    title: str = strawberry.field(description="Set from the first message; renameThread changes it.")
    is_playground: bool = strawberry.field(
        description="A builder's test conversation with the agent's draft."
    )
    deployment_id: strawberry.ID | None = strawberry.field(
        description="The deployment talked to (null: playground)."
    )
    agent_id: strawberry.ID = strawberry.field(description="The agent talked to.")
    created_at: datetime = strawberry.field(description="When the thread was started.")
    updated_at: datetime = strawberry.field(description="Last activity.")

    @classmethod
    def from_row(cls, row: models.Thread) -> Thread:
        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            title=row.title,
            is_playground=row.is_playground,
            deployment_id=strawberry.ID(str(row.deployment_id)) if row.deployment_id else None,
            agent_id=strawberry.ID(str(row.agent_id)),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="All messages, oldest first.")
    async def messages(self, info: Info) -> list[Message]:
        return [Message.from_row(m) for m in await loaders.messages_by_thread(info).load(self._row.id)]

    @strawberry.field(description="The thread's runs, newest first.")
    async def runs(self, info: Info, first: int | None = 20) -> list[Run]:
        rows = await loaders.runs_by_thread(info).load(self._row.id)
        return [Run.from_row(r) for r in rows[: clamp_first(first)]]


@strawberry.type(description="One execution of an agent.")
class Run:
    _row: strawberry.Private[models.Run]
    id: strawberry.ID = strawberry.field(description="The run's id (also its job id).")
    status: RunStatus = strawberry.field(description="Lifecycle status.")
    status_reason: str | None = strawberry.field(
        description="Why it ended as it did: max_steps, max_tokens, max_run_seconds, provider_error, "
        "model_error, config_error, worker_lost, cancelled_by_user, internal_error."
    )
    trigger: RunTrigger = strawberry.field(description="What started it.")
    is_test: bool = strawberry.field(description="A playground run of a draft (excluded from usage).")
    input: str = strawberry.field(description="The message the run answers.")
    output: str | None = strawberry.field(description="The final answer (when succeeded).")
    error: str | None = strawberry.field(description="What went wrong (when failed or timed out).")
    created_at: datetime = strawberry.field(description="When the run was created (queued).")
    started_at: datetime | None = strawberry.field(description="When a worker first started it.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    agent_id: strawberry.ID = strawberry.field(description="The agent that runs.")
    deployment_id: strawberry.ID | None = strawberry.field(
        description="The deployment (null for playground runs)."
    )
    thread_id: strawberry.ID | None = strawberry.field(description="The thread (chat and playground runs).")
    attempt: int = strawberry.field(description="How often it was resumed after losing its worker.")

    @classmethod
    def from_row(cls, row: models.Run) -> Run:
        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            status=RunStatus(row.status),
            status_reason=row.status_reason,
            trigger=RunTrigger(row.trigger),
            is_test=row.is_test,
            input=row.input,
            output=row.output,
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            agent_id=strawberry.ID(str(row.agent_id)),
            deployment_id=strawberry.ID(str(row.deployment_id)) if row.deployment_id else None,
            thread_id=strawberry.ID(str(row.thread_id)) if row.thread_id else None,
            attempt=row.attempt,
        )

    @strawberry.field(description="Token usage, requests, tool calls and estimated cost.")
    def usage(self) -> Usage:
        r = self._row
        return Usage(
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            total_tokens=r.input_tokens + r.output_tokens,
            requests=r.requests,
            tool_calls=r.tool_calls,
            cost_usd=float(r.cost_usd or 0),
        )

    @strawberry.field(
        description="Persisted steps (the trace). Agent managers only: others get null and FORBIDDEN.",
        extensions=[protect("steps")],
    )
    async def steps(self, info: Info) -> list[RunStep] | None:
        rows = await loaders.steps_by_run(info).load(self._row.id)
        return [
            RunStep(seq=e.seq, kind=e.kind or "", data=cast(JSON, e.data), created_at=e.created_at)
            for e in rows
        ]

    @strawberry.field(description="The thread, when the viewer may read it.")
    async def thread(self, info: Info) -> Thread | None:
        if self._row.thread_id is None:
            return None
        row = await loaders.readable_thread(info).load(self._row.thread_id)
        return Thread.from_row(row) if row is not None else None

    @strawberry.field(description="The run that handed this one its task (handoff).")
    async def parent_run(self, info: Info) -> Run | None:
        if self._row.parent_run_id is None:
            return None
        row = await loaders.readable_run(info).load(self._row.parent_run_id)
        return Run.from_row(row) if row is not None else None

    @strawberry.field(description="Runs this one handed tasks to, oldest first.")
    async def child_runs(self, info: Info) -> list[Run]:
        return [Run.from_row(r) for r in await loaders.children_by_run(info).load(self._row.id)]

    @strawberry.field(description="The agent that runs.")
    async def agent(self, info: Info) -> Agent | None:
        row = await agent_loaders.agent_by_id(info).load(self._row.agent_id)
        return Agent.from_row(row) if row is not None else None


@strawberry.type(description="An edge of a thread list.")
class ThreadEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this thread.")
    node: Thread = strawberry.field(description="The thread.")


@strawberry.type(description="The viewer's threads, most recently active first.")
class ThreadConnection:
    edges: list[ThreadEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Pagination.")


@strawberry.type(description="An edge of a run list.")
class RunEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this run.")
    node: Run = strawberry.field(description="The run.")


@strawberry.type(description="Runs, newest first.")
class RunConnection:
    edges: list[RunEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Pagination.")


def thread_connection(rows: list[models.Thread], more: bool) -> ThreadConnection:
    edges = [ThreadEdge(cursor=encode_cursor(r.updated_at, r.id), node=Thread.from_row(r)) for r in rows]
    return ThreadConnection(
        edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
    )


def run_connection(rows: list[models.Run], more: bool) -> RunConnection:
    edges = [RunEdge(cursor=encode_cursor(r.created_at, r.id), node=Run.from_row(r)) for r in rows]
    return RunConnection(
        edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
    )
