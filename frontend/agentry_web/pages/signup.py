"""``/signup``: create an account (name, e-mail, password); the session starts right away."""

import reflex as rx

from agentry_web.components import error_notice, field, submit_button
from agentry_web.components.shell import FAVICON
from agentry_web.pages.auth_layout import auth_card
from agentry_web.state import SignupState


@rx.page(image=FAVICON, route="/signup", title="Sign up · Agentry", on_load=SignupState.load)
def signup() -> rx.Component:
    return auth_card(
        "Create your account",
        "Discover agents built by your organisation and the community.",
        error_notice(SignupState.error),
        rx.form(
            rx.vstack(
                field("Name", "display_name", autocomplete="name", required=True),
                field("E-mail", "email", type="email", autocomplete="email", required=True),
                field(
                    "Password",
                    "password",
                    type="password",
                    autocomplete="new-password",
                    required=True,
                    hint="At least 8 characters.",
                ),
                submit_button("Sign up", SignupState.submitting, "Creating your account…"),
                spacing="4",
                width="100%",
            ),
            on_submit=SignupState.submit,
            width="100%",
        ),
        rx.text(
            "Already have an account? ",
            rx.link(
                "Log in",
                underline="always",
                href=rx.cond(
                    SignupState.next_path != "/marketplace", "/login?next=" + SignupState.next_path, "/login"
                ),
            ),
            size="2",
            text_align="center",
            width="100%",
        ),
    )
