"""State of ``/agents/[deployment_id]``: one agent's page and starting a chat with it."""

from __future__ import annotations

import reflex as rx

from agentry_web.api import ApiError, chat, marketplace
from agentry_web.state.session import SessionState


class AgentState(SessionState):
    deployment_id: str = ""
    name: str = ""
    description: str = ""
    category: str = ""
    icon: str = ""
    glyph: str = ""
    tags: list[str] = []
    organization: str = ""
    example_prompts: list[str] = []
    usage: int = 0
    loading: bool = True
    missing: bool = False
    starting: bool = False

    @rx.event
    async def load(self):
        self.deployment_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.loading, self.missing, self.starting = True, False, False
        yield
        deployment_id = self.deployment_id
        redirect, agent, error = await self._with_session(
            lambda token: marketplace.deployment(token, deployment_id)
        )
        if redirect is not None:
            yield redirect
            return
        self.loading = False
        if error is not None:
            # NOT_FOUND also covers "not yours to see" (the API never reveals which).
            self.missing = error.code in ("NOT_FOUND", "BAD_USER_INPUT", "FORBIDDEN")
            if not self.missing:
                yield self._failed(error)
            return
        if agent is None:
            self.missing = True
            return
        self.name, self.description = agent["name"], agent["description"]
        self.category, self.icon, self.glyph = agent["category"], agent["icon"], agent["glyph"]
        self.tags, self.organization = agent["tags"], agent["organization"]
        self.example_prompts, self.usage = agent["example_prompts"], agent["usage"]

    @rx.event
    async def start_chat(self, prompt: str = ""):
        """Open a new thread; with an example prompt, send it too (the chat page follows the run live)."""
        if self.starting:
            return
        self.starting = True
        yield
        try:
            thread_id = await chat.start_thread(self.token, self.deployment_id)
            if prompt:
                await chat.send_message(self.token, thread_id, prompt)
        except ApiError as error:
            self.starting = False
            yield self._failed(error)
            return
        self.starting = False
        yield rx.redirect(f"/chat/{thread_id}")
