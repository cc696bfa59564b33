"""State of the landing page: the API's health, probed when the page loads."""

import reflex as rx

from agentry_web import api


class HomeState(rx.State):
    """``api_status`` is "checking" until the probe answers, then "healthy" or "unreachable"."""

    api_status: rx.Field[str] = rx.field("checking")

    @rx.event(background=True)
    async def check_health(self):
        # Background so a slow or dead API never blocks this client's other events.
        healthy = await api.health()
        async with self:
            self.api_status = "healthy" if healthy else "unreachable"
