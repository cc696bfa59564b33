"""SQL of the runs domain: composable ``select()`` statements (services narrow and execute them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select

from backend.models import Message, Run, RunEvent, Thread


def run(run_id: uuid.UUID, *, for_update: bool = False) -> Select[Any]:
    stmt = select(Run).where(Run.id == run_id)
    return stmt.with_for_update() if for_update else stmt


def runs_by_ids(ids: Sequence[uuid.UUID]) -> Select[Any]:
    return select(Run).where(Run.id.in_(ids))


def child_runs(parent_ids: Sequence[uuid.UUID]) -> Select[Any]:
    return select(Run).where(Run.parent_run_id.in_(parent_ids)).order_by(Run.created_at, Run.id)


def thread(thread_id: uuid.UUID) -> Select[Any]:
    return select(Thread).where(Thread.id == thread_id, Thread.deleted_at.is_(None))


def events_after(run_id: uuid.UUID, after_seq: int, *, limit: int = 1000) -> Select[Any]:
    return (
        select(RunEvent)
        .where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
        .order_by(RunEvent.seq)
        .limit(limit)
    )


def steps(run_ids: Sequence[uuid.UUID]) -> Select[Any]:
    return (
        select(RunEvent)
        .where(RunEvent.run_id.in_(run_ids), RunEvent.type == "step")
        .order_by(RunEvent.run_id, RunEvent.seq)
    )


def messages(thread_ids: Sequence[uuid.UUID]) -> Select[Any]:
    return select(Message).where(Message.thread_id.in_(thread_ids)).order_by(Message.thread_id, Message.seq)


def history(thread_id: uuid.UUID, before_seq: int, *, limit: int) -> Select[str, str]:
    """The newest ``limit`` messages before ``before_seq``, newest first (the caller windows them)."""
    return (
        select(Message.role, Message.content)
        .where(Message.thread_id == thread_id, Message.seq < before_seq)
        .order_by(Message.seq.desc())
        .limit(limit)
    )


def keyset(
    stmt: Select[Any], column: Any, id_column: Any, after: tuple[datetime, uuid.UUID] | None
) -> Select[Any]:
    """Newest-first keyset pagination on ``(column, id)``."""
    if after is not None:
        at, last_id = after
        stmt = stmt.where(or_(column < at, and_(column == at, id_column < last_id)))
    return stmt.order_by(column.desc(), id_column.desc())
