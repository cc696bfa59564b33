"""The app shell every page renders into: header (navigation, account menu, colour mode) and content.

The navigation only shows what the viewer's roles allow (``SessionState.can_build`` / ``can_administer``);
the API remains the authority, this only hides links that would lead to a refusal.
"""

import reflex as rx

from agentry_web.components.forms import link_button
from agentry_web.state.session import SessionState

PRODUCT = "Agentry"
FAVICON = "/favicon.svg"
CONTENT_WIDTH = "72rem"


def logo() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(
                rx.icon("bot", size=18, color="white", aria_hidden="true"),
                width="28px",
                height="28px",
                border_radius="8px",
                background=f"linear-gradient(135deg, {rx.color('indigo', 9)}, {rx.color('violet', 9)})",
            ),
            # Text, not a heading: each page owns its own top-level heading.
            rx.text(PRODUCT, size="4", weight="bold", high_contrast=True),
            align="center",
            spacing="2",
        ),
        href="/",
        underline="none",
        aria_label=f"{PRODUCT} home",
    )


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = SessionState.router.url.path.startswith(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=16, aria_hidden="true"), rx.text(label), align="center", spacing="2"),
        href=href,
        size="2",
        weight="medium",
        underline="none",
        color_scheme=rx.cond(active, "indigo", "gray"),
        high_contrast=~active,
        aria_current=rx.cond(active, "page", "false"),
        padding_x="0.6rem",
        padding_y="0.35rem",
        border_radius="6px",
        background_color=rx.cond(active, rx.color("indigo", 3), "transparent"),
        _hover={"background_color": rx.color("gray", 3)},
    )


def account_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(
                    fallback=SessionState.initials,
                    size="1",
                    radius="full",
                    variant="soft",
                    color_scheme="indigo",
                    aria_hidden="true",
                ),
                rx.text(SessionState.viewer_name, size="2", display=["none", "none", "inline"]),
                rx.text(" (account menu)", class_name="sr-only"),
                rx.icon("chevron-down", size=14, aria_hidden="true"),
                variant="ghost",
                color_scheme="gray",
                id="account-menu",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(SessionState.viewer_name, size="2", weight="bold"),
                rx.text(SessionState.viewer_email, size="1", color_scheme="gray"),
                padding_x="0.75rem",
                padding_y="0.5rem",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.hstack(rx.icon("log-out", size=14, aria_hidden="true"), rx.text("Log out"), spacing="2"),
                on_select=SessionState.log_out,
            ),
            align="end",
        ),
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            logo(),
            rx.cond(
                SessionState.signed_in,
                rx.el.nav(
                    rx.hstack(
                        nav_link("Marketplace", "/marketplace", "store"),
                        rx.cond(SessionState.can_build, nav_link("Studio", "/studio", "hammer")),
                        rx.cond(SessionState.can_administer, nav_link("Admin", "/admin", "shield")),
                        spacing="1",
                    ),
                    aria_label="Main",
                    margin_left="1.5rem",
                ),
            ),
            rx.spacer(),
            rx.color_mode.button(aria_label="Toggle light and dark mode", size="2", variant="ghost"),
            rx.cond(
                SessionState.signed_in,
                account_menu(),
                rx.hstack(
                    link_button("Log in", variant="soft", size="2", href="/login"),
                    link_button("Sign up", size="2", href="/signup"),
                    spacing="2",
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            max_width=CONTENT_WIDTH,
            margin_x="auto",
            padding_x="1.5rem",
            height="56px",
        ),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background_color=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
    )


def skip_link() -> rx.Component:
    """First focusable element: keyboard users jump straight to the page's content."""
    return rx.el.a(
        "Skip to content",
        href="#content",
        class_name="skip-link",
        position="absolute",
        left="-9999px",
        _focus={
            "left": "1rem",
            "top": "0.5rem",
            "z_index": "100",
            "padding": "0.5rem 1rem",
            "background": rx.color("gray", 1),
            "border_radius": "6px",
        },
    )


def shell(*children: rx.Component, width: str = CONTENT_WIDTH) -> rx.Component:
    """Wrap a page's content; pages call this so the chrome stays identical across routes."""
    return rx.box(
        skip_link(),
        header(),
        rx.el.main(
            rx.vstack(*children, spacing="5", width="100%"),
            id="content",
            max_width=width,
            margin_x="auto",
            padding_x="1.5rem",
            padding_y="2rem",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )


def full_height_shell(*children: rx.Component) -> rx.Component:
    """Header plus a content area filling the rest of the viewport (the chat scrolls inside it)."""
    return rx.flex(
        skip_link(),
        header(),
        rx.el.main(*children, id="content", display="flex", flex="1", min_height="0", width="100%"),
        direction="column",
        height="100vh",
        background_color=rx.color("gray", 2),
    )
