"""``/login``: placeholder until the sign-in screen lands; the route keeps deep links stable."""

import reflex as rx

from agentry_web.components import shell


@rx.page(route="/login", title="Log in · Agentry")
def login() -> rx.Component:
    return shell(rx.heading("Log in", size="7"))
