"""Configured integrations of an organisation; secrets are stored encrypted only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdMixin, TimestampMixin, utcnow


class Integration(IdMixin, TimestampMixin, Base):
    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # AES-GCM ciphertext envelope: {"kid": ..., "nonce": ..., "ct": ...}, bound to the organisation.
    secrets: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Cached discovery results (e.g. an MCP server's tool list) and when they were fetched.
    cache: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def detached(self) -> Integration:
        """A copy bound to no session: a run (or a worker's cache) keeps using it after the session
        that loaded it is gone."""
        return Integration(
            id=self.id,
            organization_id=self.organization_id,
            type=self.type,
            name=self.name,
            config=dict(self.config or {}),
            secrets=self.secrets,
            cache=dict(self.cache or {}),
            created_by_id=self.created_by_id,
        )


class IntegrationKey(Base):
    """One generation of the integration-secret key ring (the newest encrypts).

    The key itself is never stored: it is derived from the master secret and ``kid`` with HKDF,
    so rows only record which generations exist. ``agentry keys rotate`` adds one.
    """

    __tablename__ = "integration_keys"

    generation: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
