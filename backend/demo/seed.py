"""``agentry seed``: the demo organisation, its users and deployed agents (see API.md).

Runs only on an empty database (no users), so restarts never duplicate anything. Passwords
are random per installation and written to ``<data dir>/demo-credentials.txt``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import func, select

from backend.agents import service as agents
from backend.authz import Actor
from backend.db import transaction
from backend.demo.agents import DEMO_AGENTS
from backend.identity import service as identity
from backend.models import Deployment, User
from backend.orgs import service as orgs
from backend.resources import Resources, ServiceUrls, open_resources
from backend.settings import Settings

DEMO_ORG = ("Demo", "demo")
# role in the organisation, e-mail, display name
DEMO_USERS = [
    ("owner", "owner@demo.example.com", "Olivia Owner"),
    ("builder", "builder@demo.example.com", "Bruno Builder"),
    ("auditor", "auditor@demo.example.com", "Ada Auditor"),
    ("member", "user@demo.example.com", "Emma Enduser"),
]


def _password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def _as_user(user: User) -> Actor:
    return Actor(kind="user", user_id=user.id, request_id="seed")


async def seed_demo(settings: Settings, urls: ServiceUrls, *, force: bool = False) -> bool:
    """Returns whether anything was created."""
    resources = await open_resources(settings, urls)
    try:
        async with resources.sessions() as session:
            users = await session.scalar(select(func.count()).select_from(User))
        if users and not force:
            return False
        credentials = await _create(resources)
    finally:
        await resources.close()
    _write_credentials(settings.resolved_data_dir / "demo-credentials.txt", credentials)
    return True


async def _create(resources: Resources) -> list[tuple[str, str, str]]:
    credentials: list[tuple[str, str, str]] = []
    people: dict[str, User] = {}
    async with transaction(resources.sessions) as session:
        for role, email, name in DEMO_USERS:
            password = _password()
            user, _token = await identity.sign_up(
                session,
                resources,
                Actor.anonymous(request_id="seed"),
                email=email,
                password=password,
                display_name=name,
            )
            people[role] = user
            credentials.append((role, email, password))
        org = await orgs.create_organization(
            session, _as_user(people["owner"]), name=DEMO_ORG[0], slug=DEMO_ORG[1]
        )
        for role in ("builder", "auditor", "member"):
            await orgs.add_member(
                session,
                _as_user(people["owner"]),
                organization_id=org.id,
                email=people[role].email,
                role=role,
            )
    builder = _as_user(people["builder"])
    deployments: dict[str, Deployment] = {}
    for spec in DEMO_AGENTS:
        async with transaction(resources.sessions) as session:
            data = {k: v for k, v in spec.items() if k not in ("visibility", "handoff_to")}
            data["handoffs"] = [str(deployments[slug].id) for slug in spec.get("handoff_to", [])]
            agent = await agents.create(session, builder, organization_id=org.id, data=data)
            version = await agents.publish(session, builder, agent_id=agent.id, changelog="First version")
            deployments[spec["slug"]] = await agents.deploy(
                session, builder, version_id=version.id, visibility=spec["visibility"]
            )
    return credentials


def _write_credentials(path: Path, credentials: list[tuple[str, str, str]]) -> None:
    path.write_text("".join(f"{role} {email} {password}\n" for role, email, password in credentials))
    path.chmod(0o600)
