"""``/login``: e-mail and password; ``?next=`` brings the user back to where they were sent from."""

import reflex as rx

from agentry_web.components import error_notice, field, notice, submit_button
from agentry_web.components.shell import FAVICON
from agentry_web.pages.auth_layout import auth_card
from agentry_web.state import LoginState


@rx.page(image=FAVICON, route="/login", title="Log in · Agentry", on_load=LoginState.load)
def login() -> rx.Component:
    return auth_card(
        "Log in",
        "Welcome back. Log in to chat with your agents.",
        notice(LoginState.notice),
        error_notice(LoginState.error),
        rx.form(
            rx.vstack(
                field("E-mail", "email", type="email", autocomplete="email", required=True),
                field(
                    "Password", "password", type="password", autocomplete="current-password", required=True
                ),
                submit_button("Log in", LoginState.submitting, "Logging in…"),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
        ),
        rx.text(
            "No account yet? ",
            rx.link(
                "Sign up",
                underline="always",
                href=rx.cond(
                    LoginState.next_path != "/marketplace", "/signup?next=" + LoginState.next_path, "/signup"
                ),
            ),
            size="2",
            text_align="center",
            width="100%",
        ),
    )
