"""The agent lifecycle end to end through GraphQL, with real sessions and the real policy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents.factories import World, make_world, snapshot
from tests.conftest import error_codes

AGENT_FIELDS = """id slug name description category tags archivedAt instructions model toolNames
  modelSettings { temperature maxTokens topP } tools { integrationId tools } handoffs
  limits { maxSteps maxTokens maxRunSeconds } memory { enabled historyTokenBudget }
  versions { number changelog } deployment { id isLive visibility version { number } }"""

CREATE = f"mutation($input: CreateAgentInput!) {{ createAgent(input: $input) {{ {AGENT_FIELDS} }} }}"
UPDATE = f"mutation($input: UpdateAgentInput!) {{ updateAgent(input: $input) {{ {AGENT_FIELDS} }} }}"
PUBLISH = """mutation($input: PublishAgentVersionInput!) {
  publishAgentVersion(input: $input) { id number changelog configHash authorId config { instructions } } }"""
DEPLOY = """mutation($input: DeployAgentInput!) {
  deployAgent(input: $input) { id visibility isLive version { id number } agent { id } } }"""
UNDEPLOY = "mutation($id: ID!) { undeployAgent(deploymentId: $id) { id isLive } }"
ARCHIVE = "mutation($id: ID!) { archiveAgent(id: $id) { id archivedAt deployment { isLive } } }"
RESTORE = "mutation($id: ID!) { restoreAgent(id: $id) { id archivedAt } }"
DIFF = """query($a: ID!, $b: ID!) { agentVersionDiff(fromVersionId: $a, toVersionId: $b) {
  fromVersion { number } toVersion { number } changes { path kind before after } } }"""
DEPLOYMENT = """query($id: ID!) { deployment(id: $id) { id isLive version { number }
  history { action fromVersion { number } toVersion { number } visibility actorId at } } }"""


@pytest.fixture
async def world(app: Any) -> World:
    return await make_world(app.state.resources)


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]  # type: ignore[no-any-return]


async def test_lifecycle_through_graphql(gql: Any, world: World) -> None:
    tok = world.tokens["builder"]
    created = ok(
        await gql(
            CREATE,
            {
                "input": {
                    "organizationId": str(world.a.id),
                    "name": "Trip Planner",
                    "description": "Plans trips to Japan",
                    "category": "travel",
                    "tags": ["Travel", "Japan"],
                    "instructions": "Plan trips.",
                    "model": "offline",
                    "tools": [{"integrationId": str(world.sql.id), "tools": ["query"]}],
                }
            },
            tok,
        )
    )["createAgent"]
    agent_id = created["id"]
    assert created["slug"] == "trip-planner" and created["tags"] == ["travel", "japan"]
    assert created["toolNames"] == ["query"] and created["versions"] == [] and created["deployment"] is None

    v1 = ok(await gql(PUBLISH, {"input": {"agentId": agent_id, "changelog": "first"}}, tok))[
        "publishAgentVersion"
    ]
    assert v1["number"] == 1 and v1["config"]["instructions"] == "Plan trips."
    refused = await gql(PUBLISH, {"input": {"agentId": agent_id, "changelog": "same"}}, tok)
    assert error_codes(refused) == ["CONFLICT"]

    edited = ok(
        await gql(
            UPDATE,
            {
                "input": {
                    "id": agent_id,
                    "instructions": "Plan great trips.",
                    "modelSettings": {"temperature": 0.3},
                    "limits": {"maxSteps": 5},
                }
            },
            tok,
        )
    )["updateAgent"]
    assert edited["modelSettings"]["temperature"] == 0.3 and edited["limits"]["maxSteps"] == 5
    assert edited["limits"]["maxRunSeconds"] == 120  # nested settings merge, untouched keys stay
    v2 = ok(await gql(PUBLISH, {"input": {"agentId": agent_id, "changelog": "better"}}, tok))[
        "publishAgentVersion"
    ]

    diff = ok(await gql(DIFF, {"a": v1["id"], "b": v2["id"]}, tok))["agentVersionDiff"]
    assert {(c["path"], c["kind"]) for c in diff["changes"]} == {
        ("instructions", "changed"),
        ("modelSettings.temperature", "changed"),
        ("limits.maxSteps", "changed"),
    }
    assert {
        "path": "instructions",
        "kind": "changed",
        "before": "Plan trips.",
        "after": "Plan great trips.",
    } in diff["changes"]

    d1 = ok(await gql(DEPLOY, {"input": {"versionId": v1["id"]}}, tok))["deployAgent"]
    assert d1["visibility"] == "ORGANIZATION" and d1["version"]["number"] == 1
    d2 = ok(await gql(DEPLOY, {"input": {"versionId": v2["id"], "visibility": "PUBLIC"}}, tok))["deployAgent"]
    assert d2["id"] == d1["id"] and d2["version"]["number"] == 2 and d2["visibility"] == "PUBLIC"
    d3 = ok(await gql(DEPLOY, {"input": {"versionId": v1["id"], "visibility": "PUBLIC"}}, tok))["deployAgent"]
    assert d3["id"] == d1["id"] and d3["version"]["number"] == 1  # rollback keeps the id
    assert ok(await gql(UNDEPLOY, {"id": d1["id"]}, tok))["undeployAgent"]["isLive"] is False

    history = ok(await gql(DEPLOYMENT, {"id": d1["id"]}, tok))["deployment"]["history"]
    moves = [
        (h["action"], (h["fromVersion"] or {}).get("number"), (h["toVersion"] or {}).get("number"))
        for h in reversed(history)
    ]
    assert moves == [("DEPLOY", None, 1), ("DEPLOY", 1, 2), ("DEPLOY", 2, 1), ("UNDEPLOY", 1, None)]
    assert all(h["actorId"] for h in history)

    ok(await gql(DEPLOY, {"input": {"versionId": v2["id"]}}, tok))
    archived = ok(await gql(ARCHIVE, {"id": agent_id}, tok))["archiveAgent"]
    assert archived["archivedAt"] and archived["deployment"]["isLive"] is False
    assert error_codes(await gql(DEPLOY, {"input": {"versionId": v2["id"]}}, tok)) == ["CONFLICT"]
    assert ok(await gql(RESTORE, {"id": agent_id}, tok))["restoreAgent"]["archivedAt"] is None


async def test_configuration_is_hidden_from_non_managers(gql: Any, world: World) -> None:
    created = ok(
        await gql(
            CREATE,
            {
                "input": {
                    "organizationId": str(world.a.id),
                    "name": "Secretive",
                    "instructions": "the secret sauce",
                }
            },
            world.tokens["owner"],
        )
    )
    query = "query($id: ID!) { agent(id: $id) { name instructions model toolNames config { model } } }"
    member = await gql(query, {"id": created["createAgent"]["id"]}, world.tokens["member"])
    assert member["data"]["agent"]["name"] == "Secretive"
    assert member["data"]["agent"]["instructions"] is None and member["data"]["agent"]["model"] is None
    assert set(error_codes(member)) == {"FORBIDDEN"} and len(member["errors"]) == 4
    assert "secret sauce" not in str(member)
    auditor = ok(await gql(query, {"id": created["createAgent"]["id"]}, world.tokens["auditor"]))
    assert auditor["agent"]["instructions"] == "the secret sauce"
    outsider = await gql(query, {"id": created["createAgent"]["id"]}, world.tokens["outsider"])
    assert outsider["data"]["agent"] is None and error_codes(outsider) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"model": "gpt-4o"}, "model"),
        ({"instructions": "i" * 32_001}, "instructions"),
        ({"modelSettings": {"temperature": 9}}, "modelSettings.temperature"),
        ({"tools": [{"integrationId": "not-an-id"}]}, "tools.0.integrationId"),
        ({"handoffs": ["00000000-0000-0000-0000-000000000000"]}, "handoffs.0"),
    ],
)
async def test_invalid_input_is_bad_user_input_and_changes_nothing(
    gql: Any, app: Any, world: World, variables: dict[str, Any], field: str
) -> None:
    before = await snapshot(app.state.resources.sessions)
    body = await gql(
        CREATE,
        {"input": {"organizationId": str(world.a.id), "name": "ok", **variables}},
        world.tokens["builder"],
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    assert await snapshot(app.state.resources.sessions) == before


async def test_anonymous_and_unauthorised_calls(gql: Any, app: Any, world: World) -> None:
    before = await snapshot(app.state.resources.sessions)
    data = {"input": {"organizationId": str(world.a.id), "name": "x"}}
    assert error_codes(await gql(CREATE, data)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(CREATE, data, world.tokens["member"])) == ["FORBIDDEN"]
    assert error_codes(await gql(CREATE, data, world.tokens["outsider"])) == ["NOT_FOUND"]
    assert await snapshot(app.state.resources.sessions) == before


async def test_organization_agents_pages_and_hides_archived(gql: Any, world: World) -> None:
    tok = world.tokens["owner"]
    ids = []
    for name in ("One", "Two", "Three"):
        data = ok(await gql(CREATE, {"input": {"organizationId": str(world.a.id), "name": name}}, tok))
        ids.append(data["createAgent"]["id"])
    ok(await gql(ARCHIVE, {"id": ids[0]}, tok))
    query = """query($slug: String!, $after: String, $all: Boolean!) { organization(slug: $slug) {
      agents(first: 1, after: $after, includeArchived: $all) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { name archivedAt } } } } }"""
    for include, expected in ((False, ["Three", "Two"]), (True, ["Three", "Two", "One"])):
        names, after = [], None
        while True:
            conn = ok(await gql(query, {"slug": world.a.slug, "after": after, "all": include}, tok))
            agents = conn["organization"]["agents"]
            assert agents["totalCount"] == len(expected)
            names += [e["node"]["name"] for e in agents["edges"]]
            if not agents["pageInfo"]["hasNextPage"]:
                break
            after = agents["pageInfo"]["endCursor"]
        assert names == expected
    outsider = await gql(query, {"slug": world.a.slug, "after": None, "all": False}, world.tokens["outsider"])
    assert outsider["data"] is None or outsider["data"]["organization"] is None


async def test_public_deployment_users_from_other_orgs_see_no_agent_internals(gql: Any, world: World) -> None:
    tok = world.tokens["owner"]
    agent = ok(
        await gql(CREATE, {"input": {"organizationId": str(world.a.id), "name": "Public helper"}}, tok)
    )
    version = ok(await gql(PUBLISH, {"input": {"agentId": agent["createAgent"]["id"]}}, tok))
    deployment = ok(
        await gql(
            DEPLOY,
            {"input": {"versionId": version["publishAgentVersion"]["id"], "visibility": "PUBLIC"}},
            tok,
        )
    )["deployAgent"]
    query = """query($id: ID!) { deployment(id: $id) { id isLive agent { name }
      version { number author { email } config { instructions } } } }"""
    body = await gql(query, {"id": deployment["id"]}, world.tokens["outsider"])
    seen = body["data"]["deployment"]
    assert seen["isLive"] is True and seen["version"]["number"] == 1
    assert seen["agent"] is None and seen["version"]["author"] is None and seen["version"]["config"] is None
    assert error_codes(body) == ["FORBIDDEN"] * 3
    member = ok(
        await gql(
            query.replace(" config { instructions }", ""), {"id": deployment["id"]}, world.tokens["member"]
        )
    )["deployment"]
    assert member["agent"]["name"] == "Public helper" and member["version"]["author"]["email"]
