"""Accounts: sign up, log in, log out, the viewer and invitations.

Functions return plain dicts shaped for the UI (snake_case keys, no ``None`` where a string is expected), so
the GraphQL names live here and nowhere else in the frontend.
"""

from __future__ import annotations

from typing import Any

from agentry_web.api.client import graphql

SIGN_UP = """
mutation SignUp($input: SignUpInput!) { signUp(input: $input) { token } }
"""
LOG_IN = """
mutation LogIn($input: LogInInput!) { logIn(input: $input) { token } }
"""
LOG_OUT = "mutation LogOut { logOut }"
VIEWER = """
query Viewer {
  viewer {
    id email displayName
    memberships { role status organization { id slug name } }
  }
}
"""
ACCEPT_INVITATION = """
mutation AcceptInvitation($token: String!) {
  acceptInvitation(token: $token) { role organization { id slug name } }
}
"""


async def sign_up(email: str, password: str, display_name: str) -> str:
    """Create an account and return its session token."""
    variables = {"input": {"email": email, "password": password, "displayName": display_name}}
    data = await graphql(SIGN_UP, variables)
    return str(data["signUp"]["token"])


async def log_in(email: str, password: str) -> str:
    data = await graphql(LOG_IN, {"input": {"email": email, "password": password}})
    return str(data["logIn"]["token"])


async def log_out(token: str) -> None:
    """Revoke the session server-side; the caller forgets the cookie either way."""
    await graphql(LOG_OUT, token=token)


def _membership(raw: dict[str, Any]) -> dict[str, str]:
    org = raw.get("organization") or {}
    return {
        "role": str(raw.get("role") or "").upper(),
        "organization_id": str(org.get("id") or ""),
        "organization_slug": str(org.get("slug") or ""),
        "organization_name": str(org.get("name") or ""),
    }


async def viewer(token: str) -> dict[str, Any] | None:
    """The signed-in user with their memberships, or ``None`` when the token is not a live session."""
    data = await graphql(VIEWER, token=token)
    raw = data.get("viewer")
    if not raw:
        return None
    return {
        "id": str(raw["id"]),
        "email": str(raw.get("email") or ""),
        "display_name": str(raw.get("displayName") or ""),
        # Pending invitations grant nothing yet.
        "memberships": [
            _membership(m)
            for m in raw.get("memberships") or []
            if str(m.get("status") or "ACTIVE") == "ACTIVE"
        ],
    }


async def accept_invitation(token: str, invitation: str) -> dict[str, str]:
    """Join the invitation's organisation; returns the membership (role and organisation)."""
    data = await graphql(ACCEPT_INVITATION, {"token": invitation}, token=token)
    return _membership(data["acceptInvitation"])
