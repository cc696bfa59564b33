"""States of the role-gated areas: ``/studio`` (builders) and ``/admin`` (owners, admins, auditors).

The screens themselves come later; today these pages only send members who may not use them back to the
marketplace with a notice. The API still refuses their operations: this is navigation, not security.
"""

from __future__ import annotations

import reflex as rx

from agentry_web.state.session import SessionState


class StudioState(SessionState):
    ready: bool = False

    @rx.event
    async def load(self):
        self.ready = False
        if (redirect := await self._authenticate()) is not None:
            return redirect
        if not self.can_build:
            return [
                rx.toast.warning("The studio is for builders of an organisation."),
                rx.redirect("/marketplace"),
            ]
        self.ready = True
        return None


class AdminState(SessionState):
    ready: bool = False

    @rx.event
    async def load(self):
        self.ready = False
        if (redirect := await self._authenticate()) is not None:
            return redirect
        if not self.can_administer:
            return [
                rx.toast.warning("Administration is for owners, admins and auditors."),
                rx.redirect("/marketplace"),
            ]
        self.ready = True
        return None
