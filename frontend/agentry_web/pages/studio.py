"""``/studio`` and ``/admin``: role-gated areas. Members are sent back to the marketplace with a notice."""

import reflex as rx

from agentry_web.components import empty_state, loading_region, page_heading, shell, skeleton_lines
from agentry_web.components.shell import FAVICON
from agentry_web.state import AdminState, StudioState


def _gated(ready: rx.Var[bool], *content: rx.Component) -> rx.Component:
    return rx.cond(
        ready,
        rx.vstack(*content, spacing="5", width="100%"),
        loading_region(skeleton_lines(3), label="Checking your access"),
    )


@rx.page(image=FAVICON, route="/studio", title="Studio · Agentry", on_load=StudioState.load)
def studio() -> rx.Component:
    return shell(
        _gated(
            StudioState.ready,
            page_heading("Studio", "Build, test and publish your organisation's agents."),
            rx.card(
                empty_state(
                    "hammer",
                    "The studio is on its way",
                    "Agent editing, the playground and deployments arrive in the next release.",
                ),
                width="100%",
            ),
        )
    )


@rx.page(image=FAVICON, route="/admin", title="Admin · Agentry", on_load=AdminState.load)
def admin() -> rx.Component:
    return shell(
        _gated(
            AdminState.ready,
            page_heading("Administration", "Members, integrations, API keys and the audit log."),
            rx.card(
                empty_state(
                    "shield", "Administration is on its way", "These screens arrive in the next release."
                ),
                width="100%",
            ),
        )
    )
