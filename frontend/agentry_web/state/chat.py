"""State of ``/chat/[thread_id]``: the thread, its live answer, the thread list and the agent's memories.

Streaming: ``send`` is a background task. It posts the message (``sendMessage`` returns the run; the events
socket opens meanwhile), then reads ``runEvents`` over graphql-transport-ws and folds each event into
``live_*``. The answer in flight is kept apart from ``messages`` so that each token pushes a small delta to
the browser, not the whole conversation. When the run ends the answer joins ``messages``.

Reloading the page loses nothing: ``load`` reads the thread from the API and, when a run is still going,
follows it again from its first event (the API replays persisted events, then continues live).
"""

from __future__ import annotations

import asyncio

import reflex as rx

from agentry_web.api import ApiError, chat
from agentry_web.api.subscriptions import ClientConnection
from agentry_web.state import run_events
from agentry_web.state.chat_threads import ThreadListMixin
from agentry_web.state.models import ChatMessage, Step
from agentry_web.state.session import SessionState

# A dropped subscription (API restart, network blip) is resumed from the last event seen, a few times.
RESUME_ATTEMPTS = 3
STATUS_TEXT = {
    "CANCELLED": "Stopped.",
    "TIMED_OUT": "The agent took too long to answer.",
    "FAILED": "The agent could not answer.",
}


class ChatState(ThreadListMixin, SessionState):
    thread_id: str = ""
    title: str = ""
    agent_id: str = ""
    agent_name: str = ""
    agent_icon: str = ""
    agent_glyph: str = ""
    deployment_id: str = ""
    messages: list[ChatMessage] = []
    loading: bool = True
    missing: bool = False
    # The answer in flight.
    run_id: str = ""
    streaming: bool = False
    stopping: bool = False
    live_content: str = ""
    live_status: str = ""
    live_steps: list[Step] = []
    # Bumped whenever the page switches thread: a follower of the previous thread then stops writing.
    _generation: int = 0

    @rx.var
    def page_title(self) -> str:
        return self.title or (f"Chat with {self.agent_name}" if self.agent_name else "Chat")

    @rx.event
    async def load(self):
        self._generation += 1
        self.thread_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.loading, self.missing, self.messages = True, False, []
        self._reset_live()
        yield
        thread_id = self.thread_id
        redirect, found, error = await self._with_session(
            lambda token: chat.thread_and_list(token, thread_id)
        )
        if redirect is not None:
            yield redirect
            return
        if error is not None or found is None:
            self.loading = False
            self.missing = error is None or error.code in ("NOT_FOUND", "BAD_USER_INPUT", "FORBIDDEN")
            if not self.missing and error is not None:
                yield self._failed(error)
            return
        thread, threads = found
        self._set_threads(threads)
        self.loading = False
        if thread is None:
            self.missing = True
            return
        self.title, self.agent_id, self.deployment_id = (
            thread["title"],
            thread["agent_id"],
            thread["deployment_id"],
        )
        self.agent_name, self.agent_icon = thread["agent_name"], thread["agent_icon"]
        self.agent_glyph = thread["agent_glyph"]
        self.messages = [
            ChatMessage(id=m["id"], role=m["role"], content=m["content"]) for m in thread["messages"]
        ]
        if thread["active_run"]:
            yield self._begin(thread["active_run"])

    def _reset_live(self) -> None:
        self.run_id, self.streaming, self.stopping = "", False, False
        self.live_content, self.live_status, self.live_steps = "", "", []

    def _begin(self, run_id: str):
        self._reset_live()
        self.run_id, self.streaming, self.live_status = run_id, True, "QUEUED"
        return ChatState.follow(run_id, self._generation)

    @rx.event(background=True)
    async def send(self, form: dict[str, str]):
        async for event in self._post(form.get("message") or ""):
            yield event

    @rx.event(background=True)
    async def retry(self, content: str):
        async for event in self._post(content):
            yield event

    async def _post(self, text: str):
        """Post a message and stream its answer, as a background task (the page stays responsive)."""
        content = text.strip()
        if not content:
            return
        async with self:
            busy = self.streaming
            if not busy:
                user = ChatMessage(id=f"local-{len(self.messages)}", role="user", content=content)
                self.messages = [*self.messages, user]
                self._reset_live()
                self.streaming, self.live_status = True, "QUEUED"
                token, thread_id, generation = self.token, self.thread_id, self._generation
        if busy:
            # One answer at a time: give the text back (the form already cleared it) instead of losing it.
            yield rx.set_value("chat-message", text)
            yield rx.toast.info("Wait for the answer, or stop it, before sending another message.")
            return
        try:
            run_id, connection = await chat.send_and_connect(token, thread_id, content)
        except ApiError as error:
            async with self:
                if self._generation == generation:
                    self._settle(status="FAILED", error=str(error), retry=content, local=True)
                redirect = self._failed(error) if error.code == "UNAUTHENTICATED" else None
            if redirect is not None:
                yield redirect
            return
        async with self:
            current = self._generation == generation
            if current:
                self.run_id = run_id
        if not current:
            if connection is not None:
                await connection.close()
            return
        async for event in self._stream(run_id, generation, token, connection):
            yield event

    def _settle(self, status: str, error: str = "", retry: str = "", local: bool = False) -> None:
        """Move the live answer into ``messages`` (with an in-place error and retry when it failed)."""
        failed = status in run_events.FAILED or local
        note = error or STATUS_TEXT.get(status, "")
        answer = ChatMessage(
            id=f"run-{self.run_id or len(self.messages)}",
            role="assistant",
            content=self.live_content,
            status="failed" if failed else ("cancelled" if status == "CANCELLED" else ""),
            error=note if (failed or status == "CANCELLED") else "",
            retry=retry or (self._last_user_text() if failed else ""),
            steps=list(self.live_steps),
        )
        if answer.content or answer.error or answer.steps:
            self.messages = [*self.messages, answer]
        self._reset_live()

    def _last_user_text(self) -> str:
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")

    @rx.event(background=True)
    async def follow(self, run_id: str, generation: int):
        """Attach to a run that is still going (the page was reloaded or opened while it ran)."""
        async with self:
            token = self.token
        async for event in self._stream(run_id, generation, token, None):
            yield event

    async def _stream(self, run_id: str, generation: int, token: str, connection: ClientConnection | None):
        """Fold a run's events into ``live_*`` until it ends (or the page moved to another thread)."""
        answer = run_events.LiveAnswer()
        failure: ApiError | None = None
        for attempt in range(RESUME_ATTEMPTS + 1):
            try:
                async for event in chat.run_events(token, run_id, answer.last_seq, connection):
                    async with self:
                        if self._generation != generation or self.run_id != run_id:
                            return
                        run_events.apply(answer, event)
                        self.live_content, self.live_status = answer.content, answer.status
                        self.live_steps = list(answer.steps)
                    if answer.done:
                        break
                failure = None
                break
            except ApiError as error:
                failure = error
                if error.code != "UNAVAILABLE" or attempt == RESUME_ATTEMPTS:
                    break
                await asyncio.sleep(0.5 * (attempt + 1))
            finally:
                connection = None  # used (and closed) by the first attempt only
        async with self:
            if self._generation != generation or self.run_id != run_id:
                return
            redirect = None
            if failure is not None and failure.code == "UNAUTHENTICATED":
                self._reset_live()
                redirect = self._failed(failure)
            elif failure is not None and not answer.done:
                self._settle(status="FAILED", error=str(failure))
            else:
                self._settle(status=answer.status, error=answer.error)
        if redirect is not None:
            yield redirect
            return
        # The API may have titled the thread from its first message: refresh the sidebar.
        yield ChatState.refresh_threads

    @rx.event
    async def stop(self):
        if not self.run_id or self.stopping:
            return
        self.stopping = True
        yield
        try:
            await chat.cancel_run(self.token, self.run_id)
        except ApiError as error:
            self.stopping = False
            yield self._failed(error)
