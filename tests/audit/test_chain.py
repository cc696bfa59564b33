"""The audit log: hash chain per organisation, append-only, verification and CLI."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, text

from backend.audit import NIL_CHAIN, drain_deferred, export_jsonl, record, verify_chain
from backend.authz import Actor, authorize
from backend.errors import Forbidden
from backend.models import AuditChainHead, AuditEvent
from tests.authz import factories as f


async def _events(resources: Any, n: int, org_id: Any) -> None:
    actor = Actor(kind="user", user_id=None, client_addr="198.51.100.1", user_agent="pytest", request_id="r1")
    for i in range(n):
        async with resources.sessions() as s, s.begin():
            await record(
                s,
                actor,
                action="thing.touch",
                resource_type="thing",
                resource_id=str(i),
                organization_id=org_id,
                summary={"i": i, "password": "hunter2", "nested": {"ok": 1.5}},
            )


async def _org(resources: Any) -> Any:
    async with resources.sessions() as s, s.begin():
        return await f.org(s, "acme")


async def test_events_chain_and_verify(resources: Any) -> None:
    org = await _org(resources)
    await _events(resources, 5, org.id)
    await _events(resources, 2, None)
    async with resources.sessions() as s:
        events = (await s.scalars(select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq))).all()
        assert await verify_chain(s) is None
        assert await verify_chain(s, org.id) is None
        head = await s.get(AuditChainHead, org.id)
    org_events = [e for e in events if e.chain == org.id]
    assert [e.seq for e in org_events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(org_events))
    assert head is not None and head.last_hash == org_events[-1].hash
    assert org_events[0].summary["password"] == "[redacted]"
    assert {e.chain for e in events} == {org.id, NIL_CHAIN}


async def test_append_only_trigger_refuses_update_and_delete(resources: Any) -> None:
    org = await _org(resources)
    await _events(resources, 1, org.id)
    for stmt in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            async with resources.sessions() as s, s.begin():
                await s.execute(text(stmt))


async def test_concurrent_appends_keep_one_chain(resources: Any) -> None:
    org = await _org(resources)
    await asyncio.gather(*(_events(resources, 3, org.id) for _ in range(6)))
    async with resources.sessions() as s:
        assert await verify_chain(s, org.id) is None
        seqs = (await s.scalars(select(AuditEvent.seq).where(AuditEvent.chain == org.id))).all()
    assert sorted(seqs) == list(range(1, 19))


async def _tamper(database_url: str, sql: str) -> None:
    """As superuser, with the append-only trigger disabled: what an attacker with DB access could do."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER ALL")
        await conn.execute(sql)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER ALL")
    finally:
        await conn.close()


def _cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENTRY_DATABASE_URL": settings.database_url,
        "AGENTRY_REDIS_URL": settings.redis_url,
        "AGENTRY_DATA_DIR": str(settings.data_dir),
        "AGENTRY_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "agentry", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_verify_names_the_altered_event(resources: Any, settings: Any, database_url: str) -> None:
    org = await _org(resources)
    await _events(resources, 4, org.id)
    ok = await asyncio.to_thread(_cli, settings, "verify", "--org", "acme")
    assert ok.returncode == 0, ok.stderr
    async with resources.sessions() as s:
        third = (
            await s.scalars(select(AuditEvent).where(AuditEvent.chain == org.id, AuditEvent.seq == 3))
        ).one()
    await _tamper(database_url, f"UPDATE audit_events SET summary = '{{\"i\": 99}}' WHERE id = '{third.id}'")
    bad = await asyncio.to_thread(_cli, settings, "verify", "--org", "acme")
    assert bad.returncode == 1
    assert str(third.id) in bad.stdout and "altered" in bad.stdout
    everything = await asyncio.to_thread(_cli, settings, "verify")
    assert everything.returncode == 1 and str(third.id) in everything.stdout


async def test_verify_detects_removed_events(resources: Any, database_url: str) -> None:
    org = await _org(resources)
    await _events(resources, 4, org.id)
    async with resources.sessions() as s:
        rows = (
            await s.scalars(select(AuditEvent).where(AuditEvent.chain == org.id).order_by(AuditEvent.seq))
        ).all()
    await _tamper(database_url, f"DELETE FROM audit_events WHERE id = '{rows[1].id}'")
    async with resources.sessions() as s:
        broken = await verify_chain(s, org.id)
    assert broken is not None and broken.event_id == rows[2].id and "removed" in broken.reason
    await _tamper(database_url, f"DELETE FROM audit_events WHERE id = '{rows[3].id}'")
    await _tamper(database_url, f"DELETE FROM audit_events WHERE id IN ('{rows[1].id}', '{rows[2].id}')")
    async with resources.sessions() as s:  # only the tail is gone: the head record notices
        assert (await verify_chain(s, org.id)) is not None


async def test_export_jsonl_round_trips(resources: Any) -> None:
    import json

    from backend.audit import event_hash

    org = await _org(resources)
    await _events(resources, 3, org.id)
    async with resources.sessions() as s:
        lines = [json.loads(line) async for line in export_jsonl(s, org.id)]
    assert [d["seq"] for d in lines] == [1, 2, 3]
    prev = "0" * 64
    for d in lines:  # an exported log can be verified offline
        assert event_hash(prev, d) == d["hash"]
        prev = d["hash"]


async def test_denial_after_record_in_same_transaction_is_deferred(resources: Any) -> None:
    async with resources.sessions() as s, s.begin():
        org = await f.org(s)
        member = await f.member(s, org, "member")
        agent = await f.agent(s, org)
    actor = Actor(kind="user", user_id=member.id)
    with pytest.raises(Forbidden):
        async with resources.sessions() as s, s.begin():
            await record(s, actor, action="thing.do", resource_type="thing", organization_id=org.id)
            await asyncio.wait_for(authorize(s, actor, "edit", agent), 3)
    await drain_deferred()
    async with resources.sessions() as s:
        events = (await s.scalars(select(AuditEvent).where(AuditEvent.chain == org.id))).all()
        assert [(e.action, e.outcome) for e in events] == [("agent.edit", "denied")]
        assert await verify_chain(s, org.id) is None
