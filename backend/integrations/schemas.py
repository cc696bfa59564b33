"""Inputs and outputs of the integrations service (validated here, before any database work)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backend.errors import Invalid


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


Name = Field(min_length=1, max_length=120)


class CreateIntegrationInput(_Input):
    organization_id: uuid.UUID
    type: str = Field(min_length=1, max_length=40)
    name: str = Name
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value


class UpdateIntegrationInput(_Input):
    """``config`` replaces the whole config; ``secrets`` merges (a ``null`` value clears a field)."""

    id: uuid.UUID
    name: str | None = Field(None, min_length=1, max_length=120)
    config: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = None


class ImportOpenApiInput(_Input):
    id: uuid.UUID
    document: str | dict[str, Any]


class TestResult(BaseModel):
    ok: bool
    message: str
    tools: list[str] | None = None


def validate_model(model: type[BaseModel], data: dict[str, Any], field: str) -> BaseModel:
    """Validates without ever echoing the input (it may be a secret) in the error message."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in error["loc"]) or field
            problems.append(f"{field}.{where}: {error['msg']}")
        raise Invalid("; ".join(problems), field=field) from None


def dump(value: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data
