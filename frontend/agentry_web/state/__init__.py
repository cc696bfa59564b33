"""Reflex state: one class per page (STYLE.md rule 13); states reach the API only via ``agentry_web.api``."""

from agentry_web.state.home import HomeState

__all__ = ["HomeState"]
