"""Integration types, loaded from the ``agentry.integrations`` entry point group.

Built-ins are registered exactly like third-party plugins (see pyproject.toml), so a plugin
package installed into the environment shows up in ``integrationTypes`` with no code change.
A plugin that fails to import is logged and skipped: one broken package must not take the
platform down.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Any

from backend.errors import Invalid
from backend.integrations.sdk import IntegrationType, ToolSpec
from backend.logging import log

GROUP = "agentry.integrations"

_lock = threading.Lock()
_types: dict[str, IntegrationType] | None = None


def _load() -> dict[str, IntegrationType]:
    found: dict[str, IntegrationType] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            instance = obj() if isinstance(obj, type) else obj
            if not isinstance(instance, IntegrationType):
                raise TypeError(f"{ep.value} is not an IntegrationType")
        except Exception as exc:
            log.error("integrations.plugin_failed", entry_point=ep.name, error=repr(exc))
            continue
        if instance.key in found:
            log.warning("integrations.duplicate_key", key=instance.key, entry_point=ep.name)
            continue
        found[instance.key] = instance
    return found


def all_types() -> dict[str, IntegrationType]:
    global _types
    if _types is None:
        with _lock:
            if _types is None:
                _types = _load()
    return _types


def reload() -> dict[str, IntegrationType]:
    """Re-reads the entry points (after installing a plugin into the running process)."""
    global _types
    with _lock:
        _types = _load()
    return _types


def find_type(key: str) -> IntegrationType | None:
    return all_types().get(key)


def get_type(key: str) -> IntegrationType:
    """The type for ``key``; ``Invalid`` when no such type is installed."""
    found = find_type(key)
    if found is None:
        raise Invalid(f"unknown integration type {key!r}", field="type")
    return found


def tool_specs(integration: Any) -> list[ToolSpec] | None:
    """An integration row's tools (discovered ones from its cache); ``None`` if not knowable yet."""
    kind = find_type(integration.type)
    if kind is None:
        return []
    cache = integration.cache or {}
    if kind.dynamic_tools and "tools" not in cache and not kind.static_tools():
        return None
    return kind.tools(cache)


def tool_names(integration: Any) -> list[str] | None:
    """Tool names of an integration row (used by the agents service to validate bindings)."""
    specs = tool_specs(integration)
    return None if specs is None else [spec.name for spec in specs]
