"""Platform-level queries that need no domain."""

from __future__ import annotations

import strawberry


@strawberry.type
class SystemQueries:
    @strawberry.field(description="The API's version, for clients checking compatibility.")
    def api_version(self) -> str:
        return "1"
