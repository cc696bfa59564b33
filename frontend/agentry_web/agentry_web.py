"""The Reflex app object; Reflex loads it as ``<app_name>.<app_name>:app``.

Pages register themselves with ``@rx.page`` when their modules are imported, so importing ``pages`` is all
the wiring there is.
"""

import reflex as rx

from agentry_web import pages  # noqa: F401  (registers the routes)

app = rx.App()
