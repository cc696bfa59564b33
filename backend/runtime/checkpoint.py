"""Persisting a run's steps as it goes, then publishing them (never the other way round).

Checkpoints are taken where a crash would otherwise lose work: after a model response that calls
tools (request + response + one ``tool_call`` step per call, before any tool runs) and after each
tool result. A text-only final response is persisted together with the run's completion, in one
transaction. Token deltas are published live only, numbered ``(last persisted seq, sub)``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic_ai.messages import ModelRequestPart, ModelResponse, RetryPromptPart, TextPart, ToolReturnPart
from pydantic_ai.usage import RunUsage

from backend.db import utcnow
from backend.db.raw import RawSQL, fetchrow, hot_connection
from backend.models import Run
from backend.resources import Resources
from backend.runs import hotpath, states
from backend.runs.ledger import NewEvent
from backend.runtime.context import LeaseLost
from backend.runtime.dbretry import retrying
from backend.runtime.history import dump_message, dump_part
from backend.runtime.pricing import estimate_cost
from backend.runtime.publisher import RunPublisher

PREVIEW_CHARS = 4_000
DELTA_WINDOW_S = 0.04
_SUB_PER_ATTEMPT = 1_000_000
_LEASE = RawSQL("SELECT next_seq, lease_owner, status FROM runs WHERE id = :run_id")


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _merge(deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent text deltas of the same persisted seq become one (keeping the last ``sub``)."""
    out: list[dict[str, Any]] = []
    for delta in deltas:
        last = out[-1] if out else None
        if last is not None and last["kind"] == delta["kind"] == "delta" and last["seq"] == delta["seq"]:
            out[-1] = {**delta, "data": {"delta": last["data"]["delta"] + delta["data"]["delta"]}}
        else:
            out.append(delta)
    return out


def response_text(response: ModelResponse) -> str:
    return "".join(p.content for p in response.parts if isinstance(p, TextPart))


class Checkpointer:
    def __init__(
        self,
        resources: Resources,
        run: Run,
        owner: str,
        *,
        next_seq: int,
        step: int,
        publisher: RunPublisher,
    ) -> None:
        self.resources = resources
        self.publisher = publisher
        self.run_id: uuid.UUID = run.id
        self.model = run.model
        self.owner = owner
        self.next_seq = next_seq  # the lease holder's own count (idempotent retried writes)
        self.step = step  # model responses persisted so far
        self.persisted_tool_ids: set[str] = set()
        self.pending: list[NewEvent] = []  # steps of a final response, written with the completion
        self._sub = (run.attempt or 0) * _SUB_PER_ATTEMPT
        self._deltas: list[dict[str, Any]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._sleeping = False
        self._draining = False
        self._writing = asyncio.Lock()

    @property
    def last_seq(self) -> int:
        return self.next_seq - 1

    # -- live deltas --------------------------------------------------------------------------------
    def delta(self, text: str, kind: str = "delta") -> None:
        if not text and kind == "delta":
            return
        self._sub += 1
        data = {"delta": text} if kind == "delta" else {}
        self._deltas.append(
            {
                "seq": self.last_seq,
                "sub": self._sub,
                "type": "message",
                "kind": kind,
                "data": data,
                "at": utcnow().isoformat(),
            }
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_deltas())

    async def _flush_deltas(self) -> None:
        """Publish pending deltas, merged: at most one delta event per ``DELTA_WINDOW_S`` per run.

        The first token goes out at once; a fast stream then costs every subscriber (and the API
        fanning out to them) about 25 events per second instead of one per token.
        """
        await asyncio.sleep(0)
        while self._deltas and not self._draining:
            batch, self._deltas = _merge(self._deltas), []
            await self.publisher.publish(batch)
            if self._draining:
                return  # drain() takes what came meanwhile; no window to wait out
            self._sleeping = True
            try:
                await asyncio.sleep(DELTA_WINDOW_S)
            finally:
                self._sleeping = False

    async def drain(self) -> None:
        """Pending deltas go out ahead of the persisted events that follow, in the same message."""
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            if self._sleeping:
                flusher.cancel()
            self._draining = True  # a publication in flight ends the flusher instead of a window
            try:
                await asyncio.wait({flusher})  # never raises the flusher's cancellation (ours still does)
            finally:
                self._draining = False
        if self._deltas:
            batch, self._deltas = _merge(self._deltas), []
            self.publisher.hold(batch)

    # -- steps --------------------------------------------------------------------------------------
    def usage_values(self, usage: RunUsage) -> dict[str, Any]:
        return {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "requests": usage.requests,
            "tool_calls": usage.tool_calls,
            "cost_usd": estimate_cost(self.model, usage.input_tokens, usage.output_tokens),
        }

    def response_steps(self, response: ModelResponse, sent_messages: int) -> list[NewEvent]:
        self.step += 1
        usage = response.usage
        calls = response.tool_calls
        events = [
            NewEvent("step", "model_request", {"step": self.step, "messages": sent_messages}),
            NewEvent(
                "step",
                "model_response",
                {
                    "step": self.step,
                    "model": response.model_name or self.model,
                    "text": _preview(response_text(response)),
                    "tool_calls": [
                        {"tool_call_id": c.tool_call_id, "tool_name": c.tool_name, "args": c.args_as_dict()}
                        for c in calls
                    ],
                    "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
                    "message": dump_message(response),
                },
            ),
        ]
        events.extend(
            NewEvent(
                "step",
                "tool_call",
                {
                    "step": self.step,
                    "tool_call_id": c.tool_call_id,
                    "tool_name": c.tool_name,
                    "args": c.args_as_dict(),
                },
            )
            for c in calls
        )
        return events

    async def tool_response(self, response: ModelResponse, sent_messages: int, usage: RunUsage) -> None:
        """Persist a response that calls tools, before any of them runs; its events ride along with
        the first tool result (or leave on their own after ``HOLD_S``, for a slow tool)."""
        await self.write(
            [*self.pending, *self.response_steps(response, sent_messages)],
            self.usage_values(usage),
            hold=True,
        )
        self.pending = []

    def final_response(self, response: ModelResponse, sent_messages: int) -> None:
        self.pending.extend(self.response_steps(response, sent_messages))

    async def tool_round(
        self,
        response: ModelResponse,
        sent_messages: int,
        results: Sequence[ModelRequestPart],
        usage: RunUsage,
    ) -> None:
        """Persist a new response whose calls all ran already (reads only) together with their results."""
        steps = [*self.pending, *self.response_steps(response, sent_messages)]
        await self.write([*steps, *map(self._result_event, results)], self.usage_values(usage), hold=True)
        self.pending = []
        self.persisted_tool_ids.update(str(getattr(p, "tool_call_id", "")) for p in results)

    async def tool_result(self, part: ModelRequestPart, usage: RunUsage) -> None:
        call_id = getattr(part, "tool_call_id", None)
        if call_id is None or call_id in self.persisted_tool_ids:
            return  # replayed from a previous attempt: already persisted once
        await self.write([self._result_event(part)], self.usage_values(usage), hold=True)
        self.persisted_tool_ids.add(call_id)

    def _result_event(self, part: ModelRequestPart) -> NewEvent:
        call_id = getattr(part, "tool_call_id", None)
        is_error = isinstance(part, RetryPromptPart) or (
            isinstance(part, ToolReturnPart) and getattr(part, "outcome", "success") != "success"
        )
        if isinstance(part, RetryPromptPart):
            content = part.model_response()
        elif isinstance(part, ToolReturnPart):
            content = part.model_response_str()
        else:
            content = str(getattr(part, "content", ""))
        return NewEvent(
            "step",
            "tool_result",
            {
                "step": self.step,
                "tool_call_id": call_id,
                "tool_name": getattr(part, "tool_name", None),
                "content": _preview(content),
                "is_error": is_error,
                "part": dump_part(part),
            },
        )

    async def write(
        self,
        events: Sequence[NewEvent],
        values: dict[str, Any],
        *,
        status: str | None = None,
        hold: bool = False,
    ) -> None:
        """Persist ``events`` (a checkpoint), then publish them; ``hold``: with the next publication
        (the next model answer's first token, usually a few milliseconds later; at most
        :data:`~backend.runtime.publisher.HOLD_S`). Writes are serialised: concurrent tool calls
        each persist their result, and each write expects the ``next_seq`` the previous one left."""
        async with self._writing:
            await self._write(events, values, status=status, hold=hold)

    async def _write(
        self, events: Sequence[NewEvent], values: dict[str, Any], *, status: str | None, hold: bool
    ) -> None:
        expected = self.next_seq

        async def op() -> list[dict[str, Any]] | None:
            async with hot_connection(self.resources.engine) as conn:
                written = await hotpath.append_owned(
                    conn,
                    self.run_id,
                    events,
                    owner=self.owner,
                    expect_seq=expected,
                    usage=values,
                    status=status,
                )
                if written is None:
                    await self._check_applied(conn, expected + len(events))
            return written

        written = await retrying(op, what="checkpoint")
        self.next_seq = expected + len(events)
        await self.drain()
        if written and hold:
            self.publisher.hold(written)
        elif written:
            await self.publisher.publish(written)

    async def _check_applied(self, conn: Any, want_next: int) -> None:
        """A guarded write matched nothing: either our retried commit already landed, or the lease is gone."""
        row = await fetchrow(conn, _LEASE, {"run_id": self.run_id})
        if row is None or row["lease_owner"] != self.owner or row["status"] not in states.EXECUTING:
            raise LeaseLost(str(self.run_id))
        if row["next_seq"] != want_next:
            raise LeaseLost(f"{self.run_id}: unexpected next_seq {row['next_seq']}")
