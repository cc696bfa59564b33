"""The GraphQL surface of schedules and webhook triggers, executed on the real schema with a given actor."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend.authz import Actor
from backend.db import transaction, utcnow
from backend.identity.tokens import open_session
from backend.models import User
from backend.resources import Resources
from backend.runs.dispatch import unit_of_work
from backend.schedules.tick import tick
from graph.context import Context
from graph.schema import build_schema
from tests.schedules.conftest import counts
from tests.schedules.factories import World, due_schedule, world

SCHEMA = build_schema(development=True)

CREATE = """
mutation($input: CreateScheduleInput!) {
  createSchedule(input: $input) {
    id cron timezone nextFireAt status misfirePolicy input runs(first: 5) { id } }
}"""


async def gql(resources: Resources, actor: Actor, query: str, **variables: Any) -> dict[str, Any]:
    ctx = Context(request=None, response=None, resources=resources, actor=actor)  # type: ignore[arg-type]
    result = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [{"message": e.message, "extensions": e.extensions or {}} for e in result.errors]
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"].get("code") for e in body.get("errors") or []]


async def test_create_read_list_pause_resume_delete(resources: Resources, w: World) -> None:
    inp = {
        "deploymentId": str(w.deployment_id),
        "cron": "0 9 * * 1-5",
        "timezone": "Europe/Berlin",
        "input": "Standup notes",
        "misfirePolicy": "CATCH_UP_ONCE",
    }
    body = await gql(resources, w.builder, CREATE, input=inp)
    assert "errors" not in body, body
    s = body["data"]["createSchedule"]
    assert (s["status"], s["misfirePolicy"], s["runs"]) == ("ACTIVE", "CATCH_UP_ONCE", [])
    assert s["nextFireAt"].endswith("+00:00")

    body = await gql(
        resources, w.owner, "query($id: ID!) { schedule(id: $id) { id cron nextFireAt } }", id=s["id"]
    )
    assert body["data"]["schedule"]["cron"] == "0 9 * * 1-5"
    body = await gql(
        resources,
        w.owner,
        """query($org: ID!) { schedules(organizationId: $org, first: 10) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }""",
        org=str(w.org_id),
    )
    conn = body["data"]["schedules"]
    assert conn["totalCount"] == 1 and conn["edges"][0]["node"]["id"] == s["id"]
    assert conn["pageInfo"] == {"hasNextPage": False, "endCursor": conn["edges"][0]["cursor"]}

    body = await gql(
        resources, w.owner, "mutation($id: ID!) { pauseSchedule(id: $id) { status nextFireAt } }", id=s["id"]
    )
    assert body["data"]["pauseSchedule"] == {"status": "PAUSED", "nextFireAt": None}
    body = await gql(
        resources, w.owner, "mutation($id: ID!) { resumeSchedule(id: $id) { status } }", id=s["id"]
    )
    assert body["data"]["resumeSchedule"]["status"] == "ACTIVE"
    body = await gql(
        resources,
        w.owner,
        """mutation($input: UpdateScheduleInput!) {
        updateSchedule(input: $input) { cron timezone input } }""",
        input={"id": s["id"], "cron": "@hourly"},
    )
    assert body["data"]["updateSchedule"] == {
        "cron": "@hourly",
        "timezone": "Europe/Berlin",
        "input": "Standup notes",
    }
    body = await gql(resources, w.owner, "mutation($id: ID!) { deleteSchedule(id: $id) }", id=s["id"])
    assert body["data"]["deleteSchedule"] == s["id"]
    body = await gql(resources, w.owner, "query($id: ID!) { schedule(id: $id) { id } }", id=s["id"])
    assert codes(body) == ["NOT_FOUND"] and body["data"]["schedule"] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "every tuesday"}, "cron"),
        ({"timezone": "Nowhere"}, "timezone"),
    ],
)
async def test_bad_input_is_bad_user_input_naming_the_field(
    resources: Resources, w: World, over: dict[str, str], field: str
) -> None:
    before = await counts(resources)
    inp = {"deploymentId": str(w.deployment_id), "cron": "0 9 * * *", "input": "go", **over}
    body = await gql(resources, w.builder, CREATE, input=inp)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == field
    assert await counts(resources) == before


async def test_denied_and_anonymous(resources: Resources, w: World) -> None:
    before = await counts(resources)
    inp = {"deploymentId": str(w.deployment_id), "cron": "0 9 * * *", "input": "go"}
    assert codes(await gql(resources, w.member, CREATE, input=inp)) == ["FORBIDDEN"]
    assert codes(await gql(resources, w.outsider, CREATE, input=inp)) == ["NOT_FOUND"]
    assert codes(await gql(resources, Actor.anonymous(), CREATE, input=inp)) == ["UNAUTHENTICATED"]
    assert await counts(resources) == before


async def test_webhook_trigger_token_is_shown_once(resources: Resources, w: World) -> None:
    body = await gql(
        resources,
        w.builder,
        """mutation($input: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $input) {
          token url webhookTrigger { id tokenPrefix rateLimitPerMinute } } }""",
        input={"deploymentId": str(w.deployment_id), "name": "CI", "rateLimitPerMinute": 10},
    )
    created = body["data"]["createWebhookTrigger"]
    assert created["url"].endswith("/hooks/" + created["token"])
    assert created["token"].startswith(created["webhookTrigger"]["tokenPrefix"])
    body = await gql(
        resources,
        w.owner,
        """query($d: ID!) { webhookTriggers(deploymentId: $d) {
        totalCount edges { node { id tokenPrefix revokedAt } } } }""",
        d=str(w.deployment_id),
    )
    assert body["data"]["webhookTriggers"]["totalCount"] == 1
    assert created["token"] not in str(body)
    body = await gql(
        resources,
        w.owner,
        "mutation($id: ID!) { revokeWebhookTrigger(id: $id) { revokedAt } }",
        id=created["webhookTrigger"]["id"],
    )
    assert body["data"]["revokeWebhookTrigger"]["revokedAt"] is not None


async def test_schedule_runs_after_a_tick(resources: Resources, w: World) -> None:
    sid = await due_schedule(resources.sessions, w, next_fire_at=utcnow() - timedelta(seconds=1))
    async with unit_of_work(resources) as s:
        await tick(s)
    query = "query($id: ID!) { schedule(id: $id) { lastFiredAt runs(first: 3) { trigger status input } } }"
    body = await gql(resources, w.owner, query, id=str(sid))
    got = body["data"]["schedule"]
    assert got["lastFiredAt"] is not None
    assert got["runs"] == [{"trigger": "SCHEDULE", "status": "QUEUED", "input": "daily report"}]


async def test_over_http_with_a_session_token(app: Any, gql: Any) -> None:
    res: Resources = app.state.resources
    w = await world(res.sessions)
    async with transaction(res.sessions) as s:
        user = await s.get(User, w.builder.user_id)
        assert user is not None
        _, token = await open_session(s, res.settings, user, client_addr=None, user_agent=None)
    inp = {"deploymentId": str(w.deployment_id), "cron": "*/15 * * * *", "timezone": "UTC", "input": "ping"}
    body = await gql(CREATE, {"input": inp}, token=token)
    assert "errors" not in body, body
    assert body["data"]["createSchedule"]["nextFireAt"] is not None
    assert codes(await gql(CREATE, {"input": inp})) == ["UNAUTHENTICATED"]
