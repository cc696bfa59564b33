"""``/``: what Agentry is, the API's health, and the way in (marketplace, or log in / sign up)."""

import reflex as rx

from agentry_web.components import api_health_badge, shell
from agentry_web.components.forms import link_button
from agentry_web.components.shell import FAVICON
from agentry_web.state import HomeState

TAGLINE = "Build, deploy and run AI agents on your own infrastructure."


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=20, color=rx.color("indigo", 11), aria_hidden="true"),
            rx.heading(title, size="3", as_="h2"),
            rx.text(text, size="2", color=rx.color("gray", 11)),
            spacing="2",
        ),
        size="2",
    )


@rx.page(image=FAVICON, route="/", title="Agentry", on_load=HomeState.load)
def index() -> rx.Component:
    return shell(
        rx.vstack(
            rx.heading("Agentry", size="9", as_="h1"),
            rx.text(TAGLINE, size="5", color=rx.color("gray", 11)),
            rx.hstack(
                rx.cond(
                    HomeState.signed_in,
                    link_button("Open the marketplace", size="3", href="/marketplace"),
                    rx.hstack(
                        link_button("Log in", size="3", href="/login"),
                        link_button("Create an account", size="3", variant="soft", href="/signup"),
                        spacing="3",
                    ),
                ),
                api_health_badge(HomeState.api_status),
                spacing="4",
                align="center",
                padding_top="0.5rem",
            ),
            spacing="3",
            padding_y="3rem",
        ),
        rx.grid(
            _feature("store", "Marketplace", "Find the agents your organisation and the community deployed."),
            _feature("messages-square", "Chat", "Talk to agents with live answers, tool calls and handoffs."),
            _feature("shield-check", "Yours", "Self-hosted, with roles, audit trails and your own models."),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="4",
            width="100%",
        ),
    )
