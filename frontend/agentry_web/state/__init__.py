"""Reflex state: one class per page (STYLE.md rule 13); states reach the API only via ``agentry_web.api``.

Every page state extends ``SessionState`` (the session cookie and the viewer), so a page's handlers can
authenticate and turn API errors into toasts or a trip to the login page in one place.
"""

from agentry_web.state.agent import AgentState
from agentry_web.state.auth import LoginState, SignupState
from agentry_web.state.chat import ChatState
from agentry_web.state.guards import AdminState, StudioState
from agentry_web.state.home import HomeState
from agentry_web.state.invite import InviteState
from agentry_web.state.marketplace import MarketplaceState
from agentry_web.state.session import SessionState

__all__ = [
    "AdminState",
    "AgentState",
    "ChatState",
    "HomeState",
    "InviteState",
    "LoginState",
    "MarketplaceState",
    "SessionState",
    "SignupState",
    "StudioState",
]
