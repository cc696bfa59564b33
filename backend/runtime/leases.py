"""Per worker process: its lease owner id, and the keeper that renews leases and stops runs.

One heartbeat task per process renews the leases of all its runs in ONE ``UPDATE ... RETURNING``
per second, and learns in the same statement which runs were cancelled (``cancel_requested``) or
taken over (no longer ours). A subscription to ``runs:cancel`` stops a cancelled run within
milliseconds; the heartbeat is the fallback when Redis is unavailable (within about a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, update

from backend.db import transaction
from backend.events import hub_for
from backend.events.codec import CANCEL_CHANNEL
from backend.events.hub import RESYNC
from backend.logging import log
from backend.models import Run
from backend.resources import Resources
from backend.runs import states

if TYPE_CHECKING:
    from backend.runtime.executor import RunExecution

HEARTBEAT_S = 1.0


class Runtime:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.keeper = LeaseKeeper(self)


_RUNTIMES: dict[int, Runtime] = {}


def runtime_for(resources: Resources) -> Runtime:
    found = _RUNTIMES.get(id(resources))
    if found is None or found.resources is not resources:
        found = _RUNTIMES[id(resources)] = Runtime(resources)
    return found


class LeaseKeeper:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.executions: dict[uuid.UUID, RunExecution] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, execution: RunExecution) -> None:
        self.executions[execution.run_id] = execution
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lease-keeper")

    def remove(self, execution: RunExecution) -> None:
        if self.executions.get(execution.run_id) is execution:
            del self.executions[execution.run_id]

    async def _run(self) -> None:
        listener = asyncio.get_running_loop().create_task(self._listen())
        try:
            while self.executions:
                await asyncio.sleep(HEARTBEAT_S)
                if self.executions:
                    await self._beat()
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener

    async def _beat(self) -> None:
        ids = list(self.executions)
        resources = self.runtime.resources
        try:
            async with transaction(resources.sessions) as session:
                rows = (
                    await session.execute(
                        update(Run)
                        .where(
                            Run.id.in_(ids),
                            Run.lease_owner == self.runtime.owner,
                            Run.status.in_(states.EXECUTING),
                        )
                        .values(
                            lease_expires_at=func.now()
                            + func.make_interval(0, 0, 0, 0, 0, 0, resources.settings.run_lease_seconds)
                        )
                        .returning(Run.id, Run.cancel_requested)
                    )
                ).all()
        except Exception as exc:  # database unavailable: try again next beat
            log.warning("runtime.heartbeat_failed", error=type(exc).__name__, runs=len(ids))
            return
        renewed = {row.id: row.cancel_requested for row in rows}
        for run_id in ids:
            execution = self.executions.get(run_id)
            if execution is None:
                continue
            if run_id not in renewed:
                execution.cancel("lease_lost")
            elif renewed[run_id]:
                execution.cancel("user")

    async def _listen(self) -> None:
        sub = await hub_for(self.runtime.resources.redis).subscribe(CANCEL_CHANNEL)
        try:
            while True:
                event = await sub.queue.get()
                if event is RESYNC:
                    continue
                try:
                    run_id = uuid.UUID(str(event.get("run_id")))
                except ValueError:
                    continue
                execution = self.executions.get(run_id)
                if execution is not None:
                    execution.cancel("user")
        finally:
            with contextlib.suppress(Exception):
                await sub.close()
