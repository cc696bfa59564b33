"""``/invite/[invitation]``: accept an invitation to an organisation (after logging in or signing up)."""

import reflex as rx

from agentry_web.components import error_notice
from agentry_web.components.forms import link_button
from agentry_web.components.shell import FAVICON
from agentry_web.pages.auth_layout import auth_card
from agentry_web.state import InviteState


def _anonymous() -> rx.Component:
    return rx.vstack(
        rx.text("Log in or create an account to accept it.", size="2"),
        rx.hstack(
            link_button("Log in", size="3", href="/login?next=" + InviteState.invite_path),
            link_button("Sign up", size="3", variant="soft", href="/signup?next=" + InviteState.invite_path),
            spacing="3",
        ),
        spacing="3",
    )


def _signed_in() -> rx.Component:
    return rx.cond(
        InviteState.accepted_org != "",
        rx.vstack(
            rx.callout(
                "You are now a member of " + InviteState.accepted_org + ".",
                icon="circle-check",
                color_scheme="green",
                role="status",
            ),
            link_button("Go to the marketplace", size="3", href="/marketplace"),
            spacing="3",
        ),
        rx.vstack(
            rx.text("Signed in as ", rx.text.strong(InviteState.viewer_email), ".", size="2"),
            error_notice(InviteState.error),
            rx.button(
                "Accept invitation", size="3", on_click=InviteState.accept, loading=InviteState.accepting
            ),
            spacing="3",
        ),
    )


@rx.page(image=FAVICON, route="/invite/[invitation]", title="Invitation · Agentry", on_load=InviteState.load)
def invite() -> rx.Component:
    return auth_card(
        "You're invited",
        "An organisation on this Agentry instance invited you to join it.",
        rx.cond(InviteState.signed_in, _signed_in(), _anonymous()),
    )
