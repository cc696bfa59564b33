"""``/``: product name, tagline and the API's health."""

import reflex as rx

from agentry_web.components import api_health_badge, shell
from agentry_web.state import HomeState

TAGLINE = "Build, deploy and run AI agents on your own infrastructure."


@rx.page(route="/", title="Agentry", on_load=HomeState.check_health)
def index() -> rx.Component:
    return shell(
        rx.heading("Agentry", size="8"),
        rx.text(TAGLINE, size="4", color_scheme="gray"),
        api_health_badge(HomeState.api_status),
    )
