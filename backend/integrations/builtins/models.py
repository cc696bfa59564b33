"""Model-provider integrations (``openai``, ``anthropic``, ``openai_compatible``): credentials only.

They have no tools; the runtime asks :func:`backend.integrations.service.model_credentials` for a
decrypted key (audited) when an agent's model is ``integration:<id>[/<model>]``.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from backend.integrations.builtins._http import send
from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError


class ModelConfig(Schema):
    base_url: str | None = Field(None, description="API base URL (default: the provider's)")
    model: str | None = Field(None, description="Default model name")

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("baseUrl must be an http(s) URL")
        return value.rstrip("/") if value else value


class CompatibleConfig(ModelConfig):
    base_url: str = Field(description="OpenAI-compatible API base URL, e.g. http://ollama:11434/v1")  # type: ignore[assignment]


class ApiKeySecrets(Schema):
    api_key: str = Field(description="The provider's API key")


class OptionalKeySecrets(Schema):
    api_key: str | None = Field(None, description="API key, if the endpoint needs one")


class _ModelType(IntegrationType):
    kind = "model"
    default_base_url = ""

    def base_url(self, config: ModelConfig) -> str:
        return config.base_url or self.default_base_url

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def test(self, ctx: ToolContext[ModelConfig, ApiKeySecrets]) -> str:
        result = await send(
            ctx, "GET", f"{self.base_url(ctx.config)}/models", headers=self.auth_headers(ctx.secrets.api_key)
        )
        if result.status in (401, 403):
            raise ToolError("the provider rejected the API key")
        if result.status >= 400:
            raise ToolError(f"the provider answered HTTP {result.status}")
        return "the provider accepted the API key"


class OpenAIIntegration(_ModelType):
    key = "openai"
    name = "OpenAI"
    description = "OpenAI models (API key)."
    config_model = ModelConfig
    secrets_model = ApiKeySecrets
    default_base_url = "https://api.openai.com/v1"


class AnthropicIntegration(_ModelType):
    key = "anthropic"
    name = "Anthropic"
    description = "Anthropic Claude models (API key)."
    config_model = ModelConfig
    secrets_model = ApiKeySecrets
    default_base_url = "https://api.anthropic.com/v1"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        return {"x-api-key": api_key or "", "anthropic-version": "2023-06-01"}


class OpenAICompatibleIntegration(_ModelType):
    key = "openai_compatible"
    name = "OpenAI-compatible endpoint"
    description = "Any OpenAI-compatible endpoint (Ollama, vLLM, LiteLLM…)."
    config_model = CompatibleConfig
    secrets_model = OptionalKeySecrets
