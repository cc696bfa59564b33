"""All ORM models, imported here so Alembic sees one complete metadata."""

from backend.models.agents import Agent, AgentVersion, Deployment, DeploymentEvent
from backend.models.audit import AuditChainHead, AuditEvent
from backend.models.identity import ApiKey, Session, User
from backend.models.integrations import Integration, IntegrationKey
from backend.models.memory import MemoryItem
from backend.models.orgs import AgentGrant, Invitation, Membership, Organization
from backend.models.runs import Message, Run, RunEvent, Thread
from backend.models.schedules import Schedule, WebhookTrigger

__all__ = [
    "Agent",
    "AgentGrant",
    "AgentVersion",
    "ApiKey",
    "AuditChainHead",
    "AuditEvent",
    "Deployment",
    "DeploymentEvent",
    "Integration",
    "IntegrationKey",
    "Invitation",
    "Membership",
    "MemoryItem",
    "Message",
    "Organization",
    "Run",
    "RunEvent",
    "Schedule",
    "Session",
    "Thread",
    "User",
    "WebhookTrigger",
]
