"""A third-party integration type: a weather API behind a key, with one tool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool


class WeatherConfig(Schema):
    api_url: str = Field(description="Base URL of the weather service")
    units: Literal["metric", "imperial"] = "metric"


class WeatherSecrets(Schema):
    api_key: str = Field(description="Key of the weather service")


class ForecastArgs(Schema):
    city: str = Field(min_length=1, description="City name, e.g. Paris")


class Forecast(BaseModel):
    city: str
    summary: str
    temperature: float
    units: str


class WeatherIntegration(IntegrationType):
    key = "weather"
    name = "Weather"
    description = "Current weather for a city."
    config_model = WeatherConfig
    secrets_model = WeatherSecrets

    @tool
    async def forecast(self, ctx: ToolContext[WeatherConfig, WeatherSecrets], args: ForecastArgs) -> Forecast:
        """Current weather in a city (the model sees this description)."""
        async with ctx.http() as client:
            response = await client.get(
                f"{ctx.config.api_url}/weather",
                params={"city": args.city},
                headers={"X-Key": ctx.secrets.api_key},
            )
        if response.status_code != 200:
            raise ToolError(f"weather service answered HTTP {response.status_code}")
        data = response.json()
        return Forecast(
            city=args.city, summary=data["summary"], temperature=data["temp"], units=ctx.config.units
        )

    async def test(self, ctx: ToolContext[WeatherConfig, WeatherSecrets]) -> str:
        await self.forecast(ctx, ForecastArgs(city="Paris"))
        return "the weather service accepted the key"
