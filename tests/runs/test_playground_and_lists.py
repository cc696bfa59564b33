"""Playground threads (draft config, test runs), thread and run listings, rename, delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from backend.db import transaction
from backend.models import Agent
from backend.resources import Resources
from tests.conftest import error_codes
from tests.runtime.harness import World, agent_config, wait_run

PLAY = "mutation($a: ID!) { startPlaygroundThread(input: {agentId: $a}) { id isPlayground deploymentId } }"
START = "mutation($d: ID!) { startThread(input: {deploymentId: $d}) { id } }"
SEND = """mutation($t: ID!, $c: String!) { sendMessage(input: {threadId: $t, content: $c}) {
  id status trigger isTest } }"""
THREADS = """query($after: String, $pg: Boolean) { threads(first: 2, after: $after, includePlayground: $pg) {
  edges { cursor node { id title isPlayground } } pageInfo { hasNextPage endCursor } } }"""
RUNS = """query($f: RunFilter, $after: String) { runs(filter: $f, first: 10, after: $after) {
  edges { node { id trigger isTest status } } pageInfo { hasNextPage endCursor } } }"""
RENAME = "mutation($t: ID!, $n: String!) { renameThread(input: {threadId: $t, title: $n}) { id title } }"
DELETE = "mutation($t: ID!) { deleteThread(id: $t) { id } }"
STEPS = "query($id: ID!) { run(id: $id) { id steps { seq kind } } }"


async def test_playground_runs_the_current_draft_as_a_test(
    gql: Any, resources: Resources, world: World, worker: Any
) -> None:
    async with transaction(resources.sessions) as s:  # the draft differs from the deployed version
        await s.execute(
            update(Agent)
            .where(Agent.id == world.agent.id)
            .values(config=agent_config(memory={"enabled": False, "history_token_budget": 100}))
        )
    thread = (await gql(PLAY, {"a": str(world.agent.id)}, token=world.tokens["owner"]))["data"]
    assert thread["startPlaygroundThread"]["isPlayground"] is True
    tid = thread["startPlaygroundThread"]["id"]
    run = (await gql(SEND, {"t": tid, "c": "/remember x"}, token=world.tokens["owner"]))["data"][
        "sendMessage"
    ]
    assert run["trigger"] == "PLAYGROUND" and run["isTest"] is True
    done = await wait_run(resources, uuid.UUID(run["id"]))
    assert done.output == "error: long-term memory is disabled for this agent"  # the draft's setting
    assert done.deployment_id is None and done.version_id is None
    assert error_codes(await gql(PLAY, {"a": str(world.agent.id)}, token=world.tokens["member"])) == [
        "FORBIDDEN"
    ]
    prod = await gql(
        RUNS, {"f": {"agentId": str(world.agent.id), "includeTests": False}}, token=world.tokens["owner"]
    )
    assert prod["data"]["runs"]["edges"] == []


async def test_thread_listing_rename_delete(gql: Any, world: World) -> None:
    ids = [
        (await gql(START, {"d": str(world.deployment.id)}, token=world.tokens["member"]))["data"][
            "startThread"
        ]["id"]
        for _ in range(3)
    ]
    await gql(PLAY, {"a": str(world.agent.id)}, token=world.tokens["owner"])
    page = (await gql(THREADS, {}, token=world.tokens["member"]))["data"]["threads"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[::-1][:2] and page["pageInfo"]["hasNextPage"]
    rest = (await gql(THREADS, {"after": page["pageInfo"]["endCursor"]}, token=world.tokens["member"]))[
        "data"
    ]
    assert [e["node"]["id"] for e in rest["threads"]["edges"]] == [ids[0]]
    assert (await gql(THREADS, {}, token=world.tokens["member2"]))["data"]["threads"]["edges"] == []
    renamed = await gql(RENAME, {"t": ids[0], "n": "  My   chat "}, token=world.tokens["member"])
    assert renamed["data"]["renameThread"]["title"] == "My chat"
    assert error_codes(await gql(RENAME, {"t": ids[0], "n": " "}, token=world.tokens["member"])) == [
        "BAD_USER_INPUT"
    ]
    assert error_codes(await gql(RENAME, {"t": ids[0], "n": "x"}, token=world.tokens["member2"])) == [
        "NOT_FOUND"
    ]
    assert error_codes(await gql(DELETE, {"t": ids[0]}, token=world.tokens["member2"])) == ["NOT_FOUND"]
    await gql(DELETE, {"t": ids[0]}, token=world.tokens["member"])
    body = await gql("query($t: ID!) { thread(id: $t) { id } }", {"t": ids[0]}, token=world.tokens["member"])
    assert error_codes(body) == ["NOT_FOUND"]
    assert error_codes(await gql(SEND, {"t": ids[0], "c": "x"}, token=world.tokens["member"])) == [
        "NOT_FOUND"
    ]


async def test_runs_listing_filters_and_trace_access(
    gql: Any, resources: Resources, world: World, worker: Any
) -> None:
    tid = (await gql(START, {"d": str(world.deployment.id)}, token=world.tokens["member"]))["data"]
    run = (await gql(SEND, {"t": tid["startThread"]["id"], "c": "hi"}, token=world.tokens["member"]))["data"]
    run_id = run["sendMessage"]["id"]
    await wait_run(resources, uuid.UUID(run_id))
    mine = (await gql(RUNS, {}, token=world.tokens["member"]))["data"]["runs"]["edges"]
    assert [e["node"]["id"] for e in mine] == [run_id]
    assert (await gql(RUNS, {}, token=world.tokens["member2"]))["data"]["runs"]["edges"] == []
    managed = await gql(
        RUNS,
        {
            "f": {
                "agentId": str(world.agent.id),
                "status": "SUCCEEDED",
                "trigger": "CHAT",
                "userId": str(world.member.id),
            }
        },
        token=world.tokens["owner"],
    )
    assert [e["node"]["id"] for e in managed["data"]["runs"]["edges"]] == [run_id]
    none = await gql(RUNS, {"f": {"status": "FAILED"}}, token=world.tokens["owner"])
    assert none["data"]["runs"]["edges"] == []
    assert (await gql(RUNS, {}, token=world.tokens["outsider"]))["data"]["runs"]["edges"] == []
    trace = await gql(STEPS, {"id": run_id}, token=world.tokens["owner"])
    assert [s["kind"] for s in trace["data"]["run"]["steps"]] == ["model_request", "model_response"]
    hidden = await gql(STEPS, {"id": run_id}, token=world.tokens["member"])
    assert hidden["data"]["run"]["steps"] is None and error_codes(hidden) == ["FORBIDDEN"]
