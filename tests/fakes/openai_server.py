"""A small local server speaking OpenAI's chat-completions protocol, for tests and benchmarks.

``POST /v1/chat/completions`` answers like a model would:

- the last message is a tool result       -> text ``done: <tool result>``;
- tools are offered and the prompt does not start with ``no-tool`` -> one call of the first offered tool
  (or ``FakeOpenAI.tool_name``) with arguments made from its JSON schema (strings ``"test"``, numbers 1);
- otherwise                                -> text ``echo: <last user message>``.

Streaming (``stream: true``) sends SSE ``chat.completion.chunk`` lines (text in word pieces, tool
calls in two argument pieces) and a usage chunk when ``stream_options.include_usage`` is set.
Faults are scripted per request, in order: ``server.script(("status", 429), ("status", 500),
("hang", None), ("ok", None))``; unscripted requests behave normally. ``POST /_script`` with a JSON
list of ``[kind, value]`` does the same over HTTP; ``GET /_requests`` returns the recorded bodies.
``("reply", {"content": ..., "tool_calls": [{"name": ..., "arguments": "<json>"}]})`` answers with
exactly that message. Other steps: ``("status", {"code": 429, "headers": {...}, "error": {...}})``
(an error response with those headers and error object), and for streamed answers
``("stall", secs)`` (stop after the first chunk for ``secs``), ``("trickle", secs)`` (wait ``secs``
before each chunk), ``("stream_error", {...})`` (an ``error`` object after the first chunk, then the
end of the body) and ``("truncate", None)`` (end the body without the usage chunk and ``[DONE]``).
``clients`` records the (host, port) each request came from, i.e. its connection.

Run standalone: ``python -m tests.fakes.openai_server --port 8799``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _args_for(schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in schema.get("required", list(props)):
        kind = (props.get(name) or {}).get("type")
        out[name] = 1 if kind in ("integer", "number") else (True if kind == "boolean" else "test")
    return out


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeOpenAI:
    def __init__(self, tool_name: str | None = None, delay: float = 0.0) -> None:
        self.tool_name = tool_name
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.clients: list[tuple[str, int]] = []
        self._script: deque[tuple[str, Any]] = deque()
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/_script", self.set_script, methods=["POST"]),
                Route("/_requests", self.get_requests, methods=["GET"]),
            ]
        )

    def script(self, *steps: tuple[str, Any]) -> None:
        self._script.extend(steps)

    async def set_script(self, request: Request) -> Response:
        self.script(*[(str(k), v) for k, v in await request.json()])
        return JSONResponse({"queued": len(self._script)})

    async def get_requests(self, request: Request) -> Response:
        return JSONResponse(self.requests)

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if request.client is not None:
            self.clients.append((request.client.host, request.client.port))
        kind, value = self._script.popleft() if self._script else ("ok", None)
        if kind == "status":
            spec: dict[str, Any] = value if isinstance(value, dict) else {"code": value}
            code = int(spec["code"])
            headers = spec.get("headers", {"retry-after": "0"} if code == 429 else {})
            error = spec.get("error", {"message": f"fake error {code}", "type": "fake", "code": None})
            return JSONResponse({"error": error}, status_code=code, headers=headers)
        if kind == "hang":
            await asyncio.sleep(value or 3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        text, calls = self._reply(value) if kind == "reply" else self._decide(body)
        if body.get("stream"):
            fault = (kind, value) if kind in ("stall", "trickle", "stream_error", "truncate") else None
            return StreamingResponse(self._stream(body, text, calls, fault), media_type="text/event-stream")
        return JSONResponse(self._completion(body, text, calls))

    def _reply(self, value: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        calls = [
            {
                "id": f"call_{len(self.requests)}_{i}",
                "type": "function",
                "function": {"name": c["name"], "arguments": c.get("arguments", "{}")},
            }
            for i, c in enumerate(value.get("tool_calls") or [])
        ]
        return value.get("content"), calls

    def _decide(self, body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        messages = body.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            return f"done: {last.get('content')}", []
        prompt = _content(last)
        tools = body.get("tools") or []
        if tools and not prompt.startswith("no-tool"):
            fns = [t["function"] for t in tools if t.get("type") == "function"]
            fn = next((f for f in fns if f["name"] == self.tool_name), fns[0] if fns else None)
            if fn is not None:
                call_id = f"call_{len(self.requests)}"
                return None, [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": fn["name"],
                            "arguments": json.dumps(_args_for(fn.get("parameters") or {})),
                        },
                    }
                ]
        return f"echo: {prompt}", []

    def _usage(self, body: dict[str, Any], text: str | None, calls: list[dict[str, Any]]) -> dict[str, int]:
        prompt = sum(_tokens(_content(m)) for m in body.get("messages") or [])
        completion = _tokens(text or json.dumps(calls))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(
        self, body: dict[str, Any], text: str | None, calls: list[dict[str, Any]]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": self._usage(body, text, calls),
        }

    async def _stream(
        self,
        body: dict[str, Any],
        text: str | None,
        calls: list[dict[str, Any]],
        fault: tuple[str, Any] | None = None,
    ) -> AsyncIterator[bytes]:
        base = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
        }

        trickle = fault[1] if fault is not None and fault[0] == "trickle" else 0

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n".encode()

        yield chunk({"role": "assistant", "content": ""})
        if fault is not None and fault[0] == "stall":
            await asyncio.sleep(fault[1] or 3600)
        if fault is not None and fault[0] == "stream_error":
            yield f"data: {json.dumps({'error': fault[1]})}\n\n".encode()
            return
        if calls:
            for index, call in enumerate(calls):
                args = call["function"]["arguments"]
                half = len(args) // 2
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call["id"],
                                "type": "function",
                                "function": {"name": call["function"]["name"], "arguments": args[:half]},
                            }
                        ]
                    }
                )
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": args[half:]}}]})
            yield chunk({}, "tool_calls")
        else:
            for piece in _pieces(text or ""):
                if trickle:
                    await asyncio.sleep(trickle)
                yield chunk({"content": piece})
            yield chunk({}, "stop")
        if fault is not None and fault[0] == "truncate":
            return
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {**base, "choices": [], "usage": self._usage(body, text, calls)}
            yield f"data: {json.dumps(usage)}\n\n".encode()
        yield b"data: [DONE]\n\n"


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def main() -> None:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--tool", default=None)
    args = parser.parse_args()
    uvicorn.run(FakeOpenAI(tool_name=args.tool).app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
