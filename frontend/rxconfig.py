"""Reflex configuration for the Agentry web UI.

Ports and the browser-facing backend URL are not set here: `agentry.web` passes them per run (CLI flags and
``REFLEX_API_URL``), because Reflex bakes the backend URL into the built JavaScript and setting
``frontend_port`` here breaks ``reflex run --backend-only``.
"""

import reflex as rx

config = rx.Config(
    app_name="agentry_web",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Radix Themes explicitly (implicit enablement is deprecated in 0.10); no sitemap: the app is private.
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
