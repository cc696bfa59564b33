"""memories(agentId) and deleteMemory: the owner sees and erases what an agent remembers about them."""

from __future__ import annotations

from typing import Any

from backend.resources import Resources
from tests.conftest import error_codes
from tests.runtime.harness import World
from tests.runtime.helpers import chat, new_thread

MEMORIES = """query($a: ID!, $after: String) { memories(agentId: $a, first: 2, after: $after) {
  edges { node { id content agentId runId } } pageInfo { hasNextPage endCursor } } }"""
DELETE = "mutation($id: ID!) { deleteMemory(id: $id) { id content } }"


async def test_owner_lists_and_deletes_memories(
    gql: Any, resources: Resources, world: World, worker: Any
) -> None:
    thread = await new_thread(resources, world)
    for fact in ("likes tea", "lives in Oslo", "has a cat"):
        await chat(resources, world, thread, f"/remember {fact}")
    page = (await gql(MEMORIES, {"a": str(world.agent.id)}, token=world.tokens["member"]))["data"]["memories"]
    assert [e["node"]["content"] for e in page["edges"]] == ["has a cat", "lives in Oslo"]
    rest = await gql(
        MEMORIES,
        {"a": str(world.agent.id), "after": page["pageInfo"]["endCursor"]},
        token=world.tokens["member"],
    )
    assert [e["node"]["content"] for e in rest["data"]["memories"]["edges"]] == ["likes tea"]
    others = await gql(MEMORIES, {"a": str(world.agent.id)}, token=world.tokens["member2"])
    assert others["data"]["memories"]["edges"] == []
    owners = await gql(MEMORIES, {"a": str(world.agent.id)}, token=world.tokens["owner"])
    assert owners["data"]["memories"]["edges"] == []  # even an org owner sees only their own
    victim = page["edges"][0]["node"]["id"]
    assert error_codes(await gql(DELETE, {"id": victim}, token=world.tokens["member2"])) == ["NOT_FOUND"]
    assert error_codes(await gql(DELETE, {"id": victim}, token=world.tokens["outsider"])) == ["NOT_FOUND"]
    gone = await gql(DELETE, {"id": victim}, token=world.tokens["member"])
    assert gone["data"]["deleteMemory"]["content"] == "has a cat"
    assert error_codes(await gql(DELETE, {"id": victim}, token=world.tokens["member"])) == ["NOT_FOUND"]
    recalled = await chat(resources, world, thread, "/recall cat tea")
    assert recalled.output == "memories:\n- likes tea"
    theirs = await new_thread(resources, world, "member2")
    elsewhere = await chat(resources, world, theirs, "/recall cat tea", who="member2")
    assert elsewhere.output == "no matching memories"  # one user's memory is never another's
