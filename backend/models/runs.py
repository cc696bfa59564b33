"""Threads, messages, runs and their persisted steps/events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, TimestampMixin, utcnow


class Thread(IdMixin, TimestampMixin, Base):
    """A conversation of one user with one deployment (or with a draft, in the playground)."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_user_updated", "user_id", "updated_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    is_playground: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    title: Mapped[str] = mapped_column(String(200), default="")
    deleted_at: Mapped[datetime | None]
    # Allocator for ``messages.seq``: bumped with UPDATE ... RETURNING, which also orders concurrent sends.
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Message(IdMixin, Base):
    """A message of a thread; ``seq`` orders a thread's messages (a run sees those before its own)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_thread_created", "thread_id", "created_at"),
        UniqueConstraint("thread_id", "seq"),
    )

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Run(IdMixin, TimestampMixin, Base):
    """One execution of an agent. ``status`` changes only through guarded updates."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time"),
        UniqueConstraint("parent_run_id", "parent_tool_call_id"),
        Index("ix_runs_org_created", "organization_id", "created_at"),
        Index("ix_runs_agent_created", "agent_id", "created_at"),
        Index("ix_runs_user_created", "user_id", "created_at"),
        Index(
            "ix_runs_active",
            "status",
            "lease_expires_at",
            postgresql_where=text("status IN ('queued', 'running', 'waiting')"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True
    )
    version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_versions.id", ondelete="SET NULL"))
    thread_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(16))  # chat|playground|schedule|webhook|handoff|api
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    status_reason: Mapped[str | None] = mapped_column(Text)
    input: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # The configuration the run executes with, frozen at creation (version or draft snapshot).
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    parent_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The parent's tool call that created this child: a resumed parent finds its child instead of forking.
    parent_tool_call_id: Mapped[str | None] = mapped_column(String(100))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    fire_time: Mapped[datetime | None]
    attempt: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    next_seq: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tool_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0), server_default="0")
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Model name as configured (``offline``, ``openai:gpt-4o-mini``...), for cost and listings.
    model: Mapped[str | None] = mapped_column(String(160))
    # ``messages.seq`` of the user message that started a chat run: the history it sees ends before it.
    thread_seq: Mapped[int | None] = mapped_column(Integer)


class RunEvent(Base):
    """A persisted, numbered event of a run (status change, step, message, done).

    Steps (model request/response, tool call/result) are events of type ``step``;
    replaying this table after a sequence number rebuilds a run's live stream.
    """

    __tablename__ = "run_events"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))  # status | step | message | done
    kind: Mapped[str | None] = mapped_column(String(24))  # for steps: model_request, tool_call, ...
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
