"""runEvents rendered by the fast path equal what graphql-core's execution of the same selection gives."""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import parse

from graph.runs.fast_events import plan_for
from tests.runtime.client import subscribe, ws_session
from tests.runtime.harness import World, wait_run

START = "mutation($d: ID!) { startThread(input: {deploymentId: $d}) { id } }"
SEND = "mutation($t: ID!, $c: String!) { sendMessage(input: {threadId: $t, content: $c}) { id } }"
FAST = """subscription($r: ID!) { events: runEvents(runId: $r) {
  __typename runId seq type kind data when: at at } }"""
# The same selection through a fragment: graphql-core executes it (no fast path).
SLOW = """subscription($r: ID!) { events: runEvents(runId: $r) { ...E } }
fragment E on RunEvent { __typename runId seq type kind data when: at at }"""


def test_only_plain_runevents_selections_take_the_fast_path() -> None:
    def plan(doc: str) -> Any:
        return plan_for(parse(doc).definitions[0])

    assert plan(FAST) is not None
    assert plan(SLOW) is None
    assert plan("subscription { runEvents(runId: 1) { seq @include(if: true) } }") is None
    assert plan("query { runEvents(runId: 1) { seq } }") is None


async def test_fast_and_executed_payloads_are_identical(
    gql: Any, live_server: str, world: World, worker: Any, resources: Any
) -> None:
    token = world.tokens["member"]
    thread = (await gql(START, {"d": str(world.deployment.id)}, token=token))["data"]["startThread"]["id"]
    run_id = (await gql(SEND, {"t": thread, "c": "hello"}, token=token))["data"]["sendMessage"]["id"]
    await wait_run(resources, run_id)  # both subscriptions replay the same persisted events

    async def collect(query: str) -> list[dict[str, Any]]:
        async with ws_session(live_server, token) as ws:
            return [p async for p in subscribe(ws, query, {"r": run_id})]

    fast, slow = await asyncio.gather(collect(FAST), collect(SLOW))
    assert len(fast) >= 4 and fast == slow
    last = fast[-1]["data"]["events"]
    assert last["__typename"] == "RunEvent" and last["type"] == "done" and last["runId"] == run_id
    assert last["when"] == last["at"] and isinstance(last["seq"], int)
