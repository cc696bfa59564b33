"""The engine at service + worker level: send a message, a worker runs it, events and messages persist."""

from __future__ import annotations

from backend.resources import Resources
from backend.runs import dispatch, states
from backend.runs.threads import send_message, start_thread
from tests.runtime.harness import World, events_of, wait_run


async def _send(resources: Resources, world: World, thread_id, text: str, who: str = "member"):
    async with dispatch.unit_of_work(resources) as s:
        return await send_message(s, world.actor(who), thread_id=thread_id, content=text)


async def test_echo_run_end_to_end(resources: Resources, world: World, worker) -> None:
    async with dispatch.unit_of_work(resources) as s:
        thread = await start_thread(s, world.actor("member"), deployment_id=world.deployment.id)
    run = await _send(resources, world, thread.id, "hello")
    assert run.status == states.QUEUED
    done = await wait_run(resources, run.id)
    assert done.status == states.SUCCEEDED, done.error
    assert done.output == "echo: hello (0 earlier messages)"
    run2 = await _send(resources, world, thread.id, "again")
    done2 = await wait_run(resources, run2.id)
    assert done2.output == "echo: again (2 earlier messages)"
    kinds = [(e.seq, e.type, e.kind) for e in await events_of(resources, run.id)]
    assert kinds[0] == (1, "status", None) and kinds[-1][1] == "done"
    assert [k[0] for k in kinds] == list(range(1, len(kinds) + 1))
    assert ("step", "model_response") in [(t, k) for _, t, k in kinds]
