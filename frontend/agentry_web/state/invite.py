"""State of ``/invite/[invitation]``: accepting an invitation to an organisation."""

from __future__ import annotations

import reflex as rx

from agentry_web.api import ApiError, accounts
from agentry_web.state.session import SessionState


class InviteState(SessionState):
    """Anonymous visitors are asked to log in or sign up first and come back here (``?next=``)."""

    accepting: bool = False
    accepted_org: str = ""
    error: str = ""

    @rx.var
    def invite_path(self) -> str:
        return self.router.url.path

    @rx.event
    async def load(self):
        self.accepting, self.accepted_org, self.error = False, "", ""
        if self.token:
            return await self._authenticate()
        return None

    @rx.event
    async def accept(self):
        code = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.accepting, self.error = True, ""
        yield
        try:
            membership = await accounts.accept_invitation(self.token, code)
        except ApiError as error:
            self.accepting = False
            if error.code == "UNAUTHENTICATED":
                yield self._failed(error)
            else:
                self.error = str(error)
            return
        # The new membership may grant new roles (and navigation entries): reload the viewer.
        self._viewer_token = ""
        yield await self._authenticate()
        self.accepting = False
        self.accepted_org = membership["organization_name"] or "the organisation"
        yield rx.toast.success(f"You joined {self.accepted_org}.")
