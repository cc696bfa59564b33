"""The signed-in session every page state builds on: the token cookie, the viewer and their roles.

Page states subclass :class:`SessionState`, so each page's handlers read ``self.token`` and call
``self._authenticate()`` / ``self._failed(error)``; there is still one state class per page.

The token lives in a cookie with ``SameSite=Strict`` so that reloads and new tabs keep the session and other
sites never get it sent. Reflex writes cookies from JavaScript, so it cannot be ``HttpOnly``: see
``docs/web.md`` ("Session cookie") for that trade-off and what limits it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import quote

import reflex as rx
from reflex.event import EventSpec

from agentry_web.api import ApiError, accounts

SESSION_COOKIE = "agentry_session"
# Matches the API's absolute session lifetime (30 days); the API may end the session earlier (idle timeout).
SESSION_MAX_AGE = 30 * 24 * 3600
EXPIRED_NOTICE = "Your session has expired. Please log in again."
LOGIN_NOTICE = "Please log in to continue."
# Roles (OrgRole) that see the builder studio / the administration screens in the navigation. The API stays
# the authority: these only decide which links are shown.
BUILDER_ROLES = ("OWNER", "ADMIN", "BUILDER")
ADMIN_ROLES = ("OWNER", "ADMIN", "AUDITOR")


T = TypeVar("T")


def safe_next(path: str | None, default: str = "/marketplace") -> str:
    """Only same-site paths: ``?next=//evil.example`` must not turn login into an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


class SessionState(rx.State):
    """Who is signed in. ``viewer_id`` is empty while anonymous or not loaded yet."""

    token: str = rx.Cookie("", name=SESSION_COOKIE, path="/", max_age=SESSION_MAX_AGE, same_site="strict")
    viewer_id: str = ""
    viewer_name: str = ""
    viewer_email: str = ""
    roles: list[str] = []
    # A message for the login page (expired session, logged out), set before redirecting there.
    notice: str = ""
    # The token the viewer fields were loaded for: a changed cookie (other tab logged in) reloads them.
    _viewer_token: str = ""

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.viewer_id)

    @rx.var
    def can_build(self) -> bool:
        return any(role in BUILDER_ROLES for role in self.roles)

    @rx.var
    def can_administer(self) -> bool:
        return any(role in ADMIN_ROLES for role in self.roles)

    @rx.var
    def initials(self) -> str:
        words = (self.viewer_name or self.viewer_email).replace("@", " ").split()
        return "".join(w[0] for w in words[:2]).upper() or "?"

    def _path(self) -> str:
        url = self.router.url
        return url.path + (f"?{url.query}" if url.query else "")

    def _forget(self) -> None:
        self.token = ""
        self._viewer_token = ""
        self.viewer_id = self.viewer_name = self.viewer_email = ""
        self.roles = []

    def _to_login(self, notice: str) -> EventSpec:
        self._forget()
        self.notice = notice
        return rx.redirect(f"/login?next={quote(self._path(), safe='/')}")

    async def _authenticate(self) -> EventSpec | None:
        """Make sure the viewer is loaded; returns the redirect to the login page when there is no session.

        Callers stop when it returns an event: ``if redirect := await self._authenticate(): return redirect``
        """
        if not self.token:
            return self._to_login(LOGIN_NOTICE)
        if self._viewer_token == self.token and self.viewer_id:
            return None
        try:
            viewer = await accounts.viewer(self.token)
        except ApiError as error:
            return self._failed(error)
        if viewer is None:
            return self._to_login(EXPIRED_NOTICE)
        self.viewer_id = viewer["id"]
        self.viewer_name = viewer["display_name"]
        self.viewer_email = viewer["email"]
        self.roles = sorted({m["role"] for m in viewer["memberships"]})
        self._viewer_token = self.token
        return None

    async def _with_session(
        self, call: Callable[[str], Awaitable[T]]
    ) -> tuple[EventSpec | None, T | None, ApiError | None]:
        """``_authenticate`` and ``call(token)`` at once: a first page load waits for one API round trip.

        Returns ``(redirect, result, error)``: a redirect means there is no session (the result is dropped).
        """
        if not self.token:
            return self._to_login(LOGIN_NOTICE), None, None
        task = asyncio.ensure_future(call(self.token))
        redirect = await self._authenticate()
        if redirect is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            return redirect, None, None
        try:
            return None, await task, None
        except ApiError as error:
            return None, None, error

    def _failed(self, error: ApiError) -> EventSpec:
        """What the UI does with an API error: an expired session goes to login, anything else is a toast.

        Only the API's message is shown (it never contains internals); never a stack trace.
        """
        if error.code == "UNAUTHENTICATED":
            return self._to_login(EXPIRED_NOTICE)
        return rx.toast.error(str(error), close_button=True)

    def _start_session(self, token: str) -> None:
        self._forget()
        self.token = token
        self.notice = ""

    @rx.event
    async def log_out(self):
        if self.token:
            # An already expired or revoked session is logged out anyway.
            with contextlib.suppress(ApiError):
                await accounts.log_out(self.token)
        self._forget()
        self.notice = "You have been logged out."
        return rx.redirect("/login")
