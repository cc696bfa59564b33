"""Secrets at rest: AES-GCM bound to the organisation, key ids, rotation (service and CLI)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select, update

from backend.db import transaction
from backend.integrations.crypto import KeyRing, SecretsUnavailable
from backend.integrations.keys import current_generation, key_ring, key_usage, rotate
from backend.integrations.service import check_integration
from backend.models import AuditEvent, Integration
from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, create

ORG_A, ORG_B = uuid.uuid4(), uuid.uuid4()


def test_roundtrip_and_org_binding() -> None:
    ring = KeyRing(b"master-secret-for-tests")
    envelope = ring.encrypt(ORG_A, {"apiKey": "sk-123456"})
    assert envelope["kid"] == "k1" and "sk-123456" not in str(envelope)
    assert ring.decrypt(ORG_A, envelope) == {"apiKey": "sk-123456"}
    with pytest.raises(SecretsUnavailable) as err:
        ring.decrypt(ORG_B, envelope)  # copied to another organisation
    assert "sk-123456" not in str(err.value)
    with pytest.raises(SecretsUnavailable):
        KeyRing(b"another-master").decrypt(ORG_A, envelope)
    tampered = dict(envelope, ct=envelope["ct"][:-4] + ("AAAA" if envelope["ct"][-4:] != "AAAA" else "BBBB"))
    with pytest.raises(SecretsUnavailable):
        ring.decrypt(ORG_A, tampered)
    # Newer generations still read older ciphertexts (the kid says which key).
    assert KeyRing(b"master-secret-for-tests", 3).decrypt(ORG_A, envelope) == {"apiKey": "sk-123456"}


async def test_copied_ciphertext_fails_in_the_other_org(
    resources: Resources, settings: Settings, world: World
) -> None:
    a = await create(
        resources.sessions, settings, world.owner, world.a, "sql", "db", {}, {"url": "sqlite:///nope-a.db"}
    )
    b = await create(
        resources.sessions, settings, world.outsider, world.b, "sql", "db", {}, {"url": "sqlite:///nope-b.db"}
    )
    async with transaction(resources.sessions) as s:
        await s.execute(update(Integration).where(Integration.id == b.id).values(secrets=a.secrets))
    async with transaction(resources.sessions) as s:
        result = await check_integration(s, world.outsider, settings, b.id)
    assert not result.ok and "cannot be decrypted" in result.message
    async with resources.sessions() as s:
        ring = await key_ring(s, settings)
        row = await s.get(Integration, b.id)
        assert row is not None
        with pytest.raises(SecretsUnavailable):
            ring.decrypt(row.organization_id, row.secrets)


async def test_rotation_reencrypts_and_is_safe_to_rerun(
    resources: Resources, settings: Settings, world: World
) -> None:
    rows = [
        await create(
            resources.sessions,
            settings,
            world.owner,
            world.a,
            "slack",
            f"s{i}",
            {},
            {"botToken": f"xoxb-token-{i}"},
        )
        for i in range(3)
    ]
    report = await rotate(resources.sessions, settings, batch=2)
    assert report.kid == "k2" and report.reencrypted == 3 and report.by_kid_before == {"k1": 3}
    async with resources.sessions() as s:
        assert await key_usage(s) == {"k2": 3}
        ring = await key_ring(s, settings)
        for i, row in enumerate(rows):
            stored = await s.get(Integration, row.id)
            assert stored is not None
            assert ring.decrypt(stored.organization_id, stored.secrets) == {"botToken": f"xoxb-token-{i}"}
    again = await rotate(resources.sessions, settings)
    assert again.kid == "k3" and again.reencrypted == 3
    async with resources.sessions() as s:
        assert await current_generation(s) == 3 and await key_usage(s) == {"k3": 3}
        actions = (
            await s.scalars(
                select(AuditEvent.action).where(AuditEvent.action == "integration.secrets_rotated")
            )
        ).all()
    assert len(actions) == 2
    # New secrets are written under the newest key.
    fresh = await create(
        resources.sessions, settings, world.owner, world.a, "slack", "fresh", {}, {"botToken": "xoxb-fresh"}
    )
    assert fresh.secrets is not None and fresh.secrets["kid"] == "k3"


async def test_cli_rotate(resources: Resources, settings: Settings, world: World) -> None:
    await create(
        resources.sessions, settings, world.owner, world.a, "slack", "s", {}, {"botToken": "xoxb-cli"}
    )
    assert settings.secret_key is not None
    env = {
        **os.environ,
        "AGENTRY_DATABASE_URL": settings.database_url or "",
        "AGENTRY_REDIS_URL": settings.redis_url or "",
        "AGENTRY_SECRET_KEY": settings.secret_key.get_secret_value(),
        "AGENTRY_DATA_DIR": str(settings.data_dir),
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agentry", "keys", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = await asyncio.to_thread(run, "rotate")
    assert "now encrypting with k2; re-encrypted 1 integrations" in out
    out = await asyncio.to_thread(run, "rotate")
    assert "k3" in out
    assert "current key: k3\nk3: 1" in await asyncio.to_thread(run, "status")
