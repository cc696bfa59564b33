"""The demo agents: all on the deterministic ``offline`` model so they work with no provider key."""

from __future__ import annotations

from typing import Any

DEMO_AGENTS: list[dict[str, Any]] = [
    {
        "name": "Echo Assistant",
        "slug": "echo",
        "description": "A friendly general assistant that repeats what you say and counts the "
        "conversation so far. Handy for trying the chat, streaming and thread history without any API key.",
        "category": "General",
        "tags": ["getting-started", "chat", "demo"],
        "icon": "message-circle",
        "example_prompts": ["Hello there!", "What did I say before?"],
        "instructions": "You are a helpful, concise assistant.",
        "visibility": "organization",
    },
    {
        "name": "Support Triage",
        "slug": "support-triage",
        "description": "Sorts incoming customer support tickets by urgency and product area, and drafts a "
        "first reply for the support team.",
        "category": "Customer Support",
        "tags": ["support", "tickets", "triage"],
        "icon": "life-buoy",
        "example_prompts": ["My invoice shows the wrong amount", "The app crashes when I log in"],
        "instructions": "Classify the ticket (billing, bug, how-to) and urgency, then draft a polite reply.",
        "visibility": "organization",
    },
    {
        "name": "Memory Coach",
        "slug": "memory-coach",
        "description": "Remembers your preferences and goals across conversations. Try '/remember I prefer "
        "short answers' and later '/recall answers'.",
        "category": "Productivity",
        "tags": ["memory", "personal", "coaching"],
        "icon": "brain",
        "example_prompts": ["/remember I run every Tuesday", "/recall Tuesday"],
        "instructions": "Coach the user towards their goals; remember what matters to them.",
        "visibility": "public",
    },
    {
        "name": "Research Router",
        "slug": "research-router",
        "description": "Routes questions to the right specialist agent. Hands support questions to Support "
        "Triage: try '/handoff support-triage My order never arrived'.",
        "category": "Research",
        "tags": ["routing", "handoff", "research"],
        "icon": "git-branch",
        "example_prompts": ["/handoff support-triage My order never arrived"],
        "instructions": "Decide which specialist should answer and hand the task over.",
        "visibility": "organization",
        "handoff_to": ["support-triage"],
    },
]
