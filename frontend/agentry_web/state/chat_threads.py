"""The chat page's side panels: the thread list (new, rename, delete) and the agent's memories of the viewer.

A state mixin, so the chat page keeps one state class (``ChatState``) while this file stays readable. It
relies on ``SessionState`` (token, ``_failed``) and ``ChatState`` (``thread_id``, ``agent_id``,
``deployment_id``, ``title``) fields at run time.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from agentry_web.api import ApiError, chat
from agentry_web.state.models import Memory, ThreadItem

UNTITLED = "New conversation"


class ThreadListMixin(rx.State, mixin=True):
    threads: list[ThreadItem] = []
    # Rename / delete dialogs act on ``target_id`` (any thread of the list, not only the open one).
    target_id: str = ""
    rename_open: bool = False
    rename_value: str = ""
    delete_open: bool = False
    # Memories panel.
    memories: list[Memory] = []
    memories_open: bool = False
    memories_loading: bool = False

    def _set_threads(self, rows: list[dict[str, str]]) -> None:
        self.threads = [
            ThreadItem(
                id=r["id"],
                title=r["title"] or UNTITLED,
                agent_name=r["agent_name"],
                agent_icon=r["agent_icon"],
                agent_glyph=r["agent_glyph"],
            )
            for r in rows
        ]

    @rx.event
    async def refresh_threads(self):
        try:
            self._set_threads(await chat.threads(self.token))
        except ApiError as error:
            yield self._failed(error)
            return
        current = next((t for t in self.threads if t.id == self.thread_id), None)
        if current is not None and current.title != UNTITLED:
            self.title = current.title

    @rx.event
    async def new_thread(self):
        if not self.deployment_id:
            return
        try:
            thread_id = await chat.start_thread(self.token, self.deployment_id)
        except ApiError as error:
            yield self._failed(error)
            return
        yield rx.redirect(f"/chat/{thread_id}")

    @rx.event
    def open_rename(self, thread_id: str, title: str):
        self.target_id, self.rename_value, self.rename_open = (
            thread_id,
            "" if title == UNTITLED else title,
            True,
        )

    @rx.event
    def set_rename_open(self, value: bool):
        self.rename_open = value

    @rx.event
    async def save_rename(self, form: dict[str, str]):
        title = (form.get("title") or "").strip()
        if not title:
            yield rx.toast.error("Enter a title.")
            return
        try:
            saved = await chat.rename_thread(self.token, self.target_id, title)
        except ApiError as error:
            yield self._failed(error)
            return
        self.rename_open = False
        self.threads = [
            dataclasses.replace(t, title=saved or title) if t.id == self.target_id else t
            for t in self.threads
        ]
        if self.target_id == self.thread_id:
            self.title = saved or title

    @rx.event
    def open_delete(self, thread_id: str):
        self.target_id, self.delete_open = thread_id, True

    @rx.event
    def set_delete_open(self, value: bool):
        self.delete_open = value

    @rx.event
    async def confirm_delete(self):
        target = self.target_id
        try:
            await chat.delete_thread(self.token, target)
        except ApiError as error:
            yield self._failed(error)
            return
        self.delete_open = False
        self.threads = [t for t in self.threads if t.id != target]
        yield rx.toast.success("Conversation deleted.")
        if target == self.thread_id:
            following = self.threads[0].id if self.threads else ""
            yield rx.redirect(f"/chat/{following}" if following else f"/agents/{self.deployment_id}")

    @rx.event
    async def set_memories_open(self, value: bool):
        self.memories_open = value
        if not value or not self.agent_id:
            return
        self.memories_loading = True
        yield
        try:
            rows = await chat.memories(self.token, self.agent_id)
        except ApiError as error:
            self.memories_loading = False
            yield self._failed(error)
            return
        self.memories = [Memory(**r) for r in rows]
        self.memories_loading = False

    @rx.event
    async def delete_memory(self, memory_id: str):
        try:
            await chat.delete_memory(self.token, memory_id)
        except ApiError as error:
            yield self._failed(error)
            return
        self.memories = [m for m in self.memories if m.id != memory_id]
        yield rx.toast.success("Memory deleted.")
