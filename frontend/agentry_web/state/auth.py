"""States of the sign-in pages: ``/login`` and ``/signup``."""

from __future__ import annotations

import reflex as rx

from agentry_web.api import ApiError, accounts
from agentry_web.state.session import SessionState, safe_next


class AuthFormMixin(rx.State, mixin=True):
    """What both forms share: where to go afterwards, the inline error, the busy flag."""

    next_path: str = "/marketplace"
    error: str = ""
    submitting: bool = False

    async def _enter(self):
        """On load: remember ``?next=``; someone already signed in goes straight there."""
        self.error = ""
        self.submitting = False
        self.next_path = safe_next(self.router.url.query_parameters.get("next"))
        if self.token and await self._authenticate() is None:
            return rx.redirect(self.next_path)
        return None

    async def _finish(self, token: str):
        self._start_session(token)
        if (redirect := await self._authenticate()) is not None:
            return redirect
        return rx.redirect(self.next_path)


class LoginState(AuthFormMixin, SessionState):
    @rx.event
    async def load(self):
        return await self._enter()

    @rx.event
    async def submit(self, form: dict[str, str]):
        email, password = form.get("email", "").strip(), form.get("password", "")
        if not email or not password:
            self.error = "Enter your e-mail and password."
            return
        self.submitting, self.error = True, ""
        yield
        try:
            token = await accounts.log_in(email, password)
        except ApiError as error:
            self.submitting = False
            self.error = str(error)
            return
        self.submitting = False
        yield await self._finish(token)


class SignupState(AuthFormMixin, SessionState):
    @rx.event
    async def load(self):
        return await self._enter()

    @rx.event
    async def submit(self, form: dict[str, str]):
        name = form.get("display_name", "").strip()
        email, password = form.get("email", "").strip(), form.get("password", "")
        if not name or not email or not password:
            self.error = "Fill in your name, e-mail and password."
            return
        self.submitting, self.error = True, ""
        yield
        try:
            token = await accounts.sign_up(email, password, name)
        except ApiError as error:
            self.submitting = False
            self.error = str(error)
            return
        self.submitting = False
        yield rx.toast.success(f"Welcome to Agentry, {name}!")
        yield await self._finish(token)
