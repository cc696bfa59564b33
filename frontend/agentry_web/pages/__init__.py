"""Routes. Each module registers its page with ``@rx.page``; the paths are the stable deep links of API.md."""

from agentry_web.pages import home, login, marketplace

__all__ = ["home", "login", "marketplace"]
