"""Typed rows the states hold (dataclasses, so components can ``rx.foreach`` over their fields)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Listing:
    deployment_id: str = ""
    name: str = ""
    description: str = ""
    category: str = ""
    icon: str = ""  # a Lucide icon name, or "" (then ``glyph``, an emoji, or the name's initial)
    glyph: str = ""
    organization: str = ""
    usage: int = 0


@dataclasses.dataclass
class Facet:
    category: str = ""
    count: int = 0


@dataclasses.dataclass
class ThreadItem:
    id: str = ""
    title: str = ""
    agent_name: str = ""
    agent_icon: str = ""
    agent_glyph: str = ""


@dataclasses.dataclass
class Step:
    """A tool call, a handoff or another intermediate step of a run, shown collapsed under the answer."""

    key: str = ""
    kind: str = ""
    title: str = ""
    detail: str = ""
    status: str = ""


@dataclasses.dataclass
class ChatMessage:
    """``status``: "" (settled), "streaming", "failed", "cancelled". ``retry`` is the text to send again."""

    id: str = ""
    role: str = ""
    content: str = ""
    status: str = ""
    error: str = ""
    retry: str = ""
    steps: list[Step] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Memory:
    id: str = ""
    content: str = ""
    created_at: str = ""
