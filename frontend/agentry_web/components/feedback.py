"""Loading skeletons, empty states and notices: the same look for "wait", "nothing here" and "note this"."""

import reflex as rx


def skeleton_lines(count: int = 3) -> rx.Component:
    return rx.vstack(
        *[rx.skeleton(height="0.9rem", width=f"{95 - i * 15}%", loading=True) for i in range(count)],
        spacing="2",
        width="100%",
    )


def skeleton_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.skeleton(width="40px", height="40px", loading=True),
                rx.vstack(
                    rx.skeleton(height="1rem", width="8rem", loading=True),
                    rx.skeleton(height="0.75rem", width="5rem", loading=True),
                    spacing="1",
                ),
                spacing="3",
            ),
            skeleton_lines(3),
            spacing="4",
        ),
        size="2",
        aria_hidden="true",
    )


def loading_region(*children: rx.Component, label: str = "Loading") -> rx.Component:
    """A busy region announced once to screen readers; the skeletons themselves are hidden from them."""
    return rx.box(
        rx.text(label, class_name="sr-only"), *children, aria_busy="true", role="status", width="100%"
    )


def empty_state(icon: str, title: str | rx.Var, text: str | rx.Var, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, aria_hidden="true"),
                width="56px",
                height="56px",
                border_radius="50%",
                background_color=rx.color("indigo", 3),
                color=rx.color("indigo", 11),
            ),
            rx.heading(title, size="4", as_="h2"),
            rx.text(text, size="2", color_scheme="gray", text_align="center", max_width="28rem"),
            rx.hstack(*actions, spacing="2", margin_top="0.5rem"),
            align="center",
            spacing="2",
        ),
        padding_y="3rem",
        width="100%",
    )


def notice(message: rx.Var, icon: str = "info", color: str = "indigo") -> rx.Component:
    """A callout shown only when ``message`` is not empty (announced politely)."""
    return rx.cond(
        message != "",
        rx.callout(message, icon=icon, color_scheme=color, size="1", role="status", width="100%"),
    )


def error_notice(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", size="1", role="alert", width="100%"),
    )


def page_heading(title: str | rx.Var, subtitle: str | rx.Var = "") -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="7", as_="h1", weight="bold"),
        *(
            [rx.text(subtitle, size="3", color_scheme="gray")]
            if isinstance(subtitle, rx.Var) or subtitle
            else []
        ),
        spacing="1",
        width="100%",
    )
