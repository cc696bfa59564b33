"""The only place the web tier talks to the Agentry API (STYLE.md rule 13).

``client`` (HTTP GraphQL) and ``subscriptions`` (graphql-transport-ws) are the transport; ``accounts``,
``marketplace`` and ``chat`` hold the GraphQL documents and turn responses into plain dicts for the states.
State classes call these coroutines; nothing else in the frontend opens HTTP or websocket connections, and
nothing here imports ``backend``: the API is reached by URL, like any other client would.
"""

from agentry_web.api import accounts, chat, marketplace
from agentry_web.api.client import ApiError, api_url, graphql, health
from agentry_web.api.subscriptions import subscribe

__all__ = ["ApiError", "accounts", "api_url", "chat", "graphql", "health", "marketplace", "subscribe"]
