"""Demo data: created once on an empty database, usable through the API, never duplicated."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from backend.demo import seed_demo
from backend.demo.seed import DEMO_USERS
from backend.models import Deployment, User
from backend.resources import Resources, ServiceUrls
from backend.settings import Settings


async def test_seed_creates_demo_org_logins_and_deployed_agents(
    settings: Settings, service_urls: ServiceUrls, resources: Resources, gql: Any
) -> None:
    assert await seed_demo(settings, service_urls) is True
    lines = (settings.resolved_data_dir / "demo-credentials.txt").read_text().splitlines()
    roles = [line.split()[0] for line in lines]
    assert roles == ["owner", "builder", "auditor", "member"]
    assert oct((settings.resolved_data_dir / "demo-credentials.txt").stat().st_mode)[-3:] == "600"

    _, email, password = next(line.split() for line in lines if line.startswith("member "))
    login = await gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token user { email } } }",
        {"i": {"email": email, "password": password}},
    )
    assert login["data"]["logIn"]["user"]["email"] == email
    token = login["data"]["logIn"]["token"]
    market = await gql("{ marketplace(first: 20) { edges { node { name organizationSlug } } } }", token=token)
    names = {e["node"]["name"] for e in market["data"]["marketplace"]["edges"]}
    assert {"Echo Assistant", "Support Triage", "Memory Coach", "Research Router"} <= names

    # A second run (every `make up`) changes nothing.
    assert await seed_demo(settings, service_urls) is False
    async with resources.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
        assert await session.scalar(select(func.count()).select_from(Deployment)) == 4
