"""Validated inputs of the organisations domain."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

ORG_ROLES = ("owner", "admin", "builder", "member", "auditor")
AGENT_ROLES = ("owner", "editor", "viewer")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = {"admin", "api", "graphql", "login", "signup", "studio", "marketplace", "new", "settings"}


class CreateOrganization(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    slug: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = value.strip().lower()
        if not SLUG.match(value):
            raise ValueError("must be 1-63 lowercase letters, digits or inner hyphens")
        if value in RESERVED_SLUGS:
            raise ValueError("is reserved")
        return value


def org_role(value: str) -> str:
    role = value.strip().lower()
    if role not in ORG_ROLES:
        raise ValueError(f"must be one of {', '.join(r.upper() for r in ORG_ROLES)}")
    return role


def agent_role(value: str) -> str:
    role = value.strip().lower()
    if role not in AGENT_ROLES:
        raise ValueError(f"must be one of {', '.join(AGENT_ROLES)}")
    return role
