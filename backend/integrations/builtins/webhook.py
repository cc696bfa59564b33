"""``webhook``: a signed outbound POST.

Signature header: ``X-Agentry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
Receivers recompute it over the raw body and reject stale timestamps (:func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from pydantic import BaseModel, Field, field_validator

from backend.integrations.builtins._http import send as http_send
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool

SIGNATURE_HEADER = "X-Agentry-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """Constant-time check of a signature header; stale (replayed) timestamps fail."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


class WebhookConfig(Schema):
    url: str = Field(description="Where to POST")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        return value


class WebhookSecrets(Schema):
    signing_secret: str = Field(min_length=16, description="HMAC-SHA256 key shared with the receiver")


class SendArgs(Schema):
    body: Any = Field(alias="json", description="The JSON payload to send")


class Delivery(BaseModel):
    status: int
    response: Any = None


class WebhookIntegration(IntegrationType):
    key = "webhook"
    name = "Outbound webhook"
    description = "POST a JSON payload, signed with HMAC-SHA256, to a URL."
    config_model = WebhookConfig
    secrets_model = WebhookSecrets

    async def _post(self, ctx: ToolContext[WebhookConfig, WebhookSecrets], payload: Any) -> Delivery:
        raw = json.dumps(payload, separators=(",", ":"), default=str).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(ctx.secrets.signing_secret, int(time.time()), raw),
            "Idempotency-Key": ctx.idempotency_key,
        }
        result = await http_send(ctx, "POST", ctx.config.url, content=raw, headers=headers)
        if result.status >= 400:
            raise ToolError(f"the receiver answered HTTP {result.status}")
        return Delivery(status=result.status, response=result.body)

    @tool
    async def send(self, ctx: ToolContext[WebhookConfig, WebhookSecrets], args: SendArgs) -> Delivery:
        """POST a JSON payload to the configured URL (signed, with an idempotency key)."""
        return await self._post(ctx, args.body)

    async def test(self, ctx: ToolContext[WebhookConfig, WebhookSecrets]) -> str:
        delivery = await self._post(ctx, {"type": "agentry.test", "message": "connection test"})
        return f"delivered (HTTP {delivery.status})"
