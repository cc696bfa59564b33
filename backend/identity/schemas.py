"""Validated inputs of the identity domain."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from backend.errors import Invalid
from backend.identity.passwords import MAX_LENGTH, MIN_LENGTH

T = TypeVar("T", bound=BaseModel)
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
SCOPES = (
    "agents:read",
    "agents:write",
    "runs:read",
    "runs:write",
    "schedules:write",
    "integrations:write",
    "members:write",
    "audit:read",
)


def normalise_email(value: str) -> str:
    value = value.strip()
    if len(value) > 320 or not EMAIL.match(value):
        raise ValueError("must be a valid e-mail address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def _password(value: str) -> str:
    if len(value) < MIN_LENGTH:
        raise ValueError(f"must be at least {MIN_LENGTH} characters")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"must be at most {MAX_LENGTH} characters")
    return value


class SignUp(BaseModel):
    email: str
    password: str
    display_name: str = Field(min_length=1, max_length=120)

    _email = field_validator("email")(normalise_email)
    _password = field_validator("password")(_password)

    @field_validator("display_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ChangePassword(BaseModel):
    current_password: str
    new_password: str

    _password = field_validator("new_password")(_password)


class CreateApiKey(BaseModel):
    organization_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1)
    expires_at: datetime | None = None
    user_id: uuid.UUID | None = None  # a service account of the organisation; default: the caller

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known: {list(SCOPES)}")
        return sorted(set(scopes))


def parse(model: type[T], **data: object) -> T:
    """Pydantic errors become ``Invalid`` naming the first offending field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise Invalid(f"{field}: {first['msg']}", field=field) from err
