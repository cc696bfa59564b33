"""Builds the pydantic-ai ``Model`` for a run's configured model string.

``offline`` | ``openai:<model>`` | ``anthropic:<model>`` | ``integration:<id>[/<model>]`` (an org
model integration of type ``openai``, ``anthropic`` or ``openai_compatible`` with its base URL).

OpenAI and OpenAI-compatible endpoints are spoken to by
:class:`~backend.runtime.chat_completions.ChatCompletionsModel` (``AGENTRY_OPENAI_CLIENT=native``,
the default): a lean client that streams every answer and hands text deltas straight to the run, so
the agent loop can take pydantic-ai's cheaper non-streaming path: about 0.25 ms of CPU per request
against 2.4-4.7 ms through the OpenAI SDK (``benchmarks/model_client.py``). ``sdk`` selects
pydantic-ai's ``OpenAIChatModel`` on the OpenAI SDK instead.

The SDK clients are created with ``max_retries=0``: retries of 429/5xx/timeouts are done by the
executor, bounded and with backoff, from the last persisted step (never stacked on SDK retries).
Clients are cached per process (one connection pool per endpoint and key). The SDKs take seconds
to import, so they are imported in a thread (:func:`load_sdks`): the worker warms them up in the
background at start, and a run on a provider model awaits them before building its model. Importing
them on the event loop inside a run blocked it long enough for the run's lease to lapse; importing
them at module import doubled the worker's start time.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from pydantic_ai.models import Model

from backend.agents.schemas import parse_model
from backend.runtime.chat_completions import ChatCompletionsModel
from backend.runtime.credentials import ModelCredentials
from backend.runtime.offline import OfflineModel

_OFFLINE = OfflineModel()  # stateless: one for the process
OPENAI_BASE_URL = "https://api.openai.com/v1"
_CLIENTS: OrderedDict[tuple[str, str, str, float], Any] = OrderedDict()
_MAX_CLIENTS = 64


_SDK = SimpleNamespace(loaded=False)
_SDK_LOCK = threading.Lock()


def _import_sdks() -> None:
    with _SDK_LOCK:
        if _SDK.loaded:
            return
        from anthropic import AsyncAnthropic
        from openai import AsyncOpenAI
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.anthropic import AnthropicProvider
        from pydantic_ai.providers.openai import OpenAIProvider
        from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

        _SDK.__dict__.update(
            AsyncAnthropic=AsyncAnthropic,
            AsyncOpenAI=AsyncOpenAI,
            AnthropicModel=AnthropicModel,
            OpenAIChatModel=OpenAIChatModel,
            AnthropicProvider=AnthropicProvider,
            OpenAIProvider=OpenAIProvider,
            OpenAICompatibleProvider=OpenAICompatibleProvider,
            loaded=True,
        )


async def load_sdks() -> None:
    """Imports the provider SDKs without blocking the event loop (idempotent)."""
    if not _SDK.loaded:
        await asyncio.to_thread(_import_sdks)


async def prepare(model: str) -> None:
    """Everything :func:`build_model` needs for ``model`` is imported after this."""
    if parse_model(model).provider != "offline":
        await load_sdks()


def streams_itself(model: Model) -> bool:
    """The model hands text deltas to the run itself: the loop need not stream through pydantic-ai."""
    return isinstance(model, ChatCompletionsModel)


class ModelConfigError(Exception):
    """The run's model cannot be built (unknown provider, missing integration or key)."""


def _cached(kind: str, base_url: str | None, api_key: str | None, timeout: float, factory: Any) -> Any:
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()
    key = (kind, base_url or "", digest, timeout)
    client = _CLIENTS.get(key)
    if client is None:
        client = factory()
        _CLIENTS[key] = client
        while len(_CLIENTS) > _MAX_CLIENTS:
            _CLIENTS.popitem(last=False)
    else:
        _CLIENTS.move_to_end(key)
    return client


def _openai_client(base_url: str | None, api_key: str | None, timeout: float) -> Any:
    return _cached(
        "openai",
        base_url,
        api_key,
        timeout,
        lambda: _SDK.AsyncOpenAI(
            api_key=api_key or "not-needed", base_url=base_url, max_retries=0, timeout=timeout
        ),
    )


def _anthropic_client(base_url: str | None, api_key: str | None, timeout: float) -> Any:
    return _cached(
        "anthropic",
        base_url,
        api_key,
        timeout,
        lambda: _SDK.AsyncAnthropic(
            api_key=api_key or "not-needed", base_url=base_url, max_retries=0, timeout=timeout
        ),
    )


def build_model(
    model: str,
    creds: ModelCredentials | None,
    *,
    timeout: float,
    on_text: Callable[[str], None] | None = None,
    client: str = "native",
) -> Model:
    """``on_text`` receives streamed text deltas from models that stream themselves (native client)."""
    ref = parse_model(model)
    if ref.provider == "offline":
        return _OFFLINE
    if creds is None:
        raise ModelConfigError(f"no credentials for model {model!r}")
    name = ref.name or creds.model
    if not name:
        raise ModelConfigError(f"model {model!r} names no model and its integration has no default model")
    if creds.kind != "anthropic" and client == "native":
        return ChatCompletionsModel(
            name,
            base_url=creds.base_url or OPENAI_BASE_URL,
            api_key=creds.api_key,
            timeout=timeout,
            system="openai" if creds.kind == "openai" else "openai-compatible",
            on_text=on_text,
        )
    _import_sdks()  # a no-op once prepare() ran
    if creds.kind == "anthropic":
        client = _anthropic_client(creds.base_url, creds.api_key, timeout)
        return _SDK.AnthropicModel(name, provider=_SDK.AnthropicProvider(anthropic_client=client))
    client = _openai_client(creds.base_url, creds.api_key, timeout)
    if creds.kind == "openai_compatible":
        return _SDK.OpenAIChatModel(
            name, provider=_SDK.OpenAICompatibleProvider("openai-compatible", openai_client=client)
        )
    return _SDK.OpenAIChatModel(name, provider=_SDK.OpenAIProvider(openai_client=client))
