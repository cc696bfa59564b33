"""``slack``: post and read messages through Slack's Web API (``apiBaseUrl`` overridable)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from backend.integrations.builtins._http import send
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool


class SlackConfig(Schema):
    api_base_url: str = Field("https://slack.com/api", description="Slack Web API base URL")

    @field_validator("api_base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("apiBaseUrl must be an http(s) URL")
        return value.rstrip("/")


class SlackSecrets(Schema):
    bot_token: str = Field(description="Bot token (xoxb-…)")


class PostMessageArgs(Schema):
    channel: str = Field(min_length=1, max_length=200, description="Channel id or name")
    text: str = Field(min_length=1, max_length=40_000)


class ReadChannelArgs(Schema):
    channel: str = Field(min_length=1, max_length=200)
    limit: int = Field(20, ge=1, le=200, description="Most recent messages to return")


class Posted(BaseModel):
    channel: str | None = None
    ts: str | None = None


class SlackMessage(BaseModel):
    user: str | None = None
    text: str = ""
    ts: str | None = None


class ChannelHistory(BaseModel):
    messages: list[SlackMessage]


async def call(
    ctx: ToolContext[SlackConfig, SlackSecrets], method: str, *, http_method: str = "POST", **payload: Any
) -> dict[str, Any]:
    """One Web API call; Slack answers HTTP 200 with ``ok: false`` on errors."""
    kwargs: dict[str, Any] = {"json": payload} if http_method == "POST" else {"params": payload}
    result = await send(
        ctx,
        http_method,
        f"{ctx.config.api_base_url}/{method}",
        headers={"Authorization": f"Bearer {ctx.secrets.bot_token}"},
        **kwargs,
    )
    body = result.body if isinstance(result.body, dict) else {}
    if result.status >= 400 or not body.get("ok"):
        raise ToolError(f"Slack {method} failed: {body.get('error') or f'HTTP {result.status}'}")
    return body


class SlackIntegration(IntegrationType):
    key = "slack"
    name = "Slack"
    description = "Post messages to and read messages from Slack channels."
    config_model = SlackConfig
    secrets_model = SlackSecrets

    @tool
    async def post_message(
        self, ctx: ToolContext[SlackConfig, SlackSecrets], args: PostMessageArgs
    ) -> Posted:
        """Post a message to a Slack channel."""
        body = await call(ctx, "chat.postMessage", channel=args.channel, text=args.text)
        return Posted(channel=body.get("channel"), ts=body.get("ts"))

    @tool
    async def read_channel(
        self, ctx: ToolContext[SlackConfig, SlackSecrets], args: ReadChannelArgs
    ) -> ChannelHistory:
        """Read the most recent messages of a Slack channel."""
        body = await call(
            ctx, "conversations.history", http_method="GET", channel=args.channel, limit=args.limit
        )
        return ChannelHistory(
            messages=[
                SlackMessage.model_validate(m) for m in body.get("messages") or [] if isinstance(m, dict)
            ]
        )

    async def test(self, ctx: ToolContext[SlackConfig, SlackSecrets]) -> str:
        body = await call(ctx, "auth.test")
        return f"authenticated as {body.get('user') or 'the bot'} in {body.get('team') or 'the workspace'}"
