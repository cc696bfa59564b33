"""The ``sql`` built-in: a second PostgreSQL database and a SQLite file, read-only by the database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from pydantic_ai.exceptions import ToolFailed

from backend.db import transaction
from backend.integrations import service
from backend.models import Integration
from backend.resources import Resources
from backend.settings import Settings
from tests.conftest import Servers, create_database, drop_database
from tests.integrations.factories import World, create
from tests.integrations.harness import bound_run, run_tools, toolset_for

WRITES = [
    "INSERT INTO pets (name) VALUES ('mallory')",
    "UPDATE pets SET name = 'x'",
    "DELETE FROM pets",
    "DROP TABLE pets",
    "CREATE TABLE evil (id int)",
]
PG_ONLY_WRITES = [
    "WITH gone AS (DELETE FROM pets RETURNING *) SELECT count(*) FROM gone",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SET TRANSACTION READ WRITE",
    "DELETE FROM pets; SELECT 1",
]


@pytest.fixture
async def pg_url(servers: Servers) -> AsyncIterator[str]:
    name = await create_database(servers, None)
    url = servers.database_url_for(name)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("CREATE TABLE pets (id serial PRIMARY KEY, name text NOT NULL, born date)")
        await conn.execute(
            "INSERT INTO pets (name, born) SELECT 'pet' || g, date '2020-01-01' + g "
            "FROM generate_series(1, 250) g"
        )
    finally:
        await conn.close()
    yield url
    await drop_database(servers, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    path = tmp_path / "pets.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE pets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born TEXT)")
        conn.executemany(
            "INSERT INTO pets (name, born) VALUES (?, '2020-01-01')", [(f"pet{i}",) for i in range(1, 251)]
        )
    return f"sqlite:///{path}"  # sqlite:////abs/path (absolute)


async def _count(integration: Integration, toolset_call: object) -> int:
    result = await toolset_call("query", {"sql": "SELECT count(*) AS n FROM pets"})  # type: ignore[operator]
    return int(result["rows"][0][0])


@pytest.mark.parametrize("which", ["postgresql", "sqlite"])
async def test_sql_reads_and_refuses_writes(
    resources: Resources, settings: Settings, world: World, which: str, pg_url: str, sqlite_url: str
) -> None:
    url = pg_url if which == "postgresql" else sqlite_url
    sql = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "sql",
        "db",
        {"maxRows": 100, "timeoutSeconds": 1},
        {"url": url},
    )
    run = await bound_run(resources, world, [sql])
    toolset = await toolset_for(resources, settings, run)
    assert toolset.tool_names == ["list_tables", "query"]
    placeholder = "$1" if which == "postgresql" else "?"
    outcome = await run_tools(
        toolset,
        [
            ("list_tables", {}),
            ("query", {"sql": f"SELECT id, name, born FROM pets WHERE id = {placeholder}", "params": [7]}),
            ("query", {"sql": "SELECT id FROM pets ORDER BY id"}),
        ],
    )
    tables, one, many = outcome.contents
    assert [t["name"] for t in tables["tables"]] == ["pets"]
    assert one["columns"] == ["id", "name", "born"] and one["rows"][0][:2] == [7, "pet7"]
    assert one["rows"][0][2].startswith("2020-01")
    assert many["rowCount"] == 100 and many["truncated"] is True
    call = toolset.executor.call
    for statement in WRITES + (PG_ONLY_WRITES if which == "postgresql" else ["ATTACH DATABASE 'x.db' AS x"]):
        with pytest.raises(ToolFailed, match="database error"):
            await call("query", {"sql": statement})
    assert await _count(sql, call) == 250
    slow = (
        "SELECT pg_sleep(5)"
        if which == "postgresql"
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    with pytest.raises(ToolFailed, match=r"statement|took longer|timeout|cancel"):
        await call("query", {"sql": slow})
    async with transaction(resources.sessions) as s:
        result = await service.check_integration(s, world.owner, settings, sql.id)
    assert result.ok and which in result.message


async def test_bad_urls_are_tool_errors(
    resources: Resources, settings: Settings, world: World, tmp_path: Path
) -> None:
    missing = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "sql",
        "missing",
        {},
        {"url": f"sqlite:///{tmp_path}/missing.db"},
    )
    wrong = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "sql",
        "odd",
        {},
        {"url": "oracle://scott:tiger@db/x"},
    )
    pg = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "sql",
        "pg",
        {},
        {"url": "postgresql://u:hunter2-password@127.0.0.1:1/x"},
    )
    for integration in (missing, wrong, pg):
        run = await bound_run(resources, world, [integration])
        toolset = await toolset_for(resources, settings, run)
        with pytest.raises(ToolFailed) as err:
            await toolset.executor.call("query", {"sql": "SELECT 1"})
        assert "hunter2" not in err.value.message and "tiger" not in err.value.message
    assert not (tmp_path / "missing.db").exists()  # mode=ro never creates files


@pytest.fixture
async def mysql_url(tmp_path: Path) -> AsyncIterator[str]:
    """A throwaway MariaDB/MySQL server on loopback (skipped where the binaries are not installed)."""
    import asyncio
    import shutil
    import subprocess

    from tests.conftest import free_port

    install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or shutil.which("mysqld")
    client = shutil.which("mariadb") or shutil.which("mysql")
    if not (install and server and client):
        pytest.skip("MariaDB/MySQL server binaries are not installed")
    data, port = tmp_path / "mysql", free_port()
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            *user,
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    proc = subprocess.Popen(
        [
            server,
            "--no-defaults",
            f"--datadir={data}",
            *user,
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={tmp_path}/mysql.sock",
            f"--pid-file={tmp_path}/mysql.pid",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    setup = (
        "CREATE DATABASE shop; CREATE TABLE shop.pets (id INT PRIMARY KEY, name TEXT NOT NULL); "
        "INSERT INTO shop.pets VALUES (1, 'pet1'), (2, 'pet2'), (3, 'pet3'); "
        "CREATE USER 'agent'@'%' IDENTIFIED BY 'agent-pw'; GRANT ALL ON shop.* TO 'agent'@'%';"
    )
    try:
        for _ in range(100):
            done = subprocess.run(
                [client, "--no-defaults", "-h127.0.0.1", f"-P{port}", "-uroot", "-e", setup],
                capture_output=True,
            )
            if done.returncode == 0:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.skip("MariaDB did not start")
        yield f"mysql://agent:agent-pw@127.0.0.1:{port}/shop"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_mysql_reads_and_refuses_writes(
    resources: Resources, settings: Settings, world: World, mysql_url: str
) -> None:
    sql = await create(
        resources.sessions,
        settings,
        world.owner,
        world.a,
        "sql",
        "shop",
        {"maxRows": 2, "timeoutSeconds": 1},
        {"url": mysql_url},
    )
    run = await bound_run(resources, world, [sql])
    toolset = await toolset_for(resources, settings, run)
    outcome = await run_tools(
        toolset,
        [("list_tables", {}), ("query", {"sql": "SELECT id, name FROM pets WHERE id >= %s", "params": [1]})],
    )
    tables, rows = outcome.contents
    assert tables == {"tables": [{"schema": "shop", "name": "pets"}]}
    assert rows == {
        "columns": ["id", "name"],
        "rows": [[1, "pet1"], [2, "pet2"]],
        "rowCount": 2,
        "truncated": True,
    }
    call = toolset.executor.call
    for statement in [*WRITES, "SELECT 1; COMMIT; DELETE FROM pets"]:
        with pytest.raises(ToolFailed, match="database error"):
            await call("query", {"sql": statement})
    with pytest.raises(ToolFailed, match=r"max_statement_time|MAX_EXECUTION_TIME|interrupted|took longer"):
        await call("query", {"sql": "SELECT SLEEP(3)"})
    assert (await call("query", {"sql": "SELECT count(*) FROM pets"}))["rows"] == [[3]]
    assert await call("list_tables", {}) == {"tables": [{"schema": "shop", "name": "pets"}]}  # no DDL escaped
