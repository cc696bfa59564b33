"""The Reflex app object; Reflex loads it as ``<app_name>.<app_name>:app``.

Pages register themselves with ``@rx.page`` when their modules are imported, so importing ``pages`` is all
the wiring there is.
"""

import logging

import reflex as rx
from reflex.event import EventSpec

from agentry_web import pages  # noqa: F401  (registers the routes)

log = logging.getLogger("agentry_web")


def backend_error(exception: Exception) -> EventSpec:
    """An unexpected error in a handler: logged in full, shown to the user as one calm sentence.

    Reflex's default shows the exception text in development; the UI never shows internals (API errors are
    handled where they happen and show the API's own message).
    """
    log.error("unhandled error in an event handler", exc_info=exception)
    return rx.toast.error("Something went wrong. Please try again.", id="backend-error", close_button=True)


app = rx.App(
    stylesheets=["/agentry.css"],
    backend_exception_handler=backend_error,
    toaster=rx.toast.provider(position="bottom-right", close_button=True, rich_colors=False),
)
