"""The GraphQL surface: integrationTypes, create/update/delete/test, organization.integrations.

Secrets go in and never come out: no response contains a secret value.
"""

from __future__ import annotations

import json
from typing import Any

from backend.db import transaction
from backend.identity.tokens import open_session
from backend.models import User
from backend.resources import Resources
from tests.conftest import error_codes
from tests.integrations.factories import make_world

SECRET = "xoxb-graphql-secret-777"
TYPES = (
    "{ integrationTypes { key name kind tools toolDefinitions { name description argsSchema } "
    "configSchema secretsSchema discoversTools canTest } }"
)
CREATE = """mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) {
  id type name config secretFields tools { name } } }"""
UPDATE = """mutation($i: UpdateIntegrationInput!) {
  updateIntegration(input: $i) { id name config secretFields } }"""
ORG = """query($slug: String!) { organization(slug: $slug) { integrations { id name type config secretFields
  tools { name argsSchema } } } }"""
TEST = "mutation($id: ID!) { testIntegration(id: $id) { ok message tools } }"
DELETE = "mutation($id: ID!) { deleteIntegration(id: $id) }"
ONE = "query($id: ID!) { integration(id: $id) { id name config secretFields } }"


async def tokens(app: Any) -> tuple[Any, dict[str, str]]:
    res: Resources = app.state.resources
    world = await make_world(res.sessions)
    out: dict[str, str] = {}
    async with transaction(res.sessions) as s:
        for role, actor in (
            ("owner", world.owner),
            ("builder", world.builder),
            ("member", world.member),
            ("outsider", world.outsider),
        ):
            user = await s.get(User, actor.user_id)
            assert user is not None
            _, out[role] = await open_session(s, res.settings, user, client_addr=None, user_agent=None)
    return world, out


async def test_integration_types_catalogue(gql: Any) -> None:
    body = await gql(TYPES)
    assert "errors" not in body, body
    types = {t["key"]: t for t in body["data"]["integrationTypes"]}
    assert {
        "http",
        "sql",
        "email",
        "slack",
        "webhook",
        "mcp",
        "openai",
        "anthropic",
        "openai_compatible",
    } <= set(types)
    assert types["slack"]["tools"] == ["post_message", "read_channel"]
    post = types["slack"]["toolDefinitions"][0]
    assert post["argsSchema"]["required"] == ["channel", "text"] and post["description"]
    assert types["slack"]["secretsSchema"]["required"] == ["botToken"]
    assert types["http"]["configSchema"]["properties"]["baseUrl"]["type"] == "string"
    assert types["mcp"]["discoversTools"] and types["mcp"]["tools"] == []
    assert types["openai"]["kind"] == "model" and types["openai"]["secretsSchema"]["required"] == ["apiKey"]
    assert types["sql"]["canTest"] is True


async def test_lifecycle_and_secrets_never_returned(app: Any, gql: Any) -> None:
    world, tok = await tokens(app)
    inp = {
        "organizationId": str(world.a.id),
        "type": "slack",
        "name": "Slack",
        "config": {"apiBaseUrl": "http://127.0.0.1:9/api"},
        "secrets": {"botToken": SECRET},
    }
    body = await gql(CREATE, {"i": inp}, token=tok["owner"])
    assert "errors" not in body, body
    created = body["data"]["createIntegration"]
    assert created["secretFields"] == ["botToken"] and created["config"] == {
        "apiBaseUrl": "http://127.0.0.1:9/api"
    }
    assert [t["name"] for t in created["tools"]] == ["post_message", "read_channel"]
    iid = created["id"]
    responses = [body]
    # Builders see the integration (to bind it) but not its connection settings.
    builder_view = await gql(ORG, {"slug": world.a.slug}, token=tok["builder"])
    responses.append(builder_view)
    listed = builder_view["data"]["organization"]["integrations"]
    assert [i["id"] for i in listed] == [iid] and listed[0]["config"] is None
    assert "FORBIDDEN" in error_codes(builder_view)
    owner_view = await gql(ORG, {"slug": world.a.slug}, token=tok["owner"])
    responses.append(owner_view)
    assert owner_view["data"]["organization"]["integrations"][0]["secretFields"] == ["botToken"]
    # Other organisations cannot see it at all.
    hidden = await gql(ONE, {"id": iid}, token=tok["outsider"])
    assert hidden["data"]["integration"] is None and error_codes(hidden) == ["NOT_FOUND"]
    # Members may not manage; bad input changes nothing and never echoes secrets.
    denied = await gql(UPDATE, {"i": {"id": iid, "name": "x"}}, token=tok["builder"])
    assert error_codes(denied) == ["FORBIDDEN"]
    unseen = await gql(UPDATE, {"i": {"id": iid, "name": "x"}}, token=tok["member"])
    assert error_codes(unseen) == ["NOT_FOUND"]  # members do not even see integrations
    bad = await gql(
        UPDATE, {"i": {"id": iid, "secrets": {"botToken": 12345678, "nope": SECRET}}}, token=tok["owner"]
    )
    responses.append(bad)
    assert error_codes(bad) == ["BAD_USER_INPUT"] and "secrets.nope" in bad["errors"][0]["message"]
    renamed = await gql(
        UPDATE,
        {"i": {"id": iid, "name": "Team Slack", "secrets": {"botToken": SECRET + "2"}}},
        token=tok["owner"],
    )
    responses.append(renamed)
    assert renamed["data"]["updateIntegration"]["name"] == "Team Slack"
    # The egress guard refuses the loopback peer (no allow list here): a clean result, not an error.
    tested = await gql(TEST, {"id": iid}, token=tok["owner"])
    responses.append(tested)
    result = tested["data"]["testIntegration"]
    assert result["ok"] is False and "egress refused" in result["message"] and "loopback" in result["message"]
    for response in responses:
        assert SECRET not in json.dumps(response)
    deleted = await gql(DELETE, {"id": iid}, token=tok["owner"])
    assert deleted["data"]["deleteIntegration"] == iid
    gone = await gql(ONE, {"id": iid}, token=tok["owner"])
    assert error_codes(gone) == ["NOT_FOUND"]


async def test_import_openapi_and_bad_json(app: Any, gql: Any) -> None:
    world, tok = await tokens(app)
    body = await gql(
        CREATE,
        {
            "i": {
                "organizationId": str(world.a.id),
                "type": "http",
                "name": "api",
                "config": {"baseUrl": "https://api.example.com"},
            }
        },
        token=tok["owner"],
    )
    iid = body["data"]["createIntegration"]["id"]
    doc = (
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /pets:\n    get:\n      operationId: listPets\n"
    )
    imported = await gql(
        """mutation($i: ImportOpenApiInput!) { importOpenApi(input: $i) { tools { name } } }""",
        {"i": {"integrationId": iid, "document": doc}},
        token=tok["owner"],
    )
    assert "errors" not in imported, imported
    assert [t["name"] for t in imported["data"]["importOpenApi"]["tools"]] == ["request", "list_pets"]
    wrong = await gql(
        CREATE,
        {"i": {"organizationId": str(world.a.id), "type": "http", "name": "x", "config": [1, 2]}},
        token=tok["owner"],
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert error_codes(
        await gql(
            CREATE,
            {
                "i": {
                    "organizationId": str(world.a.id),
                    "type": "http",
                    "name": "y",
                    "config": {"baseUrl": "https://x.io"},
                }
            },
        )
    ) == ["UNAUTHENTICATED"]
