"""CPU per model request: ChatCompletionsModel (http1) vs pydantic-ai's OpenAIChatModel (OpenAI SDK + httpx).

Runs the fake chat-completions server (``tests.fakes.openai_server``) in a subprocess, so only this
process's CPU (``time.process_time``: user + system) is measured. Each request builds the model
anew (the platform builds one per run), sends an instruction and a user prompt and streams back a
short answer in word pieces with a usage chunk. ``OpenAIChatModel`` is measured on both of its paths:
``request`` (one JSON response) and ``request_stream`` (SSE, events consumed). Each figure is the
best of ``--rounds`` rounds of ``--requests`` requests, sequentially and at ``--concurrency``.

Run: ``uv run python benchmarks/model_client.py`` (``--loop asyncio`` for the stock event loop; the
worker runs uvloop; ``--tools 10`` to offer ten function tools with each request).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelRequest, UserPromptPart
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from backend.runtime.chat_completions import ChatCompletionsModel
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ModelSettings(temperature=0.7)
SCHEMA = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to look for."},
        "limit": {"type": "integer", "default": 5},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["query"],
}


def request_for(tools: int) -> tuple[list[ModelMessage], ModelRequestParameters]:
    """A short text answer; with tools offered (the fake then answers ``no-tool`` prompts in text)."""
    prompt = "no-tool: hello there, how are you today?" if tools else "hello there, how are you today?"
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart(prompt)], instructions="Be brief.")]
    definitions = [
        ToolDefinition(name=f"tool_{i}", description="Looks things up.", parameters_json_schema=SCHEMA)
        for i in range(tools)
    ]
    return messages, ModelRequestParameters(function_tools=definitions)


Request = Callable[[], Awaitable[Any]]


def clients(base_url: str, tools: int) -> dict[str, Request]:
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    sdk = AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=30)
    pieces: list[str] = []
    messages, params = request_for(tools)

    async def ours() -> None:
        model = ChatCompletionsModel(
            "fake-model", base_url=base_url, api_key="bench", timeout=30, on_text=pieces.append
        )
        await model.request(messages, SETTINGS, params)
        pieces.clear()

    def sdk_model() -> Model:
        return OpenAIChatModel("fake-model", provider=OpenAIProvider(openai_client=sdk))

    async def theirs() -> None:
        await sdk_model().request(messages, SETTINGS, params)

    async def theirs_stream() -> None:
        async with sdk_model().request_stream(messages, SETTINGS, params) as stream:
            async for _ in stream:
                pass
        stream.get()

    return {
        "ChatCompletionsModel.request (SSE)": ours,
        "OpenAIChatModel.request (JSON)": theirs,
        "OpenAIChatModel.request_stream (SSE)": theirs_stream,
    }


async def cpu_per_request(request: Request, total: int, concurrency: int) -> float:
    """Microseconds of this process's CPU per request."""

    async def worker(count: int) -> None:
        for _ in range(count):
            await request()

    share, extra = divmod(total, concurrency)
    start = time.process_time()
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return (time.process_time() - start) / total * 1e6


async def measure(
    base_url: str, tools: int, total: int, concurrency: int, rounds: int
) -> list[tuple[str, float, float]]:
    rows = []
    for name, request in clients(base_url, tools).items():
        await cpu_per_request(request, 200, 10)  # warm up: imports, connections, caches
        sequential = min([await cpu_per_request(request, total, 1) for _ in range(rounds)])
        concurrent = min([await cpu_per_request(request, total, concurrency) for _ in range(rounds)])
        rows.append((name, sequential, concurrent))
    return rows


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--tools", type=int, default=0, help="function tools offered in each request")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(port)], cwd=ROOT
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/v1"
        run = measure(url, args.tools, args.requests, args.concurrency, args.rounds)
        if args.loop == "uvloop":
            import uvloop

            rows = uvloop.run(run)
        else:
            rows = asyncio.run(run)
    finally:
        server.terminate()
        server.wait()
    print(
        f"CPU per request, µs (best of {args.rounds} × {args.requests} requests, {args.loop}, "
        f"{args.tools} tools)"
    )
    print(f"{'client':40} {'sequential':>11} {f'concurrency {args.concurrency}':>15}")
    for name, sequential, concurrent in rows:
        print(f"{name:40} {sequential:11.0f} {concurrent:15.0f}")


if __name__ == "__main__":
    main()
