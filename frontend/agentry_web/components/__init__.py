"""Stateless building blocks; they take vars and event handlers as arguments and own no state.

(The shell reads ``SessionState`` for the navigation: the one place every page shares.)
"""

from agentry_web.components.feedback import (
    empty_state,
    error_notice,
    loading_region,
    notice,
    page_heading,
    skeleton_card,
    skeleton_lines,
)
from agentry_web.components.forms import field, submit_button
from agentry_web.components.health import api_health_badge
from agentry_web.components.markdown import safe_markdown
from agentry_web.components.shell import full_height_shell, shell

__all__ = [
    "api_health_badge",
    "empty_state",
    "error_notice",
    "field",
    "full_height_shell",
    "loading_region",
    "notice",
    "page_heading",
    "safe_markdown",
    "shell",
    "skeleton_card",
    "skeleton_lines",
    "submit_button",
]
