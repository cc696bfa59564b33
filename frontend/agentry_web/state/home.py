"""State of the landing page: the API's health, and who is signed in (for the buttons shown)."""

import reflex as rx

from agentry_web import api
from agentry_web.state.session import SessionState


class HomeState(SessionState):
    """``api_status`` is "checking" until the probe answers, then "healthy" or "unreachable"."""

    api_status: rx.Field[str] = rx.field("checking")

    @rx.event
    async def load(self):
        # A signed-in visitor gets "Open the marketplace" instead of "Log in"; anonymous is fine here.
        if self.token and not self.viewer_id:
            await self._authenticate()  # a stale cookie is simply forgotten; no redirect from the home page
        return HomeState.check_health

    @rx.event(background=True)
    async def check_health(self):
        # Background so a slow or dead API never blocks this client's other events.
        healthy = await api.health()
        async with self:
            self.api_status = "healthy" if healthy else "unreachable"
