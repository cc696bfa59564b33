"""Agents (editable draft), immutable versions, deployments and their history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Computed,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, validates

from backend.db import Base, IdMixin, TimestampMixin

# Weighted document for marketplace ranking: name beats tags beats description.
SEARCH_EXPRESSION = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(category, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'C')"
)


class Agent(IdMixin, TimestampMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("organization_id", "slug"),
        Index("ix_agents_search", "search", postgresql_using="gin"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(60), index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    # Space-joined tags for the search vector (array_to_string is not immutable).
    tags_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    icon: Mapped[str | None] = mapped_column(String(60))
    example_prompts: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # Draft configuration (instructions, model, settings, tools, memory, handoffs, limits).
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None]
    # Deferred: only SQL reads it (ranking); loading it with every agent would waste bandwidth.
    search: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_EXPRESSION, persisted=True), deferred=True, deferred_raiseload=True
    )

    @validates("tags")
    def _sync_tags_text(self, _key: str, tags: list[str]) -> list[str]:
        self.tags_text = " ".join(tags)
        return tags


class AgentVersion(IdMixin, Base):
    """A frozen, numbered snapshot of an agent's configuration; never updated."""

    __tablename__ = "agent_versions"
    __table_args__ = (UniqueConstraint("agent_id", "number"),)

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    config_hash: Mapped[str] = mapped_column(String(64))
    changelog: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


@event.listens_for(AgentVersion, "before_update")
def _versions_are_immutable(_mapper: object, _connection: object, target: AgentVersion) -> None:
    raise RuntimeError(f"agent version {target.id} is immutable")


class Deployment(IdMixin, TimestampMixin, Base):
    """An agent's one place in the marketplace; moving it to another version keeps its id."""

    __tablename__ = "deployments"
    __table_args__ = (
        Index("ix_deployments_live", "organization_id", "visibility", "undeployed_at"),
        # Keyset pagination of the marketplace's NEWEST and MOST_USED orders (live rows only).
        Index("ix_deployments_newest", "deployed_at", "id", postgresql_where=text("undeployed_at IS NULL")),
        Index(
            "ix_deployments_most_used", "usage_count", "id", postgresql_where=text("undeployed_at IS NULL")
        ),
    )

    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), unique=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_versions.id", ondelete="RESTRICT"))
    visibility: Mapped[str] = mapped_column(String(16))  # organization | public
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    undeployed_at: Mapped[datetime | None]
    usage_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Copy of agents.category (kept by the agents service) so the marketplace's category facets
    # count live deployments without joining agents: the landing page's most expensive query.
    category: Mapped[str | None] = mapped_column(String(60))


class DeploymentEvent(IdMixin, Base):
    """One move of a deployment: deploy, redeploy (incl. rollback) or undeploy."""

    __tablename__ = "deployment_events"

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # deploy | undeploy
    from_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent_versions.id", ondelete="SET NULL")
    )
    to_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agent_versions.id", ondelete="SET NULL")
    )
    visibility: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
