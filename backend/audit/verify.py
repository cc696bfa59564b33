"""Re-computing the hash chains: finds the first altered, inserted or removed event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.chain import GENESIS, event_hash, row_fields
from backend.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainBreak:
    chain: uuid.UUID
    seq: int
    event_id: uuid.UUID | None
    reason: str

    def describe(self) -> str:
        where = f"event {self.event_id} (chain {self.chain}, seq {self.seq})"
        return (
            f"{where}: {self.reason}"
            if self.event_id
            else f"chain {self.chain} after seq {self.seq}: {self.reason}"
        )


async def verify_chain(session: AsyncSession, organization_id: uuid.UUID | None = None) -> ChainBreak | None:
    """The first broken event of one organisation's chain (or of every chain), else ``None``.

    Streams the events in chain order, so memory stays flat on big logs.
    """
    heads_q = select(AuditChainHead)
    events_q = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
    if organization_id is not None:
        heads_q = heads_q.where(AuditChainHead.chain == organization_id)
        events_q = events_q.where(AuditEvent.chain == organization_id)
    heads = {h.chain: (h.last_seq, h.last_hash) for h in (await session.scalars(heads_q)).all()}
    seen: set[uuid.UUID] = set()
    chain: uuid.UUID | None = None
    seq, prev = 0, GENESIS
    async for event in await session.stream_scalars(events_q.execution_options(yield_per=1000)):
        if event.chain != chain:
            if chain is not None and (broken := _check_head(chain, seq, prev, heads)):
                return broken
            chain, seq, prev = event.chain, 0, GENESIS
            seen.add(chain)
        if event.seq != seq + 1:
            return ChainBreak(
                event.chain, event.seq, event.id, f"sequence gap: expected {seq + 1} (event removed)"
            )
        if event.prev_hash != prev:
            return ChainBreak(
                event.chain, event.seq, event.id, "previous hash does not match (event removed or altered)"
            )
        if event_hash(prev, row_fields(event)) != event.hash:
            return ChainBreak(
                event.chain, event.seq, event.id, "content does not match its hash (event altered)"
            )
        seq, prev = event.seq, event.hash
    if chain is not None and (broken := _check_head(chain, seq, prev, heads)):
        return broken
    for missing in sorted(set(heads) - seen):
        if heads[missing][0] > 0:
            return ChainBreak(missing, 0, None, f"all {heads[missing][0]} events are missing")
    return None


def _check_head(
    chain: uuid.UUID, seq: int, prev: str, heads: dict[uuid.UUID, tuple[int, str]]
) -> ChainBreak | None:
    head = heads.get(chain)
    if head is None:
        return ChainBreak(chain, seq, None, "chain has no head record")
    if head != (seq, prev):
        return ChainBreak(chain, seq, None, f"events after seq {seq} are missing (head is at {head[0]})")
    return None
