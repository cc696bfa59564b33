"""Process configuration, read once from ``AGENTRY_*`` environment variables.

Nothing else in the code base reads the environment: every component receives a
:class:`Settings` (or calls :func:`get_settings`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All runtime settings. Unset service URLs mean "run the embedded service"."""

    model_config = SettingsConfigDict(env_prefix="AGENTRY_", env_file=".env", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path(".agentry")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    api_port: int = 8000
    web_port: int = 3000
    web_backend_port: int = 8001
    public_api_url: str | None = Field(
        default=None, description="URL browsers and the web tier use to reach the API"
    )
    secret_key: SecretStr | None = None
    egress_allow: str = ""
    log_format: Literal["console", "json"] | None = None
    log_level: str = "INFO"
    worker_concurrency: int = 50
    # Agent runtime: per model request timeout, bounded retries of 429/5xx/timeouts (with backoff,
    # never stacked on the SDKs' own retries, which are off), and the worker lease on a running run.
    model_request_timeout: float = 120.0
    model_max_retries: int = 3
    model_retry_backoff: float = 0.5
    # OpenAI and OpenAI-compatible endpoints: our lean streaming client, or pydantic-ai's SDK model.
    openai_client: Literal["native", "sdk"] = "native"
    run_lease_seconds: float = 15.0
    db_pool_size: int = 40
    session_idle_minutes: int = 60 * 24 * 7
    session_absolute_days: int = 30
    # API processes reuse an authenticated token's actor for this long (0: never); any change to
    # credentials or roles voids it at once (backend/identity/authcache.py).
    auth_cache_seconds: float = 5.0
    # Workers reuse a model integration's row this long (0: never); decryption and its audit stay
    # per run (backend/runtime/credentials.py).
    model_integration_cache_seconds: float = 5.0
    cors_origins: str = ""

    @property
    def dev(self) -> bool:
        return self.env != "production"

    @property
    def api_url(self) -> str:
        if self.public_api_url:
            return self.public_api_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.api_port}"

    @property
    def web_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.web_port}"

    @property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def secret(self) -> bytes:
        """The master secret; generated once into the data dir when not configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.resolved_data_dir / "secret.key"
        if not path.exists():
            tmp = path.with_name(f".secret.{secrets.token_hex(4)}.tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            # link() refuses to overwrite: when processes race on first start, one key wins.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
            tmp.unlink()
        return path.read_text().strip().encode()

    @property
    def log_renderer(self) -> Literal["console", "json"]:
        if self.log_format:
            return self.log_format
        return "console" if self.dev else "json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
