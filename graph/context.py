"""Per-request GraphQL context: resources, the authenticated actor and DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as _Info

from backend.authz import Actor
from backend.resources import Resources


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    resources: Resources
    actor: Actor
    request_id: str | None = None
    connection_params: dict[str, Any] | None = None
    loaders: dict[str, Any] = field(default_factory=dict)

    def loader(self, key: str, factory: Any) -> Any:
        """One DataLoader per key per request (never shared between requests)."""
        if key not in self.loaders:
            self.loaders[key] = factory(self)
        return self.loaders[key]


Info = _Info[Context, None]
