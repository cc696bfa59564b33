"""Estimated cost of a run from its token usage (USD per million tokens; offline is free).

Prices are list prices at the time of writing and only an estimate: providers bill what they bill.
Unknown models cost 0 and are reported as such rather than guessed.
"""

from __future__ import annotations

from decimal import Decimal

# model name prefix -> (input, output) USD per 1M tokens; the longest matching prefix wins.
PRICES: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-nano": ("0.10", "0.40"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1": ("2.00", "8.00"),
    "gpt-5-nano": ("0.05", "0.40"),
    "gpt-5-mini": ("0.25", "2.00"),
    "gpt-5": ("1.25", "10.00"),
    "o4-mini": ("1.10", "4.40"),
    "o3": ("2.00", "8.00"),
    "claude-3-5-haiku": ("0.80", "4.00"),
    "claude-haiku-4": ("1.00", "5.00"),
    "claude-3-7-sonnet": ("3.00", "15.00"),
    "claude-sonnet-4": ("3.00", "15.00"),
    "claude-opus-4": ("15.00", "75.00"),
}
_MILLION = Decimal(1_000_000)


def price_of(model_name: str | None) -> tuple[Decimal, Decimal]:
    if not model_name or model_name == "offline":
        return Decimal(0), Decimal(0)
    name = model_name.split(":", 1)[-1].rsplit("/", 1)[-1]
    best = max((p for p in PRICES if name.startswith(p)), key=len, default=None)
    if best is None:
        return Decimal(0), Decimal(0)
    inp, out = PRICES[best]
    return Decimal(inp), Decimal(out)


def estimate_cost(model_name: str | None, input_tokens: int, output_tokens: int) -> Decimal:
    inp, out = price_of(model_name)
    cost = (inp * input_tokens + out * output_tokens) / _MILLION
    return cost.quantize(Decimal("0.000001"))
