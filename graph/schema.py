"""The GraphQL schema: domain query/mutation/subscription classes merged into one.

Each domain package under ``graph/`` contributes its own ``*Queries``/``*Mutations``
classes; adding a domain means adding it to the tuples below.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.settings import get_settings
from graph.errors import CodedErrors
from graph.request_id import current_request_id
from graph.system.queries import SystemQueries

QUERIES: tuple[type, ...] = (SystemQueries,)
MUTATIONS: tuple[type, ...] = ()
SUBSCRIPTIONS: tuple[type, ...] = ()

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000


def build_schema(*, development: bool | None = None) -> strawberry.Schema:
    dev = get_settings().dev if development is None else development
    extensions: list = [
        QueryDepthLimiter(max_depth=MAX_DEPTH),
        MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        MaxTokensLimiter(max_token_count=MAX_TOKENS),
        CodedErrors(current_request_id),
    ]
    if not dev:
        from strawberry.extensions import DisableIntrospection

        extensions.append(DisableIntrospection())
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    subscription = merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not dev),
    )


def export_sdl() -> str:
    """The SDL committed as ``graph/schema.graphql`` (independent of dev/prod mode)."""
    return build_schema(development=True).as_str() + "\n"
