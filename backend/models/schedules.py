"""Cron schedules and inbound webhook triggers of deployments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, TimestampMixin


class Schedule(IdMixin, TimestampMixin, Base):
    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_due", "next_fire_at", postgresql_where=text("status = 'active'")),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    cron: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    input: Mapped[str] = mapped_column(String(8000), default="")
    misfire_policy: Mapped[str] = mapped_column(String(16), default="skip")  # skip | catch_up_once
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused | suspended
    status_reason: Mapped[str | None] = mapped_column(String(400))
    next_fire_at: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]


class WebhookTrigger(IdMixin, TimestampMixin, Base):
    """A revocable inbound URL ``/hooks/{token}`` that starts runs of a deployment."""

    __tablename__ = "webhook_triggers"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[bytes] = mapped_column(unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
