"""The one Oso instance: registered classes and the policies loaded from ``policies/*.polar``."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from oso import Oso

from backend.authz.principal import Principal
from backend.models import (
    Agent,
    ApiKey,
    AuditEvent,
    Deployment,
    Integration,
    Membership,
    MemoryItem,
    Organization,
    Run,
    Schedule,
    Thread,
)

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"

# Only the columns the policies filter on need declaring (data filtering type-checks them).
_ORG = {"organization_id": uuid.UUID}
RESOURCE_FIELDS: dict[type, dict[str, type]] = {
    Organization: {"id": uuid.UUID},
    Agent: {"id": uuid.UUID, **_ORG, "created_by_id": uuid.UUID},
    Deployment: {
        "id": uuid.UUID,
        **_ORG,
        "agent_id": uuid.UUID,
        "visibility": str,
        "undeployed_at": datetime,
    },
    Thread: {"id": uuid.UUID, **_ORG, "agent_id": uuid.UUID, "user_id": uuid.UUID},
    Run: {"id": uuid.UUID, **_ORG, "agent_id": uuid.UUID, "user_id": uuid.UUID},
    Schedule: {"id": uuid.UUID, **_ORG, "deployment_id": uuid.UUID, "created_by_id": uuid.UUID},
    Integration: {"id": uuid.UUID, **_ORG},
    MemoryItem: {"id": uuid.UUID, **_ORG, "agent_id": uuid.UUID, "user_id": uuid.UUID},
    ApiKey: {"id": uuid.UUID, **_ORG, "user_id": uuid.UUID},
    Membership: {"id": uuid.UUID, **_ORG, "user_id": uuid.UUID},
    AuditEvent: {"id": uuid.UUID, **_ORG},
}


@lru_cache(maxsize=1)
def get_oso() -> Oso:
    oso = Oso()
    oso.register_class(uuid.UUID, name="UUID")
    oso.register_class(Principal)
    for cls, fields in RESOURCE_FIELDS.items():
        oso.register_class(cls, fields=fields)
    oso.load_files(sorted(str(p) for p in POLICY_DIR.glob("*.polar")))
    return oso
