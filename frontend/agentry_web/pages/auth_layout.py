"""The frame shared by the sign-in pages: a centred card under the app header."""

import reflex as rx

from agentry_web.components import shell


def auth_card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return shell(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.vstack(
                        rx.heading(title, size="7", as_="h1"),
                        rx.text(subtitle, size="2", color=rx.color("gray", 11)),
                        spacing="1",
                    ),
                    *children,
                    spacing="5",
                    width="100%",
                ),
                size="4",
                width="100%",
                max_width="26rem",
            ),
            width="100%",
            padding_top="2rem",
        ),
    )
