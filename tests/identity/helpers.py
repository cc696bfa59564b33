"""GraphQL helpers for identity tests."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"

SIGN_UP = """mutation($i: SignUpInput!) { signUp(input: $i) { token user { id email displayName } } }"""
LOG_IN = """mutation($i: LogInInput!) { logIn(input: $i) { token user { id } } }"""
VIEWER = "{ viewer { id email } }"


async def sign_up(gql: Any, email: str, password: str = PASSWORD, name: str = "Ada") -> tuple[str, str]:
    body = await gql(SIGN_UP, {"i": {"email": email, "password": password, "displayName": name}})
    assert "errors" not in body, body
    return body["data"]["signUp"]["token"], body["data"]["signUp"]["user"]["id"]


async def log_in(gql: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    body: dict[str, Any] = await gql(LOG_IN, {"i": {"email": email, "password": password}})
    return body


async def create_org(gql: Any, token: str, slug: str) -> str:
    body = await gql(
        "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id slug } }",
        {"i": {"name": slug.title(), "slug": slug}},
        token=token,
    )
    assert "errors" not in body, body
    return str(body["data"]["createOrganization"]["id"])
