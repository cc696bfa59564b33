"""Handoff tests run real runs through an in-process worker (tests.runtime.harness)."""

from __future__ import annotations

import pytest

from backend.settings import Settings
from tests.runtime.harness import worker  # noqa: F401  (fixture)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The loopback Slack peer must be reachable through the egress guard."""
    return settings.model_copy(update={"egress_allow": "127.0.0.1"})
