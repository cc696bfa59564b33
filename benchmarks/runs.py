"""Runs benchmark: send-to-done latency, throughput, CPU per run, event delivery to 100 subscribers.

Real processes on this machine: embedded PostgreSQL and Redis, ``agentry api`` (uvicorn), one
``agentry worker`` and, for the OpenAI provider, the fake chat-completions server
(tests/fakes/openai_server.py: zero latency, one tool call then an answer). The load generator
(this process) talks GraphQL over HTTP (``sendMessage``) and graphql-transport-ws (``runEvents``):
a run's latency is from sending the message to receiving its ``done`` event.

CPU per run sums user+system time of the API, worker, PostgreSQL (postmaster and backends) and Redis
processes over the measured phase; the load generator and the fake provider are reported apart.

Run: ``uv run python benchmarks/runs.py [--runs 300] [--clients 50] [--models offline,openai]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db import create_engine, create_sessionmaker, transaction, uuid7  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.embedded import ensure_postgres, ensure_redis  # noqa: E402
from backend.identity.tokens import open_session  # noqa: E402
from backend.models import (  # noqa: E402
    Integration,
    Membership,
    Organization,
    User,
)
from backend.settings import Settings  # noqa: E402
from tests.factories import add_deployed_agent  # noqa: E402

SEND = "mutation($t: ID!, $c: String!) { sendMessage(input: {threadId: $t, content: $c}) { id status } }"
START = "mutation($d: ID!) { startThread(input: {deploymentId: $d}) { id } }"
EVENTS = "subscription($r: ID!) { runEvents(runId: $r) { seq type kind at } }"
TICK = os.sysconf("SC_CLK_TCK")


# -- processes and CPU accounting ---------------------------------------------------------------------
def _cpu_ticks(pid: int, children: bool = False) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # reaped children
    return ticks


def _children(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    out.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    return out


@dataclass
class Procs:
    api: int
    worker: int
    postmaster: int
    redis: int
    fake: int | None = None

    def sample(self) -> dict[str, float]:
        pg = _cpu_ticks(self.postmaster, children=True) + sum(
            _cpu_ticks(p) for p in _children(self.postmaster)
        )
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "api": _cpu_ticks(self.api) / TICK,
            "worker": _cpu_ticks(self.worker) / TICK,
            "postgres": pg / TICK,
            "redis": _cpu_ticks(self.redis) / TICK,
            "fake": _cpu_ticks(self.fake) / TICK if self.fake else 0.0,
            "loadgen": own.ru_utime + own.ru_stime,
        }


# -- data -------------------------------------------------------------------------------------------
@dataclass
class Setup:
    token: str
    deployments: dict[str, uuid.UUID] = field(default_factory=dict)


async def seed(settings: Settings, database_url: str, fake_url: str | None) -> Setup:
    engine = create_engine(database_url, pool_size=2)
    try:
        async with transaction(create_sessionmaker(engine)) as s:
            org = Organization(id=uuid7(), slug="bench", name="Bench")
            user = User(id=uuid7(), email="bench@example.com", display_name="Bench")
            s.add_all([org, user])
            await s.flush()
            s.add(Membership(organization_id=org.id, user_id=user.id, role="owner"))
            token = (await open_session(s, settings, user, client_addr=None, user_agent=None))[1]
            setup = Setup(token)
            models = {"offline": "offline"}
            if fake_url:
                integration = Integration(
                    id=uuid7(),
                    organization_id=org.id,
                    type="openai_compatible",
                    name="fake",
                    config={"base_url": fake_url},
                    cache={},
                )
                s.add(integration)
                await s.flush()
                models["openai"] = f"integration:{integration.id}/fake-model"
            for name, model in models.items():
                config = {
                    "instructions": "Be brief.",
                    "model": model,
                    "limits": {"max_steps": 10, "max_tokens": 50_000, "max_run_seconds": 120},
                }
                _, deployment = await add_deployed_agent(
                    s, org.id, user.id, config, slug=f"bench-{name}", name=name
                )
                setup.deployments[name] = deployment.id
        return setup
    finally:
        await engine.dispose()


# -- client -----------------------------------------------------------------------------------------
class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.http = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.ws: ClientConnection | None = None
        self.ops = 0
        self.subscribed_at = 0.0  # wall clock when the last subscribe was sent

    async def open(self) -> None:
        self.ws = await connect(
            self.base.replace("http", "ws") + "/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_size=None,
        )
        await self.ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}})
        )
        assert json.loads(await self.ws.recv())["type"] == "connection_ack"

    async def close(self) -> None:
        await self.http.aclose()
        if self.ws is not None:
            await self.ws.close()

    async def gql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = (await self.http.post("/graphql", json={"query": query, "variables": variables})).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    async def events(self, run_id: str) -> list[tuple[dict[str, Any], float]]:
        assert self.ws is not None
        self.ops += 1
        op = str(self.ops)
        self.subscribed_at = time.time()
        await self.ws.send(
            json.dumps(
                {"id": op, "type": "subscribe", "payload": {"query": EVENTS, "variables": {"r": run_id}}}
            )
        )
        out: list[tuple[dict[str, Any], float]] = []
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") != op:
                continue
            if msg["type"] == "next":
                out.append((msg["payload"]["data"]["runEvents"], time.time()))
            elif msg["type"] == "complete":
                return out
            else:
                raise RuntimeError(msg)

    async def run_once(self, thread_id: str, text: str) -> float:
        started = time.perf_counter()
        run = (await self.gql(SEND, {"t": thread_id, "c": text}))["sendMessage"]
        events = await self.events(run["id"])
        assert events[-1][0]["type"] == "done", events[-1]
        return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


RUNS_PER_THREAD = 10  # a chat of 10 exchanges: history stays realistic instead of growing without end


FAILURES: list[str] = []  # runs that did not end with `done`: counted and shown, never silently dropped


async def load(
    clients: list[Client], threads: list[list[str]], total: int, text: str
) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = total

    async def loop(client: Client, pool: list[str]) -> None:
        nonlocal remaining
        done = 0
        while remaining > 0:
            remaining -= 1
            thread = pool[(done // RUNS_PER_THREAD) % len(pool)]
            try:
                latencies.append(await client.run_once(thread, text))
            except Exception as exc:
                FAILURES.append(f"{type(exc).__name__}: {exc}"[:500])
                if client.ws is not None and client.ws.close_code is not None:
                    await client.open()  # the connection itself failed: carry on with a new one
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*[loop(c, t) for c, t in zip(clients, threads, strict=True)])
    return latencies, time.perf_counter() - started


async def threads_for(client: Client, deployment: uuid.UUID, count: int) -> list[str]:
    return [(await client.gql(START, {"d": str(deployment)}))["startThread"]["id"] for _ in range(count)]


async def phase(
    name: str, procs: Procs, clients: list[Client], threads: list[list[str]], runs: int, text: str
) -> dict[str, Any]:
    failed_before = len(FAILURES)
    before = procs.sample()
    latencies, elapsed = await load(clients, threads, runs, text)
    after = procs.sample()
    cpu = {k: (after[k] - before[k]) * 1000 / runs for k in before}
    platform = cpu["api"] + cpu["worker"] + cpu["postgres"] + cpu["redis"]
    result = {
        "phase": name,
        "runs": runs,
        "p50_ms": pct(latencies, 0.5) * 1000,
        "p99_ms": pct(latencies, 0.99) * 1000,
        "runs_per_s": len(latencies) / elapsed,  # completed runs only
        "cpu_ms_per_run": platform,
        "cpu_split_ms": cpu,
        "failed_runs": len(FAILURES) - failed_before,
    }
    split = ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
    print(
        f"  {name:<24} p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
        f"{result['runs_per_s']:6.1f} runs/s  CPU {platform:5.2f} ms/run  ({split})",
        flush=True,
    )
    if result["failed_runs"]:
        print(
            f"  {'':<24} FAILED RUNS: {result['failed_runs']} (first: {FAILURES[failed_before]})", flush=True
        )
    return result


async def settle(procs: Procs, quiet: float = 0.05, within: float = 60.0) -> None:
    """Wait until the API and worker are idle (below ``quiet`` of a core): one-time start-up work,
    such as the worker importing provider SDKs in the background, is not a cost per run."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = procs.sample()
        await asyncio.sleep(0.5)
        after = procs.sample()
        if max(after[k] - before[k] for k in ("api", "worker")) / 0.5 < quiet:
            return


async def delivery(base: str, token: str, deployment: uuid.UUID, subscribers: int) -> dict[str, Any]:
    """100 subscribers on one streaming run (30 words over 3 s): publish (event ``at``) to receipt.

    Counted are the events published once every subscriber is established (has received its first
    event): earlier ones are replayed from PostgreSQL and measure subscription set-up, which is
    reported apart (subscribe sent to first event received).
    """
    owner = Client(base, token)
    thread = (await owner.gql(START, {"d": str(deployment)}))["startThread"]["id"]
    clients = [Client(base, token) for _ in range(subscribers)]
    await asyncio.gather(*[c.open() for c in clients])
    words = " ".join(f"w{i}" for i in range(30))
    run = (await owner.gql(SEND, {"t": thread, "c": f"/sleep 3 {words}"}))["sendMessage"]
    results = await asyncio.gather(*[c.events(run["id"]) for c in clients])
    setup = [(events[0][1] - c.subscribed_at) * 1000 for c, events in zip(clients, results, strict=True)]
    established = max(events[0][1] for events in results)
    delays = [
        (received - published) * 1000
        for events in results
        for e, received in events
        if e.get("at") and (published := datetime.fromisoformat(e["at"]).timestamp()) >= established
    ]
    await asyncio.gather(*[c.close() for c in clients])
    await owner.close()
    return {
        "subscribers": subscribers,
        "events": len(delays),
        "p50_ms": pct(delays, 0.5),
        "p99_ms": pct(delays, 0.99),
        "setup_p50_ms": pct(setup, 0.5),
        "setup_p99_ms": pct(setup, 0.99),
    }


async def bench(
    base: str, setup: Setup, procs: Procs, model: str, runs: int, concurrency: int
) -> list[dict[str, Any]]:
    print(f"\n[{model}]", flush=True)
    clients = [Client(base, setup.token) for _ in range(concurrency)]
    await asyncio.gather(*[c.open() for c in clients])
    deployment = setup.deployments[model]
    text = "hello benchmark"
    warmers = clients[:5]
    warm = [await threads_for(clients[0], deployment, 2) for _ in warmers]
    await load(warmers, warm, 50, text)  # warm-up (imports, pools, caches)
    await settle(procs)
    serial = max(100, runs // 3)
    one = [await threads_for(clients[0], deployment, serial // RUNS_PER_THREAD + 1)]
    out = [await phase(f"{model} c=1", procs, clients[:1], one, serial, text)]
    per_client = runs // (concurrency * RUNS_PER_THREAD) + 1
    many = [await threads_for(clients[0], deployment, per_client) for _ in clients]
    out.append(await phase(f"{model} c={concurrency}", procs, clients, many, runs, text))
    await asyncio.gather(*[c.close() for c in clients])
    return out


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=ROOT)


async def wait_http(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def amain(args: argparse.Namespace) -> None:
    models = args.models.split(",")
    with tempfile.TemporaryDirectory(prefix="agentry-bench-runs-") as tmp:
        data = Path(tmp)
        pg, rd = ensure_postgres(data), ensure_redis(data)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            await asyncio.to_thread(upgrade, pg.url())
            api_port, fake_port = free_port(), free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRY_")}
            env.update(
                AGENTRY_DATA_DIR=str(data),
                AGENTRY_DATABASE_URL=pg.url(),
                AGENTRY_REDIS_URL=rd.url(),
                AGENTRY_LOG_LEVEL="WARNING",
                AGENTRY_ENV="production",
                AGENTRY_API_PORT=str(api_port),
                AGENTRY_SECRET_KEY="bench-" + "x" * 40,
                AGENTRY_WORKER_CONCURRENCY=str(max(50, args.clients)),
                AGENTRY_LOG_FORMAT="json",
            )
            settings = Settings(env="production", data_dir=data, database_url=pg.url(), redis_url=rd.url())
            fake_url = None
            fake = None
            if "openai" in models:
                fake = spawn(
                    [
                        sys.executable,
                        "-m",
                        "tests.fakes.openai_server",
                        "--port",
                        str(fake_port),
                        "--tool",
                        "recall",
                    ],
                    env,
                    data / "fake.log",
                )
                procs.append(fake)
                fake_url = f"http://127.0.0.1:{fake_port}/v1"
                await wait_http(f"http://127.0.0.1:{fake_port}/v1/models")
            setup = await seed(settings, pg.url(), fake_url)
            api = spawn([sys.executable, "-m", "agentry", "api"], env, data / "api.log")
            worker = spawn([sys.executable, "-m", "agentry", "worker"], env, data / "worker.log")
            procs += [api, worker]
            base = f"http://127.0.0.1:{api_port}"
            await wait_http(base + "/healthz")
            postmaster = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
            redis_pid = int((rd.directory / "redis.pid").read_text().strip())
            counters = Procs(api.pid, worker.pid, postmaster, redis_pid, fake.pid if fake else None)
            results: list[dict[str, Any]] = []
            for model in models if args.runs > 0 else []:
                results += await bench(base, setup, counters, model, args.runs, args.clients)
            print("\n[delivery]", flush=True)
            # The load generator's own garbage from the phases above must not pause its receive loop.
            gc.collect()
            gc.freeze()
            d = await delivery(base, setup.token, setup.deployments["offline"], args.subscribers)
            print(
                f"  {d['subscribers']} subscribers, {d['events']} live deliveries: p50 {d['p50_ms']:.1f} ms, "
                f"p99 {d['p99_ms']:.1f} ms (subscription set-up p50 {d['setup_p50_ms']:.0f} ms, "
                f"p99 {d['setup_p99_ms']:.0f} ms)",
                flush=True,
            )
            print("\nGoals: p50 < 30 ms at c=1, <= 15 ms CPU/run, >= 100 runs/s, delivery p99 < 100 ms")
            if args.json:
                await asyncio.to_thread(
                    Path(args.json).write_text, json.dumps({"phases": results, "delivery": d}, indent=2)
                )
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            rd.stop()
            pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=600, help="runs per concurrent phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrency of the saturation phase")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--models", default="offline,openai")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    asyncio.run(amain(parser.parse_args()))


if __name__ == "__main__":
    main()
