"""Encryption of integration secrets: AES-256-GCM, one derived key per key generation.

Data keys are derived from the master secret (``settings.secret()``) with HKDF-SHA256 and the
key id as ``info``; only generation numbers are stored (``integration_keys``). Each envelope names
its key id, so old ciphertexts stay readable after a rotation until they are re-encrypted. The
organisation id is the associated data: a ciphertext copied to another organisation's row fails
authentication. Error messages never include plaintext.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENVELOPE_VERSION = 1
_SALT = b"agentry/integration-secrets"


class SecretsUnavailable(Exception):
    """The stored secrets cannot be decrypted (wrong organisation, unknown key, tampering)."""


def kid_for(generation: int) -> str:
    return f"k{generation}"


def generation_of(kid: str) -> int:
    if not kid.startswith("k") or not kid[1:].isdigit():
        raise SecretsUnavailable(f"unknown key id {kid!r}")
    return int(kid[1:])


@lru_cache(maxsize=64)
def _derive(master: bytes, kid: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=kid.encode()).derive(master)


def _aad(organization_id: uuid.UUID) -> bytes:
    return b"agentry/integration-secrets/v1/org:" + organization_id.bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class KeyRing:
    """The master secret plus the generation that encrypts new secrets."""

    master: bytes
    current_generation: int = 1

    @property
    def current_kid(self) -> str:
        return kid_for(self.current_generation)

    def encrypt(self, organization_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
        """An envelope ``{v, kid, nonce, ct, fields}``; ``fields`` (names only) stays readable."""
        nonce = os.urandom(12)
        plaintext = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
        key = _derive(self.master, self.current_kid)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(organization_id))
        return {
            "v": ENVELOPE_VERSION,
            "kid": self.current_kid,
            "nonce": _b64(nonce),
            "ct": _b64(ciphertext),
            "fields": sorted(k for k, v in values.items() if v is not None),
        }

    def decrypt(self, organization_id: uuid.UUID, envelope: dict[str, Any] | None) -> dict[str, Any]:
        if not envelope:
            return {}
        try:
            kid = str(envelope["kid"])
            generation_of(kid)
            nonce = base64.b64decode(envelope["nonce"])
            ciphertext = base64.b64decode(envelope["ct"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SecretsUnavailable("malformed secrets envelope") from exc
        try:
            plaintext = AESGCM(_derive(self.master, kid)).decrypt(nonce, ciphertext, _aad(organization_id))
        except InvalidTag:
            raise SecretsUnavailable(
                "secrets cannot be decrypted (wrong organisation, changed master secret or tampering)"
            ) from None
        values: dict[str, Any] = json.loads(plaintext)
        return values

    def needs_rotation(self, envelope: dict[str, Any] | None) -> bool:
        return bool(envelope) and envelope.get("kid") != self.current_kid  # type: ignore[union-attr]


def secret_fields(envelope: dict[str, Any] | None) -> list[str]:
    """Which secret fields are set, without decrypting."""
    return list((envelope or {}).get("fields") or [])
