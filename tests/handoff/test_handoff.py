"""Agent-to-agent handoff through the real runtime (offline model, in-process worker)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select, update

from backend.authz import Actor
from backend.db import transaction, uuid7
from backend.handoff.service import HandoffRefused, Target, check
from backend.models import Agent, AgentVersion, Deployment, Organization, Run, RunEvent, User
from backend.resources import Resources
from backend.runs import dispatch, states
from backend.runs.threads import send_message, start_thread
from tests.integrations.factories import create
from tests.integrations.peers import serve
from tests.integrations.test_email_slack_webhook import BOT_TOKEN, slack_api
from tests.runtime.harness import add_agent, add_user, agent_config, wait_run


async def setup(resources: Resources) -> tuple[Organization, Organization, User, User]:
    async with transaction(resources.sessions) as s:
        org = Organization(id=uuid7(), slug=f"org-{uuid.uuid4().hex[:6]}", name="Acme")
        other = Organization(id=uuid7(), slug=f"org-{uuid.uuid4().hex[:6]}", name="Globex")
        s.add_all([org, other])
        await s.flush()
        owner = await add_user(s, org, "owner", "owner")
        member = await add_user(s, org, "member", "member")
    return org, other, owner, member


async def agent(resources: Resources, org: Organization, owner: User, slug: str, **config: Any) -> Deployment:
    async with transaction(resources.sessions) as s:
        _, deployment = await add_agent(s, org, owner, agent_config(**config), slug=slug)
    return deployment


async def set_config(resources: Resources, deployment: Deployment, **config: Any) -> None:
    async with transaction(resources.sessions) as s:
        await s.execute(
            update(AgentVersion)
            .where(AgentVersion.id == deployment.version_id)
            .values(config=agent_config(**config))
        )


async def ask(resources: Resources, user: User, deployment: Deployment, text: str) -> Run:
    actor = Actor(kind="user", user_id=user.id)
    async with dispatch.unit_of_work(resources) as s:
        thread = await start_thread(s, actor, deployment_id=deployment.id)
    async with dispatch.unit_of_work(resources) as s:
        run = await send_message(s, actor, thread_id=thread.id, content=text)
    return await wait_run(resources, run.id, timeout=30)


async def children(resources: Resources, run: Run) -> list[Run]:
    async with resources.sessions() as s:
        return list(await s.scalars(select(Run).where(Run.parent_run_id == run.id)))


async def test_two_agent_handoff_returns_the_childs_answer(resources: Resources, worker: Any) -> None:
    org, _, owner, member = await setup(resources)
    expert = await agent(resources, org, owner, "expert")
    front = await agent(resources, org, owner, "front", handoffs=[str(expert.id)])
    parent = await ask(resources, member, front, "/handoff expert what is the capital of France?")
    assert parent.status == states.SUCCEEDED, parent.error
    [child] = await children(resources, parent)
    assert child.status == states.SUCCEEDED and child.trigger == "handoff" and child.depth == 1
    assert (
        child.user_id == member.id and child.agent_id == expert.agent_id and child.input.startswith("what is")
    )
    assert child.output and child.output.startswith("echo: what is the capital of France?")
    assert child.output in (parent.output or "")
    # The child has its own trace; the parent's usage includes the child's.
    async with resources.sessions() as s:
        child_steps = await s.scalar(
            select(func.count())
            .select_from(RunEvent)
            .where(RunEvent.run_id == child.id, RunEvent.type == "step")
        )
        parent_calls = (
            await s.scalars(
                select(RunEvent).where(RunEvent.run_id == parent.id, RunEvent.kind == "tool_call")
            )
        ).all()
    assert child_steps and [e.data["tool_name"] for e in parent_calls] == ["handoff_expert"]
    assert parent.input_tokens >= child.input_tokens + 1 and parent.requests >= child.requests + 2


async def test_ping_pong_and_deep_chains_are_cut(resources: Resources, worker: Any) -> None:
    org, _, owner, member = await setup(resources)
    ping = await agent(resources, org, owner, "ping")
    pong = await agent(resources, org, owner, "pong", handoffs=[str(ping.id)])
    await set_config(resources, ping, handoffs=[str(pong.id)])
    run = await ask(resources, member, ping, "/handoff pong /handoff ping /handoff pong hi")
    assert run.status == states.SUCCEEDED, run.error
    assert "handoff cycle" in (run.output or "") and "'ping' is already working on this task" in (
        run.output or ""
    )
    [child] = await children(resources, run)
    assert await children(resources, child) == []  # pong never started a second ping
    # A chain of distinct agents stops at the depth limit (3) with a clear error.
    chain = [await agent(resources, org, owner, f"c{i}") for i in range(5)]
    for i in range(4):
        await set_config(resources, chain[i], handoffs=[str(chain[i + 1].id)])
    deep = await ask(resources, member, chain[0], "/handoff c1 /handoff c2 /handoff c3 /handoff c4 hi")
    assert "depth limit (3)" in (deep.output or "")
    async with resources.sessions() as s:
        assert await s.scalar(select(func.max(Run.depth))) == 3


async def test_handoff_to_another_organisations_agent_is_refused(resources: Resources, worker: Any) -> None:
    org, other, owner, member = await setup(resources)
    async with transaction(resources.sessions) as s:
        outsider = await add_user(s, other, "owner", "outsider")
    foreign = await agent(resources, other, outsider, "foreign")
    front = await agent(resources, org, owner, "front")
    # A configuration pointing across the boundary (the agents service refuses it; forged here).
    await set_config(resources, front, handoffs=[str(foreign.id)])
    run = await ask(resources, member, front, "/handoff foreign leak your data")
    assert run.status == states.SUCCEEDED and "cannot hand off to 'foreign'" in (run.output or "")
    async with resources.sessions() as s:
        assert (
            await s.scalar(select(func.count()).select_from(Run).where(Run.agent_id == foreign.agent_id)) == 0
        )
    # The rule itself, as the tool checks it before creating any run:
    target = Target(foreign.id, foreign.agent_id, other.id, "foreign", "Foreign", "")
    async with resources.sessions() as s:
        try:
            await check(s, run, target)
        except HandoffRefused as exc:
            assert "another organisation" in str(exc)
        else:
            raise AssertionError("cross-organisation handoff was not refused")


async def test_no_slack_through_an_agent_that_has_it(resources: Resources, worker: Any) -> None:
    org, _, owner, member = await setup(resources)
    app, posted = slack_api()
    async with serve(app) as url:
        slack = await create(
            resources.sessions,
            resources.settings,
            Actor(kind="user", user_id=owner.id),
            org,
            "slack",
            "slack",
            {"apiBaseUrl": url + "/api"},
            {"botToken": BOT_TOKEN},
        )
        tools = [{"integration_id": str(slack.id), "tools": None}]
        slacker = await agent(resources, org, owner, "slacker", tools=tools)
        quiet = await agent(resources, org, owner, "quiet", handoffs=[str(slacker.id)])
        post = "/tool post_message " + json.dumps({"channel": "C1", "text": "hi from the agent"})
        # The agent with Slack access may post when the user talks to it directly...
        direct = await ask(resources, member, slacker, post)
        assert direct.status == states.SUCCEEDED and posted == [
            {"channel": "C1", "text": "hi from the agent"}
        ]
        # ...but not on behalf of an agent without Slack access.
        relayed = await ask(resources, member, quiet, "/handoff slacker " + post)
        assert "no tool named 'post_message'" in (relayed.output or "")
        assert len(posted) == 1
        [child] = await children(resources, relayed)
        assert child.agent_id == slacker.agent_id and child.status == states.SUCCEEDED
    async with resources.sessions() as s:
        agent_row = await s.get(Agent, slacker.agent_id)
    assert agent_row is not None
