"""Per-request DataLoaders for relations of threads and runs (one short read session per batch)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from strawberry.dataloader import DataLoader

from backend.authz import is_allowed
from backend.models import Message, Run, RunEvent, Thread
from backend.runs import repository as repo
from graph.context import Context, Info

THREAD_RUNS = 100


def _grouped(ctx: Context, query: Any, key: str) -> DataLoader[uuid.UUID, list[Any]]:
    async def load(keys: list[uuid.UUID]) -> Sequence[list[Any]]:
        groups: dict[uuid.UUID, list[Any]] = defaultdict(list)
        async with ctx.resources.sessions() as session:
            for row in await session.scalars(query(keys)):
                groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load)


def _readable(ctx: Context, model: Any) -> DataLoader[uuid.UUID, Any]:
    """Rows by id, or None when missing or the viewer may not read them."""

    async def load(keys: list[uuid.UUID]) -> Sequence[Any]:
        async with ctx.resources.sessions() as session:
            found = await session.scalars(select(model).where(model.id.in_(keys)))
            rows: dict[uuid.UUID, Any] = {r.id: r for r in found}
            out = []
            for k in keys:
                row = rows.get(k)
                ok = row is not None and await is_allowed(session, ctx.actor, "read", row)
                out.append(row if ok else None)
        return out

    return DataLoader(load)


def _thread_runs(keys: list[uuid.UUID]) -> Any:
    ranked = (
        select(
            Run, func.row_number().over(partition_by=Run.thread_id, order_by=Run.created_at.desc()).label("n")
        )
        .where(Run.thread_id.in_(keys))
        .subquery()
    )
    return (
        select(Run)
        .join(ranked, Run.id == ranked.c.id)
        .where(ranked.c.n <= THREAD_RUNS)
        .order_by(Run.created_at.desc())
    )


def messages_by_thread(info: Info) -> DataLoader[uuid.UUID, list[Message]]:
    return info.context.loader("runs.messages_by_thread", lambda c: _grouped(c, repo.messages, "thread_id"))


def runs_by_thread(info: Info) -> DataLoader[uuid.UUID, list[Run]]:
    return info.context.loader("runs.runs_by_thread", lambda c: _grouped(c, _thread_runs, "thread_id"))


def steps_by_run(info: Info) -> DataLoader[uuid.UUID, list[RunEvent]]:
    return info.context.loader("runs.steps_by_run", lambda c: _grouped(c, repo.steps, "run_id"))


def children_by_run(info: Info) -> DataLoader[uuid.UUID, list[Run]]:
    return info.context.loader(
        "runs.children_by_run", lambda c: _grouped(c, repo.child_runs, "parent_run_id")
    )


def readable_thread(info: Info) -> DataLoader[uuid.UUID, Thread | None]:
    return info.context.loader("runs.readable_thread", lambda c: _readable(c, Thread))


def readable_run(info: Info) -> DataLoader[uuid.UUID, Run | None]:
    return info.context.loader("runs.readable_run", lambda c: _readable(c, Run))
