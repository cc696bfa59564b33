"""Access control seen through the API: field rules, tenancy, denials, keys, audit queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from backend.audit import drain_deferred
from backend.db import utcnow
from backend.models import Agent, ApiKey, AuditEvent, Membership
from tests.conftest import error_codes
from tests.identity.helpers import create_org, sign_up

AGENT_Q = "query($id: ID!) { agent(id: $id) { id name description instructions } }"
CREATE_AGENT = """mutation($i: CreateAgentInput!) { createAgent(input: $i) { id } }"""
ADD_MEMBER = """mutation($i: AddMemberInput!) { addMember(input: $i) { id role status invitationToken } }"""
CREATE_KEY = (
    """mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id prefix scopes } } }"""
)


class Org:
    def __init__(self, gql: Any) -> None:
        self.gql = gql
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def setup(self) -> Org:
        self.tokens["owner"], self.ids["owner"] = await sign_up(self.gql, "owner@acme.test")
        self.org_id = await create_org(self.gql, self.tokens["owner"], "acme")
        for role in ("admin", "builder", "member", "auditor"):
            self.tokens[role], self.ids[role] = await sign_up(self.gql, f"{role}@acme.test")
            body = await self.gql(
                ADD_MEMBER,
                {"i": {"organizationId": self.org_id, "email": f"{role}@acme.test", "role": role.upper()}},
                token=self.tokens["owner"],
            )
            assert body["data"]["addMember"]["status"] == "ACTIVE", body
        self.tokens["outsider"], self.ids["outsider"] = await sign_up(self.gql, "eve@evil.test")
        await create_org(self.gql, self.tokens["outsider"], "evil")
        body = await self.gql(
            CREATE_AGENT,
            {
                "i": {
                    "organizationId": self.org_id,
                    "name": "Helper",
                    "description": "Helps",
                    "instructions": "TOP SECRET PROMPT",
                }
            },
            token=self.tokens["builder"],
        )
        assert "errors" not in body, body
        self.agent_id = body["data"]["createAgent"]["id"]
        return self


@pytest.fixture
async def acme(gql: Any) -> Org:
    return await Org(gql).setup()


async def test_member_reads_listing_but_not_instructions(acme: Org) -> None:
    body = await acme.gql(AGENT_Q, {"id": acme.agent_id}, token=acme.tokens["member"])
    assert body["data"]["agent"]["name"] == "Helper"
    assert body["data"]["agent"]["instructions"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["agent", "instructions"], "FORBIDDEN")
    ]
    for manager in ("builder", "owner", "admin", "auditor"):
        seen = await acme.gql(AGENT_Q, {"id": acme.agent_id}, token=acme.tokens[manager])
        assert seen["data"]["agent"]["instructions"] == "TOP SECRET PROMPT", (manager, seen)


async def test_outsider_gets_not_found(acme: Org) -> None:
    body = await acme.gql(AGENT_Q, {"id": acme.agent_id}, token=acme.tokens["outsider"])
    assert body["data"]["agent"] is None and error_codes(body) == ["NOT_FOUND"]
    missing = await acme.gql(
        AGENT_Q, {"id": "01a21385-da1d-7c06-bde5-a5b9fe5894bc"}, token=acme.tokens["outsider"]
    )
    assert missing["errors"][0]["message"] == body["errors"][0]["message"]  # no hint that it exists
    org = await acme.gql('query { organization(slug: "acme") { id name } }', token=acme.tokens["outsider"])
    assert org["data"]["organization"] is None and error_codes(org) == ["NOT_FOUND"]
    nope = await acme.gql('query { organization(slug: "nope") { id } }', token=acme.tokens["outsider"])
    assert nope["errors"][0]["message"] == org["errors"][0]["message"]


async def test_denied_mutation_changes_nothing_and_is_audited(acme: Org, resources: Any) -> None:
    async def snapshot() -> tuple[Any, ...]:
        async with resources.sessions() as s:
            agent = await s.get(Agent, acme.agent_id)
            members = (await s.execute(select(func.count()).select_from(Membership))).scalar_one()
            assert agent is not None
            return agent.name, agent.config, agent.updated_at, members

    before = await snapshot()
    edit = await acme.gql(
        "mutation($i: UpdateAgentInput!) { updateAgent(input: $i) { id } }",
        {"i": {"id": acme.agent_id, "name": "Pwned", "instructions": "evil"}},
        token=acme.tokens["member"],
    )
    assert error_codes(edit) == ["FORBIDDEN"]
    invite = await acme.gql(
        ADD_MEMBER,
        {"i": {"organizationId": acme.org_id, "email": "x@acme.test", "role": "OWNER"}},
        token=acme.tokens["member"],
    )
    assert error_codes(invite) == ["FORBIDDEN"]
    promote = await acme.gql(
        "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }",
        {"i": {"organizationId": acme.org_id, "userId": acme.ids["admin"], "role": "OWNER"}},
        token=acme.tokens["admin"],
    )
    assert error_codes(promote) == ["FORBIDDEN"]  # only owners make owners
    assert await snapshot() == before
    await drain_deferred()
    async with resources.sessions() as s:
        denied = (
            await s.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied").order_by(AuditEvent.seq))
        ).all()
    assert [(e.action, str(e.actor_id)) for e in denied] == [
        ("agent.edit", acme.ids["member"]),
        ("organization.manage_members", acme.ids["member"]),
        ("organization.manage_owners", acme.ids["admin"]),
    ]


async def test_last_owner_is_kept(acme: Org, gql: Any) -> None:
    change = "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { role } }"
    remove = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { id } }"
    me = {"organizationId": acme.org_id, "userId": acme.ids["owner"]}
    assert error_codes(await gql(change, {"i": {**me, "role": "ADMIN"}}, token=acme.tokens["owner"])) == [
        "CONFLICT"
    ]
    assert error_codes(await gql(remove, {"i": me}, token=acme.tokens["owner"])) == ["CONFLICT"]
    promoted = await gql(
        change,
        {"i": {"organizationId": acme.org_id, "userId": acme.ids["admin"], "role": "OWNER"}},
        token=acme.tokens["owner"],
    )
    assert promoted["data"]["changeMemberRole"]["role"] == "OWNER"
    assert "errors" not in await gql(remove, {"i": me}, token=acme.tokens["owner"])  # leaving is fine now
    gone = await gql('query { organization(slug: "acme") { id } }', token=acme.tokens["owner"])
    assert error_codes(gone) == ["NOT_FOUND"]


async def test_invitation_flow(acme: Org, gql: Any) -> None:
    body = await gql(
        ADD_MEMBER,
        {"i": {"organizationId": acme.org_id, "email": "New@Person.test", "role": "BUILDER"}},
        token=acme.tokens["admin"],
    )
    invited = body["data"]["addMember"]
    assert invited["status"] == "INVITED" and invited["invitationToken"].startswith("agi_")
    accept = "mutation($t: String!) { acceptInvitation(token: $t) { role status organization { slug } } }"
    assert error_codes(
        await gql(accept, {"t": invited["invitationToken"]}, token=acme.tokens["outsider"])
    ) == ["NOT_FOUND"]  # someone else's invitation
    token, _ = await sign_up(gql, "new@person.test")
    ok = await gql(accept, {"t": invited["invitationToken"]}, token=token)
    assert ok["data"]["acceptInvitation"] == {
        "role": "BUILDER",
        "status": "ACTIVE",
        "organization": {"slug": "acme"},
    }
    assert error_codes(await gql(accept, {"t": invited["invitationToken"]}, token=token)) == ["NOT_FOUND"]
    viewer = await gql("{ viewer { organizations { slug viewerRole } } }", token=token)
    assert viewer["data"]["viewer"]["organizations"] == [{"slug": "acme", "viewerRole": "BUILDER"}]


async def test_agent_grants(acme: Org, gql: Any) -> None:
    grant = "mutation($i: GrantAgentRoleInput!) { grantAgentRole(input: $i) { role } }"
    args = {"agentId": acme.agent_id, "userId": acme.ids["member"], "role": "EDITOR"}
    assert error_codes(await gql(grant, {"i": args}, token=acme.tokens["member"])) == ["FORBIDDEN"]
    assert (await gql(grant, {"i": args}, token=acme.tokens["builder"]))["data"]["grantAgentRole"][
        "role"
    ] == "EDITOR"
    seen = await gql(AGENT_Q, {"id": acme.agent_id}, token=acme.tokens["member"])
    assert seen["data"]["agent"]["instructions"] == "TOP SECRET PROMPT" and "errors" not in seen
    outsider = {**args, "userId": acme.ids["outsider"]}
    assert error_codes(await gql(grant, {"i": outsider}, token=acme.tokens["builder"])) == ["BAD_USER_INPUT"]


async def test_api_keys_narrow_their_owner(acme: Org, gql: Any, resources: Any) -> None:
    made = await gql(
        CREATE_KEY,
        {"i": {"organizationId": acme.org_id, "name": "ci", "scopes": ["agents:read"]}},
        token=acme.tokens["owner"],
    )
    secret = made["data"]["createApiKey"]["secret"]
    assert secret.startswith(made["data"]["createApiKey"]["apiKey"]["prefix"] + "_")
    assert (await gql(AGENT_Q, {"id": acme.agent_id}, token=secret))["data"]["agent"]["instructions"]
    edit = await gql(
        "mutation($i: UpdateAgentInput!) { updateAgent(input: $i) { id } }",
        {"i": {"id": acme.agent_id, "name": "Renamed"}},
        token=secret,
    )
    assert error_codes(edit) == ["FORBIDDEN"]
    # A key cannot mint keys, even with every scope.
    again = await gql(
        CREATE_KEY,
        {"i": {"organizationId": acme.org_id, "name": "x", "scopes": ["agents:read"]}},
        token=secret,
    )
    assert error_codes(again) == ["FORBIDDEN"]
    bad = await gql(
        CREATE_KEY,
        {"i": {"organizationId": acme.org_id, "name": "x", "scopes": ["root"]}},
        token=acme.tokens["owner"],
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    # A member's key with every scope still cannot do what the member cannot.
    member_key = await gql(
        CREATE_KEY,
        {"i": {"organizationId": acme.org_id, "name": "m", "scopes": ["agents:read"]}},
        token=acme.tokens["member"],
    )
    assert error_codes(member_key) == ["FORBIDDEN"]  # members do not create keys
    listing = await gql(
        'query { organization(slug: "acme") { apiKeys { prefix scopes lastUsedAt revokedAt } } }',
        token=acme.tokens["owner"],
    )
    keys = listing["data"]["organization"]["apiKeys"]
    assert [k["scopes"] for k in keys] == [["agents:read"]] and keys[0]["lastUsedAt"] is not None
    key_id = made["data"]["createApiKey"]["apiKey"]["id"]
    revoked = await gql(
        "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
        {"id": key_id},
        token=acme.tokens["owner"],
    )
    assert revoked["data"]["revokeApiKey"]["revokedAt"]
    assert error_codes(await gql(AGENT_Q, {"id": acme.agent_id}, token=secret)) == ["UNAUTHENTICATED"]


async def test_expired_and_forged_keys_are_unauthenticated(acme: Org, gql: Any, resources: Any) -> None:
    made = await gql(
        CREATE_KEY,
        {
            "i": {
                "organizationId": acme.org_id,
                "name": "t",
                "scopes": ["runs:read"],
                "expiresAt": (utcnow() + timedelta(days=1)).isoformat(),
            }
        },
        token=acme.tokens["admin"],
    )
    secret = made["data"]["createApiKey"]["secret"]
    assert (await gql("{ viewer { id } }", token=secret))["data"]["viewer"]["id"] == acme.ids["admin"]
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert error_codes(await gql("{ viewer { id } }", token=forged)) == ["UNAUTHENTICATED"]
    async with resources.sessions() as s, s.begin():
        await s.execute(update(ApiKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert error_codes(await gql("{ viewer { id } }", token=secret)) == ["UNAUTHENTICATED"]


async def test_service_account_keys(acme: Org, gql: Any) -> None:
    sa = await gql(
        "mutation($i: CreateServiceAccountInput!) {"
        " createServiceAccount(input: $i) { id isServiceAccount } }",
        {"i": {"organizationId": acme.org_id, "name": "CI bot", "role": "BUILDER"}},
        token=acme.tokens["admin"],
    )
    sa_id = sa["data"]["createServiceAccount"]["id"]
    made = await gql(
        CREATE_KEY,
        {
            "i": {
                "organizationId": acme.org_id,
                "name": "bot",
                "userId": sa_id,
                "scopes": ["agents:read", "agents:write"],
            }
        },
        token=acme.tokens["admin"],
    )
    secret = made["data"]["createApiKey"]["secret"]
    created = await gql(
        CREATE_AGENT, {"i": {"organizationId": acme.org_id, "name": "Bot agent"}}, token=secret
    )
    assert "errors" not in created, created
    stolen = await gql(
        CREATE_KEY,
        {
            "i": {
                "organizationId": acme.org_id,
                "name": "x",
                "userId": acme.ids["member"],
                "scopes": ["agents:read"],
            }
        },
        token=acme.tokens["admin"],
    )
    assert error_codes(stolen) == ["BAD_USER_INPUT"]  # keys for other people are refused


AUDIT_Q = """query($org: ID!, $first: Int, $after: String, $action: String) {
  auditEvents(organizationId: $org, first: $first, after: $after, action: $action) {
    edges { cursor node { action outcome actorId resourceType hash } }
    pageInfo { hasNextPage endCursor } } }"""


async def test_audit_events_query(acme: Org, gql: Any) -> None:
    for role in ("owner", "admin", "auditor"):
        body = await gql(AUDIT_Q, {"org": acme.org_id, "first": 3}, token=acme.tokens[role])
        assert len(body["data"]["auditEvents"]["edges"]) == 3, body
    for role, code in (("member", "FORBIDDEN"), ("builder", "FORBIDDEN"), ("outsider", "NOT_FOUND")):
        assert error_codes(await gql(AUDIT_Q, {"org": acme.org_id}, token=acme.tokens[role])) == [code]
    seen, after = [], None
    while True:
        page = (
            await gql(AUDIT_Q, {"org": acme.org_id, "first": 2, "after": after}, token=acme.tokens["owner"])
        )["data"]["auditEvents"]
        seen += [e["node"]["action"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen[-1] == "organization.create" and "agent.create" in seen
    added = await gql(AUDIT_Q, {"org": acme.org_id, "action": "member.add"}, token=acme.tokens["auditor"])
    assert len(added["data"]["auditEvents"]["edges"]) == 4


async def test_audit_export_route(acme: Org, client: httpx.AsyncClient) -> None:
    url = f"/audit/export?organizationId={acme.org_id}"
    ok = await client.get(url, headers={"Authorization": f"Bearer {acme.tokens['auditor']}"})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/x-ndjson")
    lines = ok.text.strip().splitlines()
    assert '"action": "organization.create"' in lines[0] and len(lines) >= 6
    assert (await client.get(url)).status_code == 401
    assert (
        await client.get(url, headers={"Authorization": f"Bearer {acme.tokens['member']}"})
    ).status_code == 403
    assert (
        await client.get(url, headers={"Authorization": f"Bearer {acme.tokens['outsider']}"})
    ).status_code == 404
