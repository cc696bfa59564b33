"""Validated inputs of the webhook trigger operations and the inbound request limits."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY_BYTES = 64 * 1024
DEFAULT_RATE_PER_MINUTE = 60
TOKEN_PREFIX = "whk_"  # noqa: S105  (a label, not a secret)
SHOWN_PREFIX_CHARS = 12  # "whk_" + 8 characters: enough to recognise a token, useless to guess it


class CreateWebhookTriggerInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deployment_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)
    rate_limit_per_minute: int = Field(default=DEFAULT_RATE_PER_MINUTE, ge=1, le=6000)
