"""Writing audit events: in the caller's transaction (``record``) or in their own (denials).

Appends to one organisation's chain are serialised by a row lock on its ``audit_chain_heads``
row, held until the caller's transaction ends; the head row is created on first use with
``INSERT ... ON CONFLICT DO NOTHING``. An append is ONE statement (:data:`_APPEND`): it locks
the head, advances it and inserts the event, with PostgreSQL computing the hash over the same
canonical JSON the verifier rebuilds (:mod:`backend.audit.chain`), split around ``seq``, which
only the locked head knows. One round trip instead of three matters: every mutation audits,
and the lock is held for the rest of the caller's transaction.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from backend.audit.chain import GENESIS, NIL_CHAIN, canonical
from backend.authz.actor import Actor
from backend.db import engine_of, utcnow, uuid7
from backend.logging import log
from backend.models import AuditChainHead, AuditEvent

_SECRET_KEY = re.compile(r"pass|secret|token|authorization|api_?key|cookie|credential", re.I)
_LOCKED = "audit_locked_chains"
_DEFERRED = "audit_deferred_denials"
_pending: set[asyncio.Task[None]] = set()
MAX_SUMMARY_CHARS = 4000


def _clean(value: Any, depth: int = 0) -> Any:
    """Redacts secret-looking keys: services must not pass secrets, this is a second line."""
    if isinstance(value, dict):
        return {
            str(k): "[redacted]" if _SECRET_KEY.search(str(k)) else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    return value


def _summary(summary: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what is hashed is exactly what JSONB gives back.
    data: dict[str, Any] = json.loads(json.dumps(_clean(summary or {}), default=str).replace("\\u0000", ""))
    if len(json.dumps(data)) > MAX_SUMMARY_CHARS:
        data = {"truncated": True, "keys": sorted(data)[:50]}
    return data


def _cut(value: str | None, size: int) -> str | None:
    return value[:size] if value else value


_SEQ_MARK = -7_340_032_071  # stands in for seq in the canonical JSON, then split out
_COLUMNS = (
    "id, chain, seq, at, organization_id, actor_type, actor_id, action, resource_type, resource_id, "
    "outcome, client_addr, user_agent, request_id, summary, prev_hash, hash"
)


def append_ctes(when: str = "TRUE") -> str:
    """CTEs ``audit_head``, ``audit_moved``, ``audit_ev`` appending one event (params ``audit_*``).

    ``when`` is a SQL condition (e.g. that the caller's own CTE inserted its row): the chain is
    neither locked nor advanced unless it holds. Embedding these in a caller's statement audits
    its write in the same round trip (the chat hot path); :func:`record` uses them alone.
    """
    return f"""audit_head AS (
  SELECT last_seq, last_hash FROM audit_chain_heads WHERE chain = :audit_chain AND ({when}) FOR UPDATE
), audit_moved AS (
  UPDATE audit_chain_heads AS h
     SET last_seq = audit_head.last_seq + 1,
         last_hash = encode(sha256(convert_to(audit_head.last_hash || :audit_before
           || CAST(audit_head.last_seq + 1 AS text) || :audit_after, 'UTF8')), 'hex')
    FROM audit_head
   WHERE h.chain = :audit_chain
  RETURNING h.last_seq AS seq, h.last_hash AS hash, audit_head.last_hash AS prev_hash
), audit_ev AS (
  INSERT INTO audit_events ({_COLUMNS})
  SELECT :audit_id, :audit_chain, audit_moved.seq, :audit_at, :audit_organization_id, :audit_actor_type,
         :audit_actor_id, :audit_action, :audit_resource_type, :audit_resource_id, :audit_outcome,
         :audit_client_addr, :audit_user_agent, :audit_request_id, CAST(:audit_summary AS jsonb),
         audit_moved.prev_hash, audit_moved.hash
    FROM audit_moved
  RETURNING seq, prev_hash, hash
)"""


_APPEND = text(f"WITH {append_ctes()} SELECT seq, prev_hash, hash FROM audit_ev")


def event_fields(
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    summary: dict[str, Any] | None = None,
    outcome: str = "allowed",
) -> dict[str, Any]:
    """The stored fields of a new event, except its place in the chain (seq and hashes)."""
    fields: dict[str, Any] = {
        "id": uuid7(),
        "chain": organization_id or NIL_CHAIN,
        "at": utcnow(),
        "organization_id": organization_id,
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "action": action[:80],
        "resource_type": resource_type[:40],
        "resource_id": _cut(resource_id, 64),
        "outcome": outcome,
        "client_addr": _cut(actor.client_addr, 64),
        "user_agent": _cut(actor.user_agent, 400),
        "request_id": _cut(actor.request_id, 64),
        "summary": _summary(summary),
    }
    if actor.kind == "agent":
        fields["summary"] = {
            **fields["summary"],
            "onBehalfOf": str(actor.user_id),
            "runId": str(actor.run_id),
        }
    return fields


def append_params(fields: dict[str, Any]) -> dict[str, Any]:
    """Bind parameters of :func:`append_ctes` for ``fields`` (from :func:`event_fields`)."""
    before, mark, after = canonical({**fields, "seq": _SEQ_MARK}).partition(f'"seq":{_SEQ_MARK}')
    assert mark, "canonical JSON must contain the seq mark"
    params = {f"audit_{k}": v for k, v in fields.items()}
    params.update(
        audit_summary=json.dumps(fields["summary"]), audit_before=before + '"seq":', audit_after=after
    )
    return params


def mark_locked(session: AsyncSession, chain: uuid.UUID) -> None:
    """This transaction holds ``chain``'s head lock (denials are then written after it ends)."""
    session.info.setdefault(_LOCKED, set()).add(chain)


async def _append(session: AsyncSession, fields: dict[str, Any]) -> tuple[int, str, str]:
    """Lock the chain's head, advance it and insert the event: ``(seq, prev_hash, hash)``."""
    params = append_params(fields)
    row = (await session.execute(_APPEND, params)).first()
    if row is None:  # the chain's first event: create its head, then append
        await ensure_head(session, fields["chain"])
        row = (await session.execute(_APPEND, params)).one()
    mark_locked(session, fields["chain"])
    return int(row[0]), str(row[1]), str(row[2])


async def ensure_head(session: AsyncSession, chain: uuid.UUID) -> None:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    await session.execute(
        pg_insert(AuditChainHead)
        .values(chain=chain, last_seq=0, last_hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["chain"])
    )


async def record(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    summary: dict[str, Any] | None = None,
    outcome: str = "allowed",
) -> AuditEvent:
    """Append one event to the organisation's chain, in the caller's transaction.

    If this write fails, the caller's transaction fails with it: no unaudited change.
    """
    fields = event_fields(
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        organization_id=organization_id,
        summary=summary,
        outcome=outcome,
    )
    return await append_event(session, fields)


async def append_event(session: AsyncSession, fields: dict[str, Any]) -> AuditEvent:
    """Append an event built by :func:`event_fields` (what :func:`record` does after building it)."""
    seq, prev_hash, digest = await _append(session, fields)
    return AuditEvent(**fields, seq=seq, prev_hash=prev_hash, hash=digest)


async def record_denial(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    organization_id: uuid.UUID | None = None,
    reason: str = "forbidden",
    summary: dict[str, Any] | None = None,
) -> None:
    """Audit a denial in its own transaction, so it survives the caller's rollback.

    If the caller's transaction already holds this chain's lock (it recorded an event
    earlier), writing now would wait on ourselves: the denial is written right after the
    caller's transaction ends instead.
    """
    kwargs: dict[str, Any] = {
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "organization_id": organization_id,
        "summary": {**(summary or {}), "reason": reason},
        "outcome": "denied",
    }
    engine = engine_of(session)
    if (organization_id or NIL_CHAIN) in session.info.get(_LOCKED, ()):
        _defer(session, engine, actor, kwargs)
        return
    await _write_denial(engine, actor, kwargs)


async def _write_denial(engine: AsyncEngine, actor: Actor, kwargs: dict[str, Any]) -> None:
    try:
        async with AsyncSession(engine, expire_on_commit=False) as own, own.begin():
            await own.execute(text("SET LOCAL lock_timeout = '5s'"))
            await record(own, actor, **kwargs)
    except Exception:  # the request is refused either way; never mask the denial itself
        log.exception("audit.denial_write_failed", action=kwargs["action"])


def _defer(session: AsyncSession, engine: AsyncEngine, actor: Actor, kwargs: dict[str, Any]) -> None:
    deferred: list[tuple[Actor, dict[str, Any]]] = session.info.setdefault(_DEFERRED, [])
    deferred.append((actor, kwargs))
    if len(deferred) > 1:
        return

    def flush(_session: Session) -> None:
        items = list(session.info.pop(_DEFERRED, []))
        session.info.pop(_LOCKED, None)

        async def write() -> None:
            for who, item in items:
                await _write_denial(engine, who, item)

        task = asyncio.get_running_loop().create_task(write())
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    sync = session.sync_session
    event.listen(sync, "after_commit", flush, once=True)
    event.listen(sync, "after_rollback", flush, once=True)


async def drain_deferred() -> None:
    """Wait for deferred denial writes (tests, shutdown)."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


def _forget_locks(session: Session, *_: Any) -> None:
    session.info.pop(_LOCKED, None)


event.listen(Session, "after_commit", _forget_locks)
event.listen(Session, "after_soft_rollback", _forget_locks)
