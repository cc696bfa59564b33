"""The audit log: append-only, hash-chained per organisation, verifiable and exportable."""

from backend.audit.chain import NIL_CHAIN, canonical, event_hash
from backend.audit.export import export_jsonl
from backend.audit.service import drain_deferred, record, record_denial
from backend.audit.verify import ChainBreak, verify_chain

__all__ = [
    "NIL_CHAIN",
    "ChainBreak",
    "canonical",
    "drain_deferred",
    "event_hash",
    "export_jsonl",
    "record",
    "record_denial",
    "verify_chain",
]
