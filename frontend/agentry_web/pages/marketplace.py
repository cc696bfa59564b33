"""``/marketplace``: placeholder until the listing screen lands; the route keeps deep links stable."""

import reflex as rx

from agentry_web.components import shell


@rx.page(route="/marketplace", title="Marketplace · Agentry")
def marketplace() -> rx.Component:
    return shell(rx.heading("Marketplace", size="7"))
