"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from backend.resources import Resources
from backend.settings import Settings
from tests.integrations.factories import World, make_world


@pytest.fixture
async def world(resources: Resources) -> World:
    return await make_world(resources.sessions)


@pytest.fixture
def loopback(settings: Settings) -> Settings:
    """Settings whose egress allow list admits the loopback peers the tests run."""
    return settings.model_copy(update={"egress_allow": "127.0.0.1,::1"})
