"""Chat: threads, messages, runs (send, cancel, live events) and the agent's memories about the viewer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from agentry_web.api.client import ApiError, graphql
from agentry_web.api.marketplace import listings_by_deployment, split_icon
from agentry_web.api.subscriptions import ClientConnection, open_connection, subscribe

THREAD_SUMMARY = "id title updatedAt deploymentId agentId"
THREADS = f"""
query Threads($first: Int) {{ threads(first: $first) {{ edges {{ node {{ {THREAD_SUMMARY} }} }} }} }}
"""
THREAD = f"""
query Thread($id: ID!) {{
  thread(id: $id) {{
    {THREAD_SUMMARY}
    messages {{ id role content }}
    runs(first: 1) {{ id status }}
  }}
}}
"""
# Threads carry only the deployment's id: the agent's name and icon come from ``deployment`` (one aliased
# field per distinct deployment, in one request).
AGENT_OF = "d{n}: deployment(id: $d{n}) {{ id agent {{ id name icon }} }}"
START_THREAD = "mutation StartThread($input: StartThreadInput!) { startThread(input: $input) { id } }"
RENAME_THREAD = (
    "mutation RenameThread($input: RenameThreadInput!) { renameThread(input: $input) { id title } }"
)
DELETE_THREAD = "mutation DeleteThread($id: ID!) { deleteThread(id: $id) { id } }"
SEND_MESSAGE = "mutation SendMessage($input: SendMessageInput!) { sendMessage(input: $input) { id status } }"
CANCEL_RUN = "mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }"
RUN_EVENTS = """
subscription RunEvents($runId: ID!, $afterSeq: Int) {
  runEvents(runId: $runId, afterSeq: $afterSeq) { seq type kind data }
}
"""
MEMORIES = """
query Memories($agentId: ID!, $first: Int) {
  memories(agentId: $agentId, first: $first) { edges { node { id content createdAt } } }
}
"""
DELETE_MEMORY = "mutation DeleteMemory($id: ID!) { deleteMemory(id: $id) { id } }"

THREAD_LIST_SIZE = 50
MEMORY_LIST_SIZE = 100
# Runs in these states may still produce events: reopening the thread follows them.
ACTIVE = ("QUEUED", "RUNNING", "WAITING")


MAX_AGENT_LOOKUPS = 25  # under the API's alias limit


def _summary(raw: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(raw["id"]),
        "title": str(raw.get("title") or ""),
        "updated_at": str(raw.get("updatedAt") or ""),
        "deployment_id": str(raw.get("deploymentId") or ""),
        "agent_id": str(raw.get("agentId") or ""),
        "agent_name": "",
        "agent_icon": "",
        "agent_glyph": "",
    }


async def _name_agents(token: str, rows: list[dict[str, Any]]) -> None:
    """Fill in the agent name and icon of thread rows (best effort: an undeployed agent stays blank)."""
    ids = list(dict.fromkeys(r["deployment_id"] for r in rows if r["deployment_id"]))[:MAX_AGENT_LOOKUPS]
    if not ids:
        return
    params = ", ".join(f"$d{n}: ID!" for n in range(len(ids)))
    fields = " ".join(AGENT_OF.format(n=n) for n in range(len(ids)))
    data = await graphql(
        f"query Agents({params}) {{ {fields} }}",
        {f"d{n}": i for n, i in enumerate(ids)},
        token=token,
        partial=True,
    )
    agents: dict[str, tuple[str, str, str]] = {}
    for n, deployment_id in enumerate(ids):
        agent = (data.get(f"d{n}") or {}).get("agent")
        if agent:
            agents[deployment_id] = (str(agent.get("name") or ""), *split_icon(agent.get("icon")))
    # Users of another organisation's public agent may not read the agent: its listing has the same fields.
    if missing := set(ids) - agents.keys():
        for deployment_id, row in (await listings_by_deployment(token, missing)).items():
            agents[deployment_id] = (row["name"], row["icon"], row["glyph"])
    for row in rows:
        row["agent_name"], row["agent_icon"], row["agent_glyph"] = agents.get(
            row["deployment_id"], ("", "", "")
        )


async def threads(token: str) -> list[dict[str, str]]:
    """The viewer's threads, most recently active first, with their agent's name."""
    data = await graphql(THREADS, {"first": THREAD_LIST_SIZE}, token=token)
    rows = [_summary(edge["node"]) for edge in (data.get("threads") or {}).get("edges") or []]
    await _name_agents(token, rows)
    return rows


async def thread(token: str, thread_id: str) -> dict[str, Any] | None:
    """A thread with its messages, its agent, and the run still in progress (``active_run``: id or "")."""
    raw = (await graphql(THREAD, {"id": thread_id}, token=token)).get("thread")
    if not raw:
        return None
    latest = (raw.get("runs") or [{}])[0] or {}
    active = str(latest.get("status") or "").upper() in ACTIVE
    row: dict[str, Any] = _summary(raw)
    await _name_agents(token, [row])
    return {
        **row,
        "messages": [
            {
                "id": str(m["id"]),
                "role": str(m.get("role") or "").lower(),
                "content": str(m.get("content") or ""),
            }
            for m in raw.get("messages") or []
        ],
        "active_run": str(latest["id"]) if active else "",
    }


async def start_thread(token: str, deployment_id: str) -> str:
    data = await graphql(START_THREAD, {"input": {"deploymentId": deployment_id}}, token=token)
    return str(data["startThread"]["id"])


async def rename_thread(token: str, thread_id: str, title: str) -> str:
    data = await graphql(RENAME_THREAD, {"input": {"threadId": thread_id, "title": title}}, token=token)
    return str(data["renameThread"]["title"] or "")


async def delete_thread(token: str, thread_id: str) -> None:
    await graphql(DELETE_THREAD, {"id": thread_id}, token=token)


async def send_message(token: str, thread_id: str, content: str) -> str:
    """Post the viewer's message; returns the id of the run that answers it."""
    data = await graphql(SEND_MESSAGE, {"input": {"threadId": thread_id, "content": content}}, token=token)
    return str(data["sendMessage"]["id"])


async def cancel_run(token: str, run_id: str) -> str:
    data = await graphql(CANCEL_RUN, {"id": run_id}, token=token)
    return str(data["cancelRun"]["status"])


async def send_and_connect(token: str, thread_id: str, content: str) -> tuple[str, ClientConnection | None]:
    """``send_message`` with the events socket opened meanwhile: the run's first tokens arrive sooner.

    Returns the run id and the socket for :func:`run_events` (which closes it).
    """
    opening = asyncio.ensure_future(open_connection(token))
    try:
        run_id = await send_message(token, thread_id, content)
    except BaseException:
        opening.cancel()
        with contextlib.suppress(BaseException):
            await (await opening).close()
        raise
    try:
        return run_id, await opening
    except ApiError:
        return run_id, None  # the run started; run_events opens a socket of its own


async def run_events(
    token: str, run_id: str, after_seq: int = 0, connection: ClientConnection | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Events of a run in order (persisted ones after ``after_seq`` first, then live) until it completes."""
    variables = {"runId": run_id, "afterSeq": after_seq}
    async for data in subscribe(RUN_EVENTS, variables, token=token, connection=connection):
        event = data.get("runEvents") or {}
        yield {
            "seq": int(event.get("seq") or 0),
            "type": str(event.get("type") or ""),
            "kind": str(event.get("kind") or ""),
            "data": event.get("data"),
        }


async def memories(token: str, agent_id: str) -> list[dict[str, str]]:
    """What the agent remembers about the viewer, newest first."""
    data = await graphql(MEMORIES, {"agentId": agent_id, "first": MEMORY_LIST_SIZE}, token=token)
    return [
        {
            "id": str(m["id"]),
            "content": str(m.get("content") or ""),
            "created_at": str(m.get("createdAt") or ""),
        }
        for m in (edge["node"] for edge in (data.get("memories") or {}).get("edges") or [])
    ]


async def delete_memory(token: str, memory_id: str) -> None:
    await graphql(DELETE_MEMORY, {"id": memory_id}, token=token)


async def thread_and_list(token: str, thread_id: str) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The open thread and the sidebar's list, fetched concurrently (one page load, one round-trip time)."""
    return await asyncio.gather(thread(token, thread_id), threads(token))
