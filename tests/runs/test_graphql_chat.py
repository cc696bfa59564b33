"""The whole path: GraphQL -> PostgreSQL -> Arq -> worker -> events -> subscription (websocket)."""

from __future__ import annotations

from typing import Any

from backend.resources import Resources
from tests.conftest import error_codes
from tests.runtime.client import collect_events
from tests.runtime.harness import World, wait_run

START = "mutation($d: ID!) { startThread(input: {deploymentId: $d}) { id title isPlayground } }"
SEND = """mutation($t: ID!, $c: String!) { sendMessage(input: {threadId: $t, content: $c}) {
  id status trigger isTest input output usage { inputTokens outputTokens requests costUsd } } }"""
RUN = """query($id: ID!) { run(id: $id) { id status output error statusReason trigger
  usage { inputTokens outputTokens totalTokens requests toolCalls costUsd }
  thread { id } agent { id name } } }"""
THREAD = "query($id: ID!) { thread(id: $id) { id title messages { role content runId } runs { id status } } }"


async def _thread(gql: Any, world: World, who: str = "member") -> str:
    body = await gql(START, {"d": str(world.deployment.id)}, token=world.tokens[who])
    assert not body.get("errors"), body
    return str(body["data"]["startThread"]["id"])


async def test_send_message_streams_to_done(
    gql: Any, live_server: str, resources: Resources, world: World, worker: Any
) -> None:
    thread_id = await _thread(gql, world)
    body = await gql(SEND, {"t": thread_id, "c": "hello there"}, token=world.tokens["member"])
    run = body["data"]["sendMessage"]
    assert run["status"] == "QUEUED" and run["trigger"] == "CHAT" and run["isTest"] is False
    events = await collect_events(live_server, world.tokens["member"], run["id"])
    seqs = [e["seq"] for e in events if e["kind"] != "delta"]
    assert seqs == sorted(set(seqs)), "persisted events once, in order"
    assert events[-1]["type"] == "done" and events[-1]["data"]["status"] == "SUCCEEDED"
    final = [e for e in events if e["type"] == "message" and e["kind"] is None]
    assert final[0]["data"]["content"] == "echo: hello there (0 earlier messages)"
    got = (await gql(RUN, {"id": run["id"]}, token=world.tokens["member"]))["data"]["run"]
    assert got["status"] == "SUCCEEDED" and got["output"] == "echo: hello there (0 earlier messages)"
    assert got["usage"]["requests"] == 1 and got["usage"]["costUsd"] == 0
    assert got["thread"]["id"] == thread_id and got["agent"]["id"] == str(world.agent.id)
    thread = (await gql(THREAD, {"id": thread_id}, token=world.tokens["member"]))["data"]["thread"]
    assert thread["title"] == "hello there"
    assert [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "hello there"),
        ("assistant", "echo: hello there (0 earlier messages)"),
    ]


async def test_late_subscriber_replays_everything_once(
    gql: Any, live_server: str, resources: Resources, world: World, worker: Any
) -> None:
    thread_id = await _thread(gql, world)
    run_id = (await gql(SEND, {"t": thread_id, "c": "x"}, token=world.tokens["member"]))["data"][
        "sendMessage"
    ]["id"]
    import uuid

    await wait_run(resources, uuid.UUID(run_id))
    events = await collect_events(live_server, world.tokens["member"], run_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    after = await collect_events(live_server, world.tokens["member"], run_id, after_seq=3)
    assert [e["seq"] for e in after] == list(range(4, len(events) + 1))


async def test_other_users_cannot_use_the_thread(gql: Any, world: World) -> None:
    thread_id = await _thread(gql, world)
    body = await gql(SEND, {"t": thread_id, "c": "hi"}, token=world.tokens["member2"])
    assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(SEND, {"t": thread_id, "c": "hi"}, token=world.tokens["outsider"])
    assert error_codes(body) == ["NOT_FOUND"]
    body = await gql(SEND, {"t": thread_id, "c": "  "}, token=world.tokens["member"])
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(SEND, {"t": thread_id, "c": "hi"})
    assert error_codes(body) == ["UNAUTHENTICATED"]
