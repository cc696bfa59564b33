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


async def test_first_message_of_an_organisation_is_audited_on_a_new_chain(
    gql: Any, resources: Resources, world: World
) -> None:
    """The one-statement send writes nothing until the organisation's audit chain exists."""
    from sqlalchemy import func, select

    from backend.audit.verify import verify_chain
    from backend.db import transaction, uuid7
    from backend.models import AuditChainHead, AuditEvent, Run, Thread
    from tests.runtime.harness import add_agent

    org = world.other_org  # set up directly in the database: nothing audited there yet
    async with transaction(resources.sessions) as s:
        _, deployment = await add_agent(s, org, world.outsider)
        thread = Thread(
            id=uuid7(),
            organization_id=org.id,
            user_id=world.outsider.id,
            agent_id=deployment.agent_id,
            deployment_id=deployment.id,
        )
        s.add(thread)
    async with resources.sessions() as s:
        assert await s.get(AuditChainHead, org.id) is None
    body = await gql(SEND, {"t": str(thread.id), "c": "first"}, token=world.tokens["outsider"])
    run = body["data"]["sendMessage"]
    async with resources.sessions() as s:
        events = (await s.scalars(select(AuditEvent).where(AuditEvent.chain == org.id))).all()
        assert [(e.seq, e.action, e.resource_id) for e in events] == [(1, "run.create", run["id"])]
        assert await verify_chain(s, org.id) is None
        assert await s.scalar(select(func.count()).select_from(Run).where(Run.organization_id == org.id)) == 1


async def test_message_to_a_deleted_thread_changes_nothing(
    gql: Any, resources: Resources, world: World
) -> None:
    from sqlalchemy import func, select

    from backend.models import AuditEvent, Message, Run

    thread_id = await _thread(gql, world)
    deleted = await gql(
        "mutation($id: ID!) { deleteThread(id: $id) { id } }", {"id": thread_id}, token=world.tokens["member"]
    )
    assert not deleted.get("errors"), deleted
    async with resources.sessions() as s:
        audited = await s.scalar(select(func.count()).select_from(AuditEvent))
    body = await gql(SEND, {"t": thread_id, "c": "anyone?"}, token=world.tokens["member"])
    assert error_codes(body) == ["NOT_FOUND"]
    async with resources.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Run)) == 0
        assert await s.scalar(select(func.count()).select_from(Message)) == 0
        assert await s.scalar(select(func.count()).select_from(AuditEvent)) == audited
