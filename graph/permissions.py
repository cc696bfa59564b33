"""The one permission class for protected fields: it asks ``backend.authz`` and nothing else.

Usage on a thin type that keeps its ORM row in ``model`` (a ``strawberry.Private``)::

    @strawberry.field(description="...", extensions=[protect("instructions")])
    def instructions(self) -> str | None:
        return self.model.config.get("instructions")

A denied field resolves to ``null`` with a ``FORBIDDEN`` error at its path; the rest of the
response is served. Allowed fields are computed once per object per request (all protected
fields of one row share one computation), not once per field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from strawberry.permission import BasePermission, PermissionExtension

from backend.authz import allowed_fields, resource_type
from backend.authz.engine import RESOURCE_FIELDS
from graph.context import Info

_CACHE_KEY = "authz.allowed_fields"
_RELATED_KEY = "authz.related_rows"
_MODELS = {resource_type(model): model for model in RESOURCE_FIELDS}
ROW_ATTRIBUTES = ("model", "row", "_model", "_row")


def _row(source: Any) -> Any:
    for name in ROW_ATTRIBUTES:
        row = getattr(source, name, None)
        if row is not None:
            return row
    raise TypeError(f"{type(source).__name__} keeps no ORM row in one of {ROW_ATTRIBUTES}")


async def fields_for(info: Info, row: Any, action: str = "read") -> frozenset[str]:
    """Allowed protected fields of ``row`` for the request's actor, memoised per request."""
    cache: dict[tuple[Any, ...], asyncio.Future[frozenset[str]]] = info.context.loaders.setdefault(
        _CACHE_KEY, {}
    )
    key = (type(row), getattr(row, "id", None) or id(row), action)
    future = cache.get(key)
    if future is None:
        future = cache[key] = asyncio.ensure_future(_compute(info, row, action))
    return await asyncio.shield(future)


async def _compute(info: Info, row: Any, action: str) -> frozenset[str]:
    async with info.context.resources.sessions() as session:
        return await allowed_fields(session, info.context.actor, row, action)


async def _related(info: Info, model: type, key: Any) -> Any:
    """The row a protected field's rule is about (e.g. a version's agent), loaded once per request."""
    cache: dict[tuple[Any, ...], asyncio.Future[Any]] = info.context.loaders.setdefault(_RELATED_KEY, {})
    future = cache.get((model, key))
    if future is None:

        async def load() -> Any:
            async with info.context.resources.sessions() as session:
                return await session.get(model, key)

        future = cache[(model, key)] = asyncio.ensure_future(load())
    return await asyncio.shield(future)


class FieldPermission(BasePermission):
    """Allows the field when the policy's ``allow_field`` grants ``field`` on the source's row.

    ``via="agent"`` evaluates the rule on the related row (``row.agent_id``), e.g. for
    ``AgentVersion.config``; ``resource=`` takes any callable ``source -> row`` instead.
    """

    message = "You may not read this field"
    error_extensions = {"code": "FORBIDDEN"}

    def __init__(
        self,
        field: str | None = None,
        *,
        via: str | None = None,
        resource: Callable[[Any], Any] | None = None,
    ) -> None:
        self.field = field
        self.via = via
        self.resource = resource or _row

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        field = self.field or info.field_name  # the GraphQL (camelCase) name, as in the policies
        row = self.resource(source)
        if self.via is not None:
            model = _MODELS[self.via]
            row = await _related(info, model, getattr(row, f"{self.via}_id"))
            if row is None:
                return False
        return field in await fields_for(info, row)


def protect(
    field: str | None = None, *, via: str | None = None, resource: Callable[[Any], Any] | None = None
) -> PermissionExtension:
    """The field extension to put on a protected field (``extensions=[protect("model")]``)."""
    return PermissionExtension(
        permissions=[FieldPermission(field, via=via, resource=resource)], use_directives=False
    )
