"""Authorisation: the one choke point. Rules live in ``policies/*.polar`` only.

See docs/security.md for the access model.
"""

from backend.authz.actor import AGENT_RUN_SCOPES, Actor
from backend.authz.api import allowed_fields, authorize, authorized_select, is_allowed, resource_type
from backend.authz.principal import Principal, forget, load_principal

__all__ = [
    "AGENT_RUN_SCOPES",
    "Actor",
    "Principal",
    "allowed_fields",
    "authorize",
    "authorized_select",
    "forget",
    "is_allowed",
    "load_principal",
    "resource_type",
]
