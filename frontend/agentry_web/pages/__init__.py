"""Routes. Each module registers its page with ``@rx.page``; the paths are the stable deep links of API.md."""

from agentry_web.pages import agent, chat, home, invite, login, marketplace, signup, studio

__all__ = ["agent", "chat", "home", "invite", "login", "marketplace", "signup", "studio"]
