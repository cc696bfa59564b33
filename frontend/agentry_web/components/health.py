"""A badge that renders an API status var ("checking" / "healthy" / "unreachable")."""

import reflex as rx


def api_health_badge(status: rx.Var[str]) -> rx.Component:
    return rx.badge(
        f"API: {status}",
        color_scheme=rx.match(status, ("healthy", "green"), ("unreachable", "red"), "gray"),
        variant="soft",
        size="2",
        role="status",
    )
