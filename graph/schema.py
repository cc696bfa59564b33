"""The GraphQL schema: domain query/mutation/subscription classes merged into one.

Each domain package under ``graph/`` contributes its own ``*Queries``/``*Mutations``
classes; adding a domain means adding it to the tuples below.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.settings import get_settings
from graph.agents.mutations import AgentMutations
from graph.agents.queries import AgentQueries
from graph.audit.queries import AuditQueries
from graph.cost import QueryCostRule
from graph.errors import CodedErrors
from graph.identity.mutations import IdentityMutations
from graph.identity.queries import IdentityQueries
from graph.integrations.mutations import IntegrationMutations
from graph.integrations.queries import IntegrationQueries
from graph.marketplace.queries import MarketplaceQueries
from graph.memory.mutations import MemoryMutations
from graph.memory.queries import MemoryQueries
from graph.orgs.mutations import OrgMutations
from graph.orgs.queries import OrgQueries
from graph.request_id import current_request_id
from graph.runs.fast_events import EventsExecutor
from graph.runs.mutations import RunMutations
from graph.runs.queries import RunQueries
from graph.runs.subscriptions import RunSubscriptions
from graph.schedules.mutations import ScheduleMutations
from graph.schedules.queries import ScheduleQueries
from graph.system.queries import SystemQueries

QUERIES: tuple[type, ...] = (
    SystemQueries,
    ScheduleQueries,
    AgentQueries,
    MarketplaceQueries,
    IdentityQueries,
    OrgQueries,
    AuditQueries,
    RunQueries,
    MemoryQueries,
    IntegrationQueries,
)
MUTATIONS: tuple[type, ...] = (
    ScheduleMutations,
    AgentMutations,
    IdentityMutations,
    OrgMutations,
    RunMutations,
    MemoryMutations,
    IntegrationMutations,
)
SUBSCRIPTIONS: tuple[type, ...] = (RunSubscriptions,)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000


def build_schema(*, development: bool | None = None) -> strawberry.Schema:
    dev = get_settings().dev if development is None else development
    extensions: list = [
        QueryDepthLimiter(max_depth=MAX_DEPTH),
        MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        MaxTokensLimiter(max_token_count=MAX_TOKENS),
        AddValidationRules([QueryCostRule]),
        CodedErrors(current_request_id),
        # Parsing and validating (depth, aliases, cost) a document is pure: cache both per query text,
        # bounded, instead of re-walking the AST on every request (~1/3 of a small query's CPU time).
        ParserCache(maxsize=256),
        ValidationCache(maxsize=256),
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
        execution_context_class=EventsExecutor,
    )


def export_sdl() -> str:
    """The SDL committed as ``graph/schema.graphql`` (independent of dev/prod mode)."""
    return build_schema(development=True).as_str() + "\n"
