"""POST /hooks/{token} over the ASGI app: happy path, revoked, oversized, bad JSON, rate limit, access."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from arq.jobs import Job, JobStatus
from sqlalchemy import delete, func, select

from backend.db import transaction
from backend.errors import DomainError
from backend.models import AuditEvent, Membership, Run, WebhookTrigger
from backend.resources import Resources
from backend.webhooks import service
from backend.webhooks.schemas import MAX_BODY_BYTES
from tests.schedules.conftest import counts
from tests.schedules.factories import World, world


@pytest.fixture
def res(app: Any) -> Resources:
    return app.state.resources  # type: ignore[no-any-return]


@pytest.fixture
async def hw(res: Resources) -> World:
    return await world(res.sessions)


async def new_trigger(res: Resources, w: World, **over: Any) -> tuple[WebhookTrigger, str]:
    async with transaction(res.sessions) as s:
        return await service.create(
            s, w.builder, data={"deployment_id": w.deployment_id, "name": "ci", **over}
        )


async def run(res: Resources, run_id: str) -> Run:
    async with res.sessions() as s:
        found = await s.get(Run, __import__("uuid").UUID(run_id))
    assert found is not None
    return found


async def test_happy_path_starts_a_webhook_run(client: httpx.AsyncClient, res: Resources, hw: World) -> None:
    trigger, token = await new_trigger(res, hw)
    assert token.startswith("whk_") and trigger.token_prefix == token[:12]
    assert trigger.token_hash != token.encode() and len(trigger.token_hash) == 32

    reply = await client.post(f"/hooks/{token}", json={"message": "Deploy finished", "build": 7})
    assert reply.status_code == 202
    r = await run(res, reply.json()["runId"])
    assert (r.trigger, r.input, r.user_id, r.deployment_id) == (
        "webhook",
        "Deploy finished",
        hw.builder.user_id,
        hw.deployment_id,
    )
    assert await Job(str(r.id), res.arq).status() == JobStatus.queued

    reply = await client.post(f"/hooks/{token}", json={"build": 8, "ok": True})
    assert reply.status_code == 202
    assert json.loads((await run(res, reply.json()["runId"])).input) == {"build": 8, "ok": True}
    async with res.sessions() as s:
        actions = (
            await s.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.resource_id == str(trigger.id))
                .order_by(AuditEvent.seq)
            )
        ).all()
        used = await s.get(WebhookTrigger, trigger.id)
    assert actions == ["webhook_trigger.create", "webhook_trigger.fire", "webhook_trigger.fire"]
    assert used is not None and used.last_used_at is not None


async def test_unknown_and_revoked_tokens_are_404(
    client: httpx.AsyncClient, res: Resources, hw: World
) -> None:
    trigger, token = await new_trigger(res, hw)
    async with transaction(res.sessions) as s:
        await service.revoke(s, hw.owner, trigger_id=trigger.id)
    revoked = await client.post(f"/hooks/{token}", json={"message": "x"})
    unknown = await client.post("/hooks/whk_" + "A" * 43, json={"message": "x"})
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.json() == unknown.json()
    async with res.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Run)) == 0


async def test_oversized_body_is_413_and_bad_json_400(
    client: httpx.AsyncClient, res: Resources, hw: World
) -> None:
    _, token = await new_trigger(res, hw)
    before = await counts(res)
    big = json.dumps({"message": "x" * MAX_BODY_BYTES}).encode()
    assert (
        await client.post(f"/hooks/{token}", content=big, headers={"content-type": "application/json"})
    ).status_code == 413

    async def chunks() -> Any:  # no Content-Length: the streamed size is what counts
        for _ in range(5):
            yield b" " * (MAX_BODY_BYTES // 4)

    assert (await client.post(f"/hooks/{token}", content=chunks())).status_code == 413
    assert (await client.post(f"/hooks/{token}", content=b"{not json")).status_code == 400
    assert (await client.post(f"/hooks/{token}", content=b"\xff\xfe")).status_code == 400
    empty = await client.post(f"/hooks/{token}", json={"message": "  "})
    assert empty.status_code == 400 and "input" in empty.json()["error"]
    assert await counts(res) == before


async def test_rate_limit_per_trigger(client: httpx.AsyncClient, res: Resources, hw: World) -> None:
    _, token = await new_trigger(res, hw, rate_limit_per_minute=2)
    _, other = await new_trigger(res, hw)
    replies = [await client.post(f"/hooks/{token}", json={"n": i}) for i in range(5)]
    codes = [r.status_code for r in replies]
    # 5 calls span at most two fixed windows of 2: at least one is refused whatever the timing.
    assert 429 in codes and set(codes) <= {202, 429} and 2 <= codes.count(202) <= 4
    limited = next(r for r in replies if r.status_code == 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert (await client.post(f"/hooks/{other}", json={})).status_code == 202  # limits are per trigger


async def test_creator_without_access_is_refused_and_audited(
    client: httpx.AsyncClient, res: Resources, hw: World
) -> None:
    trigger, token = await new_trigger(res, hw)
    async with transaction(res.sessions) as s:
        await s.execute(delete(Membership).where(Membership.user_id == hw.builder.user_id))
    reply = await client.post(f"/hooks/{token}", json={"message": "x"})
    assert reply.status_code == 403 and "creator lost access" in reply.json()["error"]
    async with res.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Run)) == 0
        last = (
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.resource_id == str(trigger.id))
                .order_by(AuditEvent.seq.desc())
            )
        ).first()
    assert last is not None and last.action == "webhook_trigger.refuse"


async def test_managing_triggers_needs_manage(res: Resources, hw: World) -> None:
    before = await counts(res)
    for actor, code in ((hw.member, "FORBIDDEN"), (hw.outsider, "NOT_FOUND")):
        with pytest.raises(DomainError) as err:
            async with transaction(res.sessions) as s:
                await service.create(s, actor, data={"deployment_id": hw.deployment_id, "name": "x"})
        assert err.value.code == code
    assert await counts(res) == before
    trigger, _ = await new_trigger(res, hw)
    with pytest.raises(DomainError) as err:
        async with transaction(res.sessions) as s:
            await service.revoke(s, hw.member, trigger_id=trigger.id)
    assert err.value.code == "FORBIDDEN"
    async with res.sessions() as s:
        page, _, total = await service.list_page(s, hw.owner, organization_id=hw.org_id)
        assert [t.id for t in page] == [trigger.id] and total == 1
        page, _, total = await service.list_page(s, hw.outsider, organization_id=hw.org_id)
        assert (page, total) == ([], 0)


async def test_redis_down_is_503_not_an_unlimited_endpoint(
    client: httpx.AsyncClient, res: Resources, hw: World
) -> None:
    from redis.asyncio import Redis

    _, token = await new_trigger(res, hw)
    real = res.redis
    res.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        reply = await client.post(f"/hooks/{token}", json={"message": "x"})
    finally:
        await res.redis.aclose()
        res.redis = real
    assert reply.status_code == 503 and reply.headers["retry-after"] == "5"
