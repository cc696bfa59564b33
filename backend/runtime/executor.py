"""Executing one run in a worker: claim, run the agent loop under limits, end with a clear status.

Outcomes: ``SUCCEEDED``; ``FAILED`` with ``status_reason`` ``max_steps`` / ``max_tokens`` (usage
limits), ``provider_error`` (retries exhausted or not retryable), ``model_error``, ``config_error``,
``internal_error``; ``TIMED_OUT`` (``max_run_seconds`` of wall time since the first start);
``CANCELLED``. When the worker is shutting down the run is released back to ``queued`` and resumes
elsewhere; when its lease was taken over, it stops without writing anything.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior, UsageLimitExceeded
from pydantic_ai.usage import RunUsage
from sqlalchemy import select

from backend.agents.schemas import AgentConfig, parse_model
from backend.authz import Actor
from backend.db import autocommit, transaction
from backend.db.raw import hot_connection
from backend.logging import log
from backend.models import ApiKey, Run
from backend.runs import hotpath, ledger, states
from backend.runs import repository as repo
from backend.runtime import offline, retries
from backend.runtime.checkpoint import Checkpointer
from backend.runtime.context import LeaseLost, RunDeps
from backend.runtime.credentials import CredentialsError, resolve
from backend.runtime.dbretry import retrying
from backend.runtime.history import RunState, rebuild, window
from backend.runtime.loop import Outcome, limits, run_attempt, run_spec
from backend.runtime.providers import ModelConfigError, build_model, prepare, streams_itself
from backend.runtime.publisher import RunPublisher
from backend.runtime.toolsets import build_toolsets

HISTORY_ROWS = 200


class ConfigError(Exception):
    pass


class RunExecution:
    def __init__(self, runtime: Any, run_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.resources = runtime.resources
        self.settings = runtime.resources.settings
        self.run_id = run_id
        self.run: Run | None = None
        self.task: asyncio.Task[Any] | None = None
        self.cancel_reason: str | None = None
        self.finishing = False
        self.checkpoints: Checkpointer | None = None
        self._deadline: float | None = None
        self._history: list[Any] = []
        self._thread_history: list[tuple[str, str]] = []
        self.publisher = RunPublisher(runtime.resources.redis, run_id)

    # -- control (called by the lease keeper) ---------------------------------------------------------
    def cancel(self, reason: str) -> None:
        if self.finishing or self.task is None or self.cancel_reason is not None:
            return
        self.cancel_reason = reason
        self.task.cancel()

    async def set_status(self, status: str) -> None:
        """``running <-> waiting`` (a handoff child runs); persisted and published like any event."""
        assert self.checkpoints is not None and status in states.EXECUTING
        await self.checkpoints.write([ledger.status_event(status)], {}, status=status)

    # -- lifecycle ------------------------------------------------------------------------------------
    async def execute(self) -> str:
        claimed = await retrying(self._claim, what="claim")
        if claimed is None:
            return "skipped"
        self.run, self._thread_history = claimed.run, claimed.history
        log.info("run.started", run_id=str(self.run_id), attempt=self.run.attempt)
        self.publisher.hold(claimed.events)  # rides along with the next publication
        self.task = asyncio.current_task()
        self.runtime.keeper.add(self)
        try:
            return await self._guarded()
        finally:
            self.runtime.keeper.remove(self)
            await self.publisher.flush()

    async def _claim(self) -> hotpath.Claimed | None:
        async with hot_connection(self.resources.engine) as conn:  # one statement
            return await hotpath.claim(
                conn,
                self.run_id,
                self.runtime.owner,
                self.settings.run_lease_seconds,
                history=HISTORY_ROWS,
            )

    async def _guarded(self) -> str:
        run = self.run
        assert run is not None
        started = run.started_at or datetime.now(UTC)
        try:
            config = _config(run)
            remaining = config.limits.max_run_seconds - (datetime.now(UTC) - started).total_seconds()
            if remaining <= 0:
                raise TimeoutError
            self._deadline = asyncio.get_running_loop().time() + remaining
            async with asyncio.timeout(remaining):
                outcome = await self._body(run, config)
            self.finishing = True
            await self._succeed(outcome)
            return states.SUCCEEDED
        except UsageLimitExceeded as err:
            return await self._end(states.FAILED, str(err), retries.limit_reason(str(err)))
        except TimeoutError:
            return await self._end(
                states.TIMED_OUT,
                f"The run exceeded its time limit ({_limit_seconds(run)} s)",
                states.REASON_MAX_RUN_SECONDS,
            )
        except asyncio.CancelledError:
            return await self._cancelled()
        except LeaseLost:
            log.warning("run.lease_lost", run_id=str(self.run_id))
            return "lease_lost"
        except (ConfigError, CredentialsError, ModelConfigError) as err:
            return await self._end(states.FAILED, str(err), states.REASON_CONFIG_ERROR)
        except ModelAPIError as err:
            return await self._end(states.FAILED, retries.describe(err), states.REASON_PROVIDER_ERROR)
        except UnexpectedModelBehavior as err:
            return await self._end(
                states.FAILED, f"Model error: {err.message}"[:1000], states.REASON_MODEL_ERROR
            )
        except Exception as err:
            log.exception("run.internal_error", run_id=str(self.run_id), error=type(err).__name__)
            return await self._end(
                states.FAILED, f"Internal error (run {self.run_id})", states.REASON_INTERNAL
            )

    async def _cancelled(self) -> str:
        task = asyncio.current_task()
        if self.cancel_reason == "user":
            if task is not None:
                task.uncancel()
            return await self._end(states.CANCELLED, None, states.REASON_CANCELLED)
        if self.cancel_reason == "lease_lost":
            if task is not None:
                task.uncancel()
            return "lease_lost"
        # The worker is shutting down: hand the run back so it resumes at once elsewhere.
        self.finishing = True
        try:
            await asyncio.shield(self._release())
        finally:
            raise asyncio.CancelledError

    async def _release(self) -> None:
        async with transaction(self.resources.sessions) as session:
            events = await ledger.release(session, self.run_id, self.runtime.owner, reason="worker_shutdown")
        await self.publisher.publish(events or [])
        log.info("run.released", run_id=str(self.run_id))

    # -- the work -----------------------------------------------------------------------------------
    async def _body(self, run: Run, config: AgentConfig) -> Outcome:
        deps, agent, state = await retrying(lambda: self._prepare(run, config), what="prepare")
        usage_limits = limits(config)
        attempt = 0
        while True:
            assert self.checkpoints is not None
            try:
                return await run_attempt(
                    agent,
                    state,
                    deps=deps,
                    usage=_usage_of(run),
                    usage_limits=usage_limits,
                    checkpoints=self.checkpoints,
                )
            except ModelAPIError as err:
                if not retries.retryable(err) or attempt >= self.settings.model_max_retries:
                    raise
                delay = retries.backoff(attempt, self.settings.model_retry_backoff, err.retry_after)
                attempt += 1
                log.warning(
                    "run.model_retry", run_id=str(self.run_id), attempt=attempt, error=type(err).__name__
                )
                self.checkpoints.delta("", kind="reset")  # the partial text streamed so far is void
                await asyncio.sleep(delay)
                state, run = await retrying(functools.partial(self._reload, run), what="reload")

    async def _prepare(self, run: Run, config: AgentConfig) -> tuple[RunDeps, Any, RunState]:
        async with autocommit(self.resources.engine) as session:  # reads only
            history = window(self._thread_history, config.memory.history_token_budget)
            steps = list(await session.scalars(repo.steps([run.id]))) if run.attempt > 0 else []
            actor = await _actor(session, run)
            creds = await resolve(
                session, self.settings, organization_id=run.organization_id, model=config.model, actor=actor
            )
            toolsets = await build_toolsets(session, self.resources, run, config, actor)
        self._history = history
        state = rebuild(history, run.input, steps)
        self.checkpoints = Checkpointer(
            self.resources,
            run,
            self.runtime.owner,
            next_seq=run.next_seq,
            step=state.steps,
            publisher=self.publisher,
        )
        self.checkpoints.persisted_tool_ids.update(state.tool_results)
        if run.attempt > 0:
            self.checkpoints.delta("", kind="reset")
        await prepare(config.model)
        checkpoints = self.checkpoints
        model = build_model(
            config.model,
            creds,
            timeout=self.settings.model_request_timeout,
            on_text=checkpoints.delta,
            client=self.settings.openai_client,
        )
        if streams_itself(model):
            stream = False  # text deltas reach the checkpointer from the model itself
        else:
            stream = parse_model(config.model).provider != "offline" or offline.streams(run.input)
        agent = run_spec(model, config, toolsets, stream=stream)
        deps = RunDeps(self.resources, run, actor, self)
        return deps, agent, state

    async def _reload(self, run: Run) -> tuple[RunState, Run]:
        async with self.resources.sessions() as session:
            fresh = (await session.scalars(repo.run(run.id))).one()
            steps = list(await session.scalars(repo.steps([run.id])))
        state = rebuild(self._history, run.input, steps)
        assert self.checkpoints is not None
        self.checkpoints.persisted_tool_ids.update(state.tool_results)
        return state, fresh

    # -- endings --------------------------------------------------------------------------------------
    async def _succeed(self, outcome: Outcome) -> None:
        assert self.checkpoints is not None and self.run is not None
        cp = self.checkpoints
        await cp.drain()
        message = ledger.NewEvent("message", None, {"role": "assistant", "content": outcome.output})
        usage = cp.usage_values(outcome.usage)
        await self._finish(
            states.SUCCEEDED,
            output=outcome.output,
            before=[*cp.pending, message],
            values=usage,
            assistant=outcome.output,
        )

    async def _end(self, status: str, error: str | None, reason: str) -> str:
        self.finishing = True
        await self._finish(status, error=error, reason=reason)
        log.info("run.ended", run_id=str(self.run_id), status=status, reason=reason)
        return status

    async def _finish(
        self,
        status: str,
        *,
        output: str | None = None,
        error: str | None = None,
        reason: str | None = None,
        before: list[ledger.NewEvent] | None = None,
        values: dict[str, Any] | None = None,
        assistant: str | None = None,
    ) -> None:
        run = self.run
        assert run is not None
        expected = self.checkpoints.next_seq if self.checkpoints is not None else run.next_seq
        events_before = before or []

        async def op() -> list[dict[str, Any]] | None:
            async with hot_connection(self.resources.engine) as conn:  # one statement
                return await hotpath.finish_owned(
                    conn,
                    run.id,
                    status,
                    owner=self.runtime.owner,
                    expect_seq=expected,
                    usage=values,
                    output=output,
                    error=error,
                    reason=reason,
                    before=events_before,
                    assistant=assistant if run.thread_id is not None else None,
                )

        written = await retrying(op, what="finish")
        await self.publisher.publish(written or [])


async def _actor(session: Any, run: Run) -> Actor:
    scopes = None
    if run.api_key_id is not None:
        found = await session.scalar(select(ApiKey.scopes).where(ApiKey.id == run.api_key_id))
        scopes = frozenset(found or ())
    if run.user_id is None:
        return Actor(
            kind="agent",
            organization_id=run.organization_id,
            agent_id=run.agent_id,
            run_id=run.id,
            scopes=frozenset(),
        )
    return Actor.for_run(
        user_id=run.user_id,
        organization_id=run.organization_id,
        agent_id=run.agent_id,
        run_id=run.id,
        scopes=scopes,
        api_key_id=run.api_key_id,
        request_id=run.request_id,
    )


def _config(run: Run) -> AgentConfig:
    try:
        return AgentConfig.model_validate(run.config)
    except ValidationError as err:
        raise ConfigError(f"The agent's configuration is invalid: {err.errors()[0]['msg']}") from None


def _limit_seconds(run: Run) -> Any:
    try:
        return AgentConfig.model_validate(run.config).limits.max_run_seconds
    except ValidationError:
        return "?"


def _usage_of(run: Run) -> RunUsage:
    return RunUsage(
        requests=run.requests,
        tool_calls=run.tool_calls,
        input_tokens=run.input_tokens,
        output_tokens=run.output_tokens,
    )
