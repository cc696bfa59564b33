"""The container deployment as a deployer relies on it: docker-compose.yml, the Dockerfile and .dockerignore.

There is no Docker engine in CI, so the files are parsed and their wiring checked statically.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "api", "worker")
SHARED_VARS = ("AGENTRY_DATABASE_URL", "AGENTRY_REDIS_URL", "AGENTRY_SECRET_KEY")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"^\$\{(?P<var>[A-Z_][A-Z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}$")


# ----------------------------------------------------------------------------------------------------
# docker-compose.yml


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def env(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def depends(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def command(service: dict[str, Any]) -> list[str]:
    raw = service.get("command") or []
    return shlex.split(raw) if isinstance(raw, str) else [str(part) for part in raw]


def healthcheck(service: dict[str, Any]) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "health check disabled"
    test = check.get("test")
    assert test, "no health check"
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return " ".join(test[1:])


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs."""
    ports = set()
    for spec in service.get("ports") or []:
        if isinstance(spec, dict):
            ports.add((int(spec["published"]), int(spec["target"])))
        else:
            parts = str(spec).split("/")[0].split(":")
            ports.add((int(parts[-2]) if len(parts) > 1 else 0, int(parts[-1])))  # 0: any free host port
    return ports


def container_ports(service: dict[str, Any]) -> set[int]:
    return {target for _, target in published_ports(service)}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, for short- and long-syntax volumes."""
    result = {}
    for spec in service.get("volumes") or []:
        if isinstance(spec, dict):
            result[spec["target"]] = spec.get("source", "")
        else:
            source, target = str(spec).split(":")[:2]
            result[target] = source
    return result


def test_all_services_defined(services: dict[str, Any]) -> None:
    assert set(services) >= {"postgres", "redis", "migrate", "api", "worker", "web"}


def test_postgres_16_with_named_volume_and_readiness_check(compose: dict[str, Any], services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    data = mounts(postgres).get("/var/lib/postgresql/data")
    assert data in (compose.get("volumes") or {}), "PostgreSQL data must live in a named volume"
    assert "pg_isready" in healthcheck(postgres)
    assert "max_connections=300" in postgres["command"], "room for every process's pools at peak"


def test_redis_7_persists_and_never_evicts(compose: dict[str, Any], services: dict) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7")
    args = command(redis)
    options = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    # AOF keeps queued runs across a Redis restart; eviction would silently drop queue entries and locks.
    assert options.get("--appendonly") == "yes"
    assert options.get("--maxmemory-policy") == "noeviction"
    assert mounts(redis).get("/data") in (compose.get("volumes") or {}), (
        "Redis AOF must live in a named volume"
    )
    assert "redis-cli ping" in healthcheck(redis)


def test_migrate_is_one_shot_after_postgres_is_healthy(services: dict) -> None:
    migrate = services["migrate"]
    assert command(migrate) == ["migrate"]
    assert str(migrate.get("restart", "no")) == "no", "a finished migration must not be restarted in a loop"
    assert depends(migrate).get("postgres") == "service_healthy"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_app_processes_wait_for_migrations_and_redis(services: dict, name: str) -> None:
    deps = depends(services[name])
    assert deps.get("migrate") == "service_completed_successfully"
    assert deps.get("redis") == "service_healthy"


def test_api_serves_port_8000_and_is_healthy_only_when_ready(services: dict) -> None:
    api = services["api"]
    assert command(api) == ["api"]
    assert 8000 in container_ports(api)
    assert "localhost:8000/readyz" in healthcheck(api), "health must mean PostgreSQL and Redis are reachable"


def test_worker_can_be_scaled(services: dict) -> None:
    worker = services["worker"]
    assert command(worker) == ["worker"]
    # Either would make `docker compose up --scale worker=N` fail with a name or port clash.
    assert "container_name" not in worker
    assert not worker.get("ports")


def test_web_serves_port_3000_once_the_api_is_healthy(services: dict) -> None:
    web = services["web"]
    assert command(web) == ["web"]
    assert (web.get("build") or {}).get("target") == "web"
    assert 3000 in container_ports(web)
    assert depends(web).get("api") == "service_healthy"


def test_web_reaches_the_api_inside_the_compose_network(services: dict) -> None:
    # The Reflex backend calls GraphQL server-side; localhost inside the web container is not the API.
    url = urlsplit(env(services["web"])["AGENTRY_PUBLIC_API_URL"])
    assert url.hostname == "api"
    assert url.port in container_ports(services["api"])


def test_web_event_port_is_published_unchanged(services: dict) -> None:
    # The UI's JavaScript opens Reflex's event websocket on the page's hostname at the port baked into the
    # build (AGENTRY_WEB_BACKEND_PORT, default 8001): the host port must equal the container port.
    port = int(env(services["web"]).get("AGENTRY_WEB_BACKEND_PORT", 8001))
    assert (port, port) in published_ports(services["web"])


def test_api_advertises_its_published_address(services: dict) -> None:
    public = env(services["api"])["AGENTRY_PUBLIC_API_URL"]
    match = INTERPOLATION.match(public)
    url = urlsplit(match["arg"] if match else public)
    assert (url.port, 8000) in published_ports(services["api"])


def test_web_gets_neither_database_nor_secret(services: dict) -> None:
    web_env = env(services["web"])
    assert "AGENTRY_DATABASE_URL" not in web_env
    assert "AGENTRY_SECRET_KEY" not in web_env


@pytest.mark.parametrize("var", SHARED_VARS)
def test_app_services_share_database_redis_and_secret(services: dict, var: str) -> None:
    values = {name: env(services[name]).get(var) for name in APP_SERVICES}
    assert None not in values.values(), f"{var} missing: {values}"
    assert len(set(values.values())) == 1, f"{var} differs: {values}"


def test_app_services_run_the_same_image(services: dict) -> None:
    # The migration that ran must be the one the API and workers were built with.
    images = {services[name].get("image") for name in APP_SERVICES}
    targets = {(services[name].get("build") or {}).get("target") for name in APP_SERVICES}
    assert len(images) == 1 and None not in images
    assert targets == {"app"}


def test_database_url_points_at_the_compose_postgres(services: dict) -> None:
    url = urlsplit(env(services["api"])["AGENTRY_DATABASE_URL"])
    pg_env = env(services["postgres"])
    assert url.scheme == "postgresql+asyncpg"
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.path.lstrip("/") == pg_env["POSTGRES_DB"]
    # Same interpolation on both sides, so changing POSTGRES_PASSWORD changes both.
    assert url.password == pg_env["POSTGRES_PASSWORD"]
    assert INTERPOLATION.match(pg_env["POSTGRES_PASSWORD"])


def test_redis_url_points_at_the_compose_redis(services: dict) -> None:
    url = urlsplit(env(services["api"])["AGENTRY_REDIS_URL"])
    assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379)


def test_secret_key_must_be_supplied_by_the_deployer(services: dict) -> None:
    match = INTERPOLATION.match(env(services["api"])["AGENTRY_SECRET_KEY"])
    assert match, "the secret key is never written into the compose file"
    assert match["var"] == "AGENTRY_SECRET_KEY"
    assert match["op"] in (":?", "?"), (
        "compose must refuse to start without a secret key, not fall back to one"
    )


def test_no_literal_secret_values(services: dict) -> None:
    for name, service in services.items():
        for key, value in env(service).items():
            if SECRET_NAME.search(key):
                assert INTERPOLATION.match(value), f"{name}.{key} holds a literal secret"
            if "://" in value and urlsplit(value).password is not None:
                assert INTERPOLATION.match(urlsplit(value).password or ""), f"{name}.{key} embeds a password"


@pytest.mark.parametrize("name", [*APP_SERVICES, "web"])
def test_processes_run_in_production_mode_on_all_interfaces(services: dict, name: str) -> None:
    service_env = env(services[name])
    # Development mode enables GraphiQL and console logs; 127.0.0.1 is unreachable through the port map.
    assert service_env.get("AGENTRY_ENV") == "production"
    assert service_env.get("AGENTRY_HOST") == "0.0.0.0"


def test_stateful_services_are_not_published_on_the_host(services: dict) -> None:
    assert not services["postgres"].get("ports")
    assert not services["redis"].get("ports")


def test_compose_build_targets_exist_in_the_dockerfile(services: dict, dockerfile: Dockerfile) -> None:
    for name, service in services.items():
        if "build" in service:
            assert service["build"]["target"] in dockerfile.stages, name


# ----------------------------------------------------------------------------------------------------
# Dockerfile


@dataclass
class Stage:
    name: str
    parent: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Dockerfile:
    stages: dict[str, Stage]

    def chain(self, target: str) -> Iterator[tuple[str, str]]:
        """Every instruction that builds ``target``, from its root stage down."""
        stage = self.stages[target]
        if stage.parent in self.stages:
            yield from self.chain(stage.parent)
        yield from stage.instructions

    def ancestors(self, target: str) -> list[str]:
        parent = self.stages[target].parent
        return [parent, *self.ancestors(parent)] if parent in self.stages else []

    def root_image(self, target: str) -> str:
        stage = self.stages[target]
        return self.root_image(stage.parent) if stage.parent in self.stages else stage.parent

    def last(self, target: str, instruction: str) -> str | None:
        found = [args for name, args in self.chain(target) if name == instruction]
        return found[-1] if found else None


def parse_dockerfile(text: str) -> Dockerfile:
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    global_args = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for entry in logical:
        instruction, _, args = entry.partition(" ")
        instruction = instruction.upper()
        if instruction == "ARG" and current is None:
            key, _, default = args.partition("=")
            global_args[key] = default
        elif instruction == "FROM":
            parts = args.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: global_args.get(m[1], ""), parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else str(len(stages))
            current = stages[name] = Stage(name, image)
        elif current is not None:
            current.instructions.append((instruction, args))
    return Dockerfile(stages)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def runs(dockerfile: Dockerfile, target: str) -> list[str]:
    return [args for name, args in dockerfile.chain(target) if name == "RUN"]


def test_dockerfile_defines_the_stages(dockerfile: Dockerfile) -> None:
    assert {"base", "app", "web"} <= set(dockerfile.stages)
    # The web image needs the `agentry` CLI of the main environment as well as the frontend environment.
    for target in ("app", "web"):
        assert "base" in dockerfile.ancestors(target), target


@pytest.mark.parametrize("target", ["app", "web"])
def test_images_build_on_python_312_slim(dockerfile: Dockerfile, target: str) -> None:
    assert re.fullmatch(r"python:3\.12-slim(-\w+)?", dockerfile.root_image(target))


def test_main_environment_comes_from_the_lock(dockerfile: Dockerfile) -> None:
    syncs = [cmd for cmd in runs(dockerfile, "base") if "uv sync" in cmd]
    assert syncs and all("--frozen" in cmd and "--no-dev" in cmd for cmd in syncs)


def copy_sources(args: str) -> list[str]:
    return [part for part in args.split() if not part.startswith("--")][:-1]


def test_dependency_layer_is_cached_on_the_lock_only(dockerfile: Dockerfile) -> None:
    chain = list(dockerfile.chain("base"))
    first_sync = next(i for i, (name, args) in enumerate(chain) if name == "RUN" and "uv sync" in args)
    lock_only = {"pyproject.toml", "uv.lock"}
    source_copies = [
        i
        for i, (name, args) in enumerate(chain)
        if name == "COPY" and "--from=" not in args and not set(copy_sources(args)) <= lock_only
    ]
    assert source_copies, "base never copies the source"
    assert first_sync < source_copies[0], "dependencies must be installed before the source is copied"
    assert "--no-install-project" in chain[first_sync][1]
    lock_inputs = " ".join(args for name, args in chain[: first_sync + 1] if name in ("COPY", "RUN"))
    assert "uv.lock" in lock_inputs and "pyproject.toml" in lock_inputs


def runs_in(dockerfile: Dockerfile, target: str) -> list[tuple[str, str]]:
    """(working directory, command) of every RUN that builds ``target``."""
    workdir, result = "/", []
    for name, args in dockerfile.chain(target):
        if name == "WORKDIR":
            workdir = args if args.startswith("/") else f"{workdir.rstrip('/')}/{args}"
        elif name == "RUN":
            result.append((workdir, args))
    return result


def test_frontend_environment_comes_from_its_own_lock(dockerfile: Dockerfile) -> None:
    web = dockerfile.stages["web"].instructions
    copied_from = {m[1] for _, args in web if (m := re.search(r"--from=(\S+)", args))}
    stages = ["web", *(copied_from & set(dockerfile.stages))]
    frontend_runs = [
        cmd
        for stage in stages
        for workdir, cmd in runs_in(dockerfile, stage)
        if workdir.rstrip("/").endswith("/frontend") or "frontend" in cmd
    ]
    assert any("uv sync" in cmd and "--frozen" in cmd for cmd in frontend_runs), "frontend/uv.lock ignored"
    assert any("npm ci" in cmd for cmd in frontend_runs), "bun not from frontend/tools/package-lock.json"


@pytest.mark.parametrize("target", ["app", "web"])
def test_processes_run_as_a_non_root_user(dockerfile: Dockerfile, target: str) -> None:
    user = dockerfile.last(target, "USER")
    assert user and user.split(":")[0] not in ("root", "0")


def test_app_image_runs_the_api_by_default(dockerfile: Dockerfile) -> None:
    assert dockerfile.last("app", "ENTRYPOINT") == '["agentry"]'
    assert dockerfile.last("app", "CMD") == '["api"]'


def test_web_image_runs_the_web_tier_with_bun(dockerfile: Dockerfile) -> None:
    assert dockerfile.last("web", "ENTRYPOINT") == '["agentry"]'
    assert dockerfile.last("web", "CMD") == '["web"]'
    web_env = " ".join(args for name, args in dockerfile.chain("web") if name == "ENV")
    assert "REFLEX_USE_SYSTEM_BUN=1" in web_env
    assert "frontend/tools/node_modules/.bin" in web_env


def test_web_image_ships_a_prebuilt_ui(dockerfile: Dockerfile) -> None:
    # Built where `agentry web` looks for it, so a container starts without bun or the npm registry.
    assert any("web.build(" in cmd for _, cmd in runs_in(dockerfile, "web"))


def test_every_copied_build_input_exists(dockerfile: Dockerfile) -> None:
    for stage in dockerfile.stages.values():
        for name, args in stage.instructions:
            if name != "COPY" or "--from=" in args:
                continue
            for source in copy_sources(args):
                assert (ROOT / source).exists(), f"COPY {source} in stage {stage.name}"


# ----------------------------------------------------------------------------------------------------
# .dockerignore


def dockerignore_excludes(path: str) -> bool:
    """Docker's rules: patterns anchored at the context root, ``**`` spans directories, last match wins."""
    excluded = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "frontend/.venv/bin/reflex",
        "frontend/tools/node_modules/bun/bin/bun.exe",
        "frontend/.web/package.json",
        ".agentry/secret.key",
        ".env",
        ".git/HEAD",
        "tests/artifacts/report.html",
    ],
)
def test_local_state_and_secrets_stay_out_of_the_image(path: str) -> None:
    assert dockerignore_excludes(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "backend/settings.py",
        "frontend/pyproject.toml",
        "frontend/uv.lock",
        "frontend/tools/package-lock.json",
        ".env.example",
    ],
)
def test_build_inputs_reach_the_build(path: str) -> None:
    assert not dockerignore_excludes(path)
