"""Stateless building blocks; they take vars and event handlers as arguments and own no state."""

from agentry_web.components.health import api_health_badge
from agentry_web.components.shell import shell

__all__ = ["api_health_badge", "shell"]
