"""The app shell every page renders into: a header (product name, colour-mode toggle) and a content column."""

import reflex as rx

PRODUCT = "Agentry"


def header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            # Text, not a heading: each page owns its own top-level heading.
            rx.link(rx.text(PRODUCT, size="5", weight="bold"), href="/", underline="none"),
            rx.spacer(),
            rx.link("Marketplace", href="/marketplace", size="2"),
            rx.link("Log in", href="/login", size="2"),
            rx.color_mode.button(aria_label="Toggle light/dark mode", size="2"),
            align="center",
            spacing="4",
            width="100%",
            max_width="72rem",
            margin_x="auto",
            padding_x="1.5rem",
            padding_y="0.75rem",
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
    )


def shell(*children: rx.Component) -> rx.Component:
    """Wrap a page's content; pages call this so the chrome stays identical across routes."""
    return rx.box(
        header(),
        rx.el.main(
            rx.vstack(*children, spacing="4", width="100%"),
            max_width="72rem",
            margin_x="auto",
            padding="1.5rem",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )
