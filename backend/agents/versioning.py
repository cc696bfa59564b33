"""Configuration hashing and structured diffs between versions.

The hash is SHA-256 over canonical JSON (sorted keys, no whitespace), so two
configurations hash equal exactly when they are the same configuration; publishing
refuses a draft whose hash equals the latest version's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "changed"]
_MISSING = object()


@dataclass(frozen=True)
class FieldChange:
    """One difference: ``path`` in camelCase (``modelSettings.temperature``, ``tools[<id>].tools``)."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None


def config_hash(config: dict[str, Any]) -> str:
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def camel_keys(value: Any) -> Any:
    """Stored (snake_case) JSON -> API (camelCase) JSON."""
    if isinstance(value, dict):
        return {_camel(k): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _diff_value(path: str, before: Any, after: Any, out: list[FieldChange]) -> None:
    if before is _MISSING:
        out.append(FieldChange(path, "added", after=camel_keys(after)))
    elif after is _MISSING:
        out.append(FieldChange(path, "removed", before=camel_keys(before)))
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            _diff_value(
                f"{path}.{_camel(key)}" if path else _camel(key),
                before.get(key, _MISSING),
                after.get(key, _MISSING),
                out,
            )
    elif before != after:
        out.append(FieldChange(path, "changed", camel_keys(before), camel_keys(after)))


def _diff_set(path: str, before: list[Any], after: list[Any], out: list[FieldChange]) -> None:
    out.extend(FieldChange(path, "removed", before=v) for v in before if v not in after)
    out.extend(FieldChange(path, "added", after=v) for v in after if v not in before)


def _diff_tools(before: list[dict[str, Any]], after: list[dict[str, Any]], out: list[FieldChange]) -> None:
    old = {b["integration_id"]: b for b in before}
    new = {b["integration_id"]: b for b in after}
    for key in [k for k in old if k not in new]:
        out.append(FieldChange(f"tools[{key}]", "removed", before=camel_keys(old[key])))
    for key in [k for k in new if k not in old]:
        out.append(FieldChange(f"tools[{key}]", "added", after=camel_keys(new[key])))
    for key in [k for k in new if k in old]:
        was, now = old[key].get("tools"), new[key].get("tools")
        if was == now:
            continue
        if was is None or now is None:  # "all tools" <-> an explicit list
            out.append(FieldChange(f"tools[{key}].tools", "changed", was, now))
        else:
            _diff_set(f"tools[{key}].tools", was, now, out)


def diff_configs(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Field-level changes from ``before`` to ``after`` (stored configurations)."""
    out: list[FieldChange] = []
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, _MISSING), after.get(key, _MISSING)
        if key == "tools" and isinstance(was, list) and isinstance(now, list):
            _diff_tools(was, now, out)
        elif key == "handoffs" and isinstance(was, list) and isinstance(now, list):
            _diff_set("handoffs", was, now, out)
        else:
            _diff_value(_camel(key), was, now, out)
    return out
