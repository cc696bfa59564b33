"""ChatCompletionsModel and its HTTP/1.1 client over real sockets, against the fake chat-completions server.

What it sends is checked against pydantic-ai's ``OpenAIChatModel`` (the same requests must reach the
server), its errors against the classes the executor's retry policy expects. Connection handling
(keep-alive, stale pooled connections, a response cut short) uses a raw asyncio server where the
fake server can't misbehave the way needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime
import itertools
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelServerError,
    ModelTimeoutError,
    UserError,
)
from pydantic_ai.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import ToolDefinition

from backend.runtime import http1
from backend.runtime.chat_completions import ChatCompletionsModel
from backend.runtime.pricing import estimate_cost
from backend.runtime.retries import retryable
from tests.conftest import free_port
from tests.fakes.openai_server import FakeOpenAI
from tests.runtime.harness import serve_app

PROMPT = [ModelRequest(parts=[UserPromptPart("hello there world")], instructions="Be brief.")]
RECALL = ToolDefinition(
    name="recall",
    description="Recall memories.",
    parameters_json_schema={
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 3}},
        "required": ["query"],
    },
)


@contextlib.asynccontextmanager
async def serving(app: Any, *, keep_alive: float = 5.0) -> AsyncIterator[str]:
    """The fake server's base URL (``/v1``); ``keep_alive``: its idle-connection timeout."""
    async with serve_app(app, timeout_keep_alive=keep_alive) as url:
        yield url + "/v1"


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeOpenAI, str]]:
    server = FakeOpenAI()
    async with serving(server.app) as url:
        yield server, url


@pytest.fixture
async def pool(fake: tuple[FakeOpenAI, str]) -> AsyncIterator[http1.Pool]:
    """A pool of the test's own, so connections can be counted."""
    port = int(fake[1].split(":")[-1].split("/")[0])
    own = http1.Pool("http", "127.0.0.1", port)
    yield own
    own.close()


def model_for(url: str, pool: http1.Pool | None = None, **kwargs: Any) -> ChatCompletionsModel:
    kwargs.setdefault("timeout", 5.0)
    return ChatCompletionsModel("gpt-4o-mini", base_url=url, api_key="sk-test", client=pool, **kwargs)


async def fails(call: Awaitable[Any]) -> ModelAPIError:
    with pytest.raises(ModelAPIError) as caught:
        await call
    return caught.value


# -- answers -----------------------------------------------------------------------------------


async def test_text_answer_streams_its_pieces_in_order(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    pieces: list[str] = []
    response = await model_for(url, pool, on_text=pieces.append).request(
        PROMPT, None, ModelRequestParameters()
    )
    assert pieces == ["echo: ", "hello ", "there ", "world"]
    assert response.parts == [TextPart("echo: hello there world")]
    assert "".join(pieces) == response.text
    assert response.finish_reason == "stop"
    assert response.model_name == "gpt-4o-mini"
    assert response.provider_name == "openai"
    assert response.provider_response_id == "chatcmpl-1"
    assert response.provider_details is not None
    assert response.provider_details["finish_reason"] == "stop"
    usage = server._usage(server.requests[0], "echo: hello there world", None)
    assert (response.usage.input_tokens, response.usage.output_tokens) == (
        usage["prompt_tokens"],
        usage["completion_tokens"],
    )
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert server.requests[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there world"},
    ]


async def test_on_text_runs_in_the_callers_context(fake: tuple[FakeOpenAI, str], pool: http1.Pool) -> None:
    _, url = fake
    run_id: contextvars.ContextVar[str] = contextvars.ContextVar("run_id")
    seen: list[str] = []
    model = model_for(url, pool, on_text=lambda _: seen.append(run_id.get("?")))
    for name in ("first", "second"):  # the second run reuses the first one's connection
        run_id.set(name)
        await model.request(PROMPT, None, ModelRequestParameters())
    assert seen == ["first"] * 4 + ["second"] * 4


async def test_tool_call_then_answer_through_an_agent(fake: tuple[FakeOpenAI, str], pool: http1.Pool) -> None:
    server, url = fake
    pieces: list[str] = []
    agent = Agent(model_for(url, pool, on_text=pieces.append), instructions="Use your tools.")

    @agent.tool_plain
    def recall(query: str, limit: int = 3) -> str:
        """Recall memories."""
        return f"nothing about {query}"

    result = await agent.run("what do you remember?")
    assert result.output == "done: nothing about test"
    assert "".join(pieces) == result.output
    call = result.all_messages()[1]
    assert isinstance(call, ModelResponse) and call.finish_reason == "tool_call"
    assert [(p.tool_name, p.args_as_dict(), p.tool_call_id) for p in call.tool_calls] == [
        ("recall", {"query": "test"}, "call_1")
    ]
    assert result.usage.requests == 2 and result.usage.tool_calls == 1
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    first, second = server.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["recall"]
    assert "tool_choice" not in first  # "auto" is the API's default
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool"]
    assert second["messages"][2]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "recall", "arguments": '{"query":"test"}'}}
    ]
    assert second["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "nothing about test",
    }


async def test_structured_output_forces_a_tool_call(fake: tuple[FakeOpenAI, str], pool: http1.Pool) -> None:
    server, url = fake
    server.tool_name = "final_result"

    class Answer(BaseModel):
        answer: str

    result = await Agent(model_for(url, pool), output_type=Answer).run("answer")
    assert result.output == Answer(answer="test")
    assert server.requests[0]["tool_choice"] == "required"
    assert server.requests[0]["tools"][0]["function"]["strict"] is True


@pytest.mark.filterwarnings("ignore:`RetryPromptPart` is deprecated")
async def test_requests_match_what_openai_chat_model_sends(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    """The same history, settings and tools reach the server from both models (bar streaming)."""
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    server, url = fake
    history: list[ModelMessage] = [
        ModelRequest(
            parts=[SystemPromptPart("You are a bot."), UserPromptPart("find it")], instructions="Be brief."
        ),
        ModelResponse(
            parts=[TextPart("Looking."), ToolCallPart("recall", {"query": "it"}, tool_call_id="c1")]
        ),
        ModelRequest(
            parts=[
                ToolReturnPart("recall", {"found": ["a", "b"]}, tool_call_id="c1"),
                RetryPromptPart("query too short", tool_name="recall", tool_call_id="c2"),
                RetryPromptPart("answer in French"),
            ]
        ),
        ModelResponse(parts=[TextPart("D'accord.")]),
        ModelRequest(parts=[UserPromptPart(["no-tool now", "please"])]),
    ]
    settings = ModelSettings(
        temperature=0.3,
        max_tokens=50,
        top_p=0.9,
        seed=7,
        stop_sequences=["END"],
        presence_penalty=0.1,
        frequency_penalty=0.2,
        parallel_tool_calls=False,
    )
    params = ModelRequestParameters(function_tools=[RECALL])
    sdk = AsyncOpenAI(base_url=url, api_key="sk-test", max_retries=0)
    for system, model_name, provider in (
        ("openai", "gpt-4o-mini", OpenAIProvider(openai_client=sdk)),
        ("openai-compatible", "llama3.2", OpenAICompatibleProvider("openai-compatible", openai_client=sdk)),
    ):
        server.requests.clear()
        reference = OpenAIChatModel(model_name, provider=provider)
        ours = ChatCompletionsModel(
            model_name, base_url=url, api_key="sk-test", timeout=5, client=pool, system=system
        )
        expected = await reference.request(history, settings, params)
        got = await ours.request(history, settings, params)
        theirs, mine = server.requests
        assert theirs.pop("stream") is False and theirs.pop("tool_choice") == "auto"
        assert mine.pop("stream") is True and mine.pop("stream_options") == {"include_usage": True}
        assert mine == theirs
        assert got.parts == expected.parts
        # Ours also prices the response from the platform's table (pydantic-ai fills the SDK's later).
        assert got.usage.cost == estimate_cost(model_name, got.usage.input_tokens, got.usage.output_tokens)
        assert (
            replace(got.usage, cost=None),
            got.finish_reason,
            got.provider_name,
            got.canonical_system,
        ) == (
            expected.usage,
            expected.finish_reason,
            expected.provider_name,
            expected.canonical_system,
        )
    await sdk.close()


async def test_non_text_user_content_is_refused(fake: tuple[FakeOpenAI, str], pool: http1.Pool) -> None:
    image = BinaryContent(b"\x89PNG", media_type="image/png")
    with pytest.raises(UserError, match="text only"):
        await model_for(fake[1], pool).request(
            [ModelRequest(parts=[UserPromptPart(["look", image])])], None, ModelRequestParameters()
        )


async def test_streaming_through_pydantic_ai_is_refused(fake: tuple[FakeOpenAI, str]) -> None:
    with pytest.raises(NotImplementedError, match="on_text"):
        async with model_for(fake[1]).request_stream(PROMPT, None, ModelRequestParameters()):
            pass


# -- errors ------------------------------------------------------------------------------------


async def test_429_is_retryable_after_the_providers_delay(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    server.script(("status", {"code": 429, "headers": {"retry-after": "7"}}))
    error = await fails(model_for(url, pool).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelRateLimitError) and isinstance(error, ModelHTTPError)
    assert (error.status_code, error.retry_after, retryable(error)) == (429, 7.0, True)
    assert "fake error 429" in error.message


@pytest.mark.parametrize(("status", "is_retryable"), [(500, True), (503, True), (400, False), (401, False)])
async def test_status_errors(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool, status: int, is_retryable: bool
) -> None:
    server, url = fake
    server.script(("status", status))
    error = await fails(model_for(url, pool).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelHTTPError) and error.status_code == status
    assert retryable(error) is is_retryable
    assert f"fake error {status}" in error.message
    # the error body was read to its end: the connection is reused
    await model_for(url, pool).request(PROMPT, None, ModelRequestParameters())
    assert len(set(server.clients)) == 1


async def test_an_error_inside_the_stream_is_retryable(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    server.script(("stream_error", {"message": "the model crashed"}))
    error = await fails(model_for(url, pool).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelServerError) and error.in_stream and retryable(error)
    assert error.message == "the model crashed"
    server.script(("stream_error", {"message": "slow down", "code": "rate_limit_exceeded"}))
    error = await fails(model_for(url, pool).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelRateLimitError) and retryable(error)


async def test_a_stream_ending_without_done_is_retryable(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    server.script(("truncate", None))
    error = await fails(model_for(url, pool).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelConnectionError) and error.phase == "read" and retryable(error)
    assert "[DONE]" in error.message


@pytest.mark.parametrize("fault", ["hang", "stall"])
async def test_a_hanging_response_times_out(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool, fault: str
) -> None:
    """``hang``: no response at all; ``stall``: the stream stops after its first chunk."""
    server, url = fake
    server.script((fault, 30))
    model = model_for(url, pool, timeout=0.5)
    started = time.monotonic()
    error = await fails(model.request(PROMPT, None, ModelRequestParameters()))
    assert 0.45 < time.monotonic() - started < 1.5
    assert isinstance(error, ModelTimeoutError) and error.phase == "read" and retryable(error)
    response = await model.request(PROMPT, None, ModelRequestParameters())  # on a new connection
    assert response.text == "echo: hello there world"
    assert len(set(server.clients)) == 2


async def test_a_slow_stream_that_keeps_sending_does_not_time_out(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    server.script(("trickle", 0.3))  # four pieces: 1.2 s in all, never 0.5 s without data
    response = await model_for(url, pool, timeout=0.5).request(PROMPT, None, ModelRequestParameters())
    assert response.text == "echo: hello there world"


async def test_a_refused_connection_is_retryable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    error = await fails(model_for(url).request(PROMPT, None, ModelRequestParameters()))
    assert isinstance(error, ModelConnectionError) and not isinstance(error, ModelTimeoutError)
    assert error.phase == "connect" and retryable(error)


# -- connections -------------------------------------------------------------------------------


async def test_sequential_requests_share_one_connection(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    for _ in range(5):
        await model_for(url, pool).request(PROMPT, None, ModelRequestParameters())
    assert len(server.clients) == 5 and len(set(server.clients)) == 1
    assert len(pool._idle) == 1


async def test_concurrent_requests_each_stream_their_own_answer(
    fake: tuple[FakeOpenAI, str], pool: http1.Pool
) -> None:
    server, url = fake
    pieces: dict[int, list[str]] = {i: [] for i in range(20)}

    async def ask(i: int) -> str | None:
        prompt = [ModelRequest(parts=[UserPromptPart(f"question {i}")])]
        response = await model_for(url, pool, on_text=pieces[i].append).request(
            prompt, None, ModelRequestParameters()
        )
        return response.text

    answers = await asyncio.gather(*(ask(i) for i in range(20)))
    assert answers == [f"echo: question {i}" for i in range(20)]
    assert all("".join(pieces[i]) == answers[i] for i in range(20))
    assert len(pool._idle) == len(set(server.clients)) <= 20


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    server = FakeOpenAI()
    async with serving(server.app, keep_alive=0.2) as url:
        model = model_for(url, http1.pool_for(url))
        await model.request(PROMPT, None, ModelRequestParameters())
        await asyncio.sleep(0.5)  # the server closes the idle connection
        await model.request(PROMPT, None, ModelRequestParameters())
    assert len(set(server.clients)) == 2


Handler = Callable[[int, int], Awaitable[tuple[bytes, bool] | None]]
"""(connection number, request number on it) -> (bytes to send, close after) or ``None``: close at once."""

SSE_BODY = (
    b'data: {"id":"c1","model":"m","created":1,"choices":[{"index":0,"delta":{"content":"hi"},'
    b'"finish_reason":"stop"}]}\n\n'
    b'data: {"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n'
    b"data: [DONE]\n\n"
)


def response_bytes(body: bytes, content_type: bytes = b"text/event-stream") -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (content_type, len(body))
    return head + body


@contextlib.asynccontextmanager
async def raw_server(
    handler: Handler, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, list[int]]]:
    """A bare HTTP/1.1 server; yields its URL and the connection number of each request received."""
    requests: list[int] = []
    connections = itertools.count()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = next(connections)
        try:
            for number in itertools.count(1):
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                requests.append(connection)
                answer = await handler(connection, number)
                if answer is None:
                    break
                writer.write(answer[0])
                await writer.drain()
                if answer[1]:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://localhost:{port}/v1" if tls else f"http://127.0.0.1:{port}/v1", requests
    finally:
        server.close()


async def test_a_dead_pooled_connection_is_replaced_before_anything_was_answered() -> None:
    """The server drops the kept-alive connection on the next request, as if it had closed it just then."""

    async def handler(connection: int, number: int) -> tuple[bytes, bool] | None:
        return (response_bytes(SSE_BODY), False) if number == 1 else None

    async with raw_server(handler) as (url, requests):
        pool = http1.pool_for(url)
        model = model_for(url, pool)
        for _ in range(3):
            assert (await model.request(PROMPT, None, ModelRequestParameters())).text == "hi"
        assert requests == [0, 0, 1, 1, 2]  # each reused connection was dropped, the request resent
        pool.close()


async def test_a_response_cut_short_is_not_resent() -> None:
    async def handler(connection: int, number: int) -> tuple[bytes, bool] | None:
        if connection == 0:
            return response_bytes(SSE_BODY), False
        return response_bytes(SSE_BODY)[:-30], True  # half a response, then the server closes

    async with raw_server(handler) as (url, requests):
        pool = http1.pool_for(url)
        model = model_for(url, pool)
        pool.max_idle = 0  # every request on a new connection
        await model.request(PROMPT, None, ModelRequestParameters())
        error = await fails(model.request(PROMPT, None, ModelRequestParameters()))
        assert isinstance(error, ModelConnectionError) and error.phase == "read" and retryable(error)
        assert requests == [0, 1]
        pool.close()


async def test_a_server_that_ignores_stream_gets_its_json_answer_read() -> None:
    completion = (
        b'{"id":"c9","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}'
    )

    async def handler(connection: int, number: int) -> tuple[bytes, bool] | None:
        return response_bytes(completion, b"application/json"), False

    async with raw_server(handler) as (url, _):
        pieces: list[str] = []
        response = await model_for(url, on_text=pieces.append).request(PROMPT, None, ModelRequestParameters())
    assert (response.text, pieces, response.usage.input_tokens) == ("whole", ["whole"], 2)


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for ``localhost`` and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))


async def test_https_verifies_the_server(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)

    async def handler(connection: int, number: int) -> tuple[bytes, bool] | None:
        return response_bytes(SSE_BODY), False

    async with raw_server(handler, server_tls) as (url, requests):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        pool = http1.Pool("https", "localhost", port, ssl_context=client_tls)
        for _ in range(2):
            assert (await model_for(url, pool).request(PROMPT, None, ModelRequestParameters())).text == "hi"
        assert requests == [0, 0]
        pool.close()
        untrusted = http1.Pool("https", "localhost", port)  # the system's CAs
        error = await fails(model_for(url, untrusted).request(PROMPT, None, ModelRequestParameters()))
        assert isinstance(error, ModelConnectionError) and error.phase == "connect"
        assert "CERTIFICATE_VERIFY_FAILED" in error.message


async def test_header_values_cannot_inject_lines(fake: tuple[FakeOpenAI, str], pool: http1.Pool) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        await pool.request("GET", "/v1/models", headers={"X-Key": "a\r\nX-Evil: 1"}, read_timeout=1)
