"""Per-installation secrets kept under the data dir.

The pseudonym key turns a case id into a stable pseudonymous reference for
reports (the three-month rule's lists): the same case always gets the same
reference in this installation, and nobody without the key can go from a
reference back to a case id — except by computing the reference of every case
id they already hold, which is how the municipality finds its own cases.

The key is made on first use (32 random bytes, raw: no comment lines) into
``<data_dir>/keys/`` (directory 0700, file 0600, by ``infra.keyfiles``) and
only read afterwards. Losing or replacing it changes every reference, so back
it up with the data dir; API replicas on several machines must share the same
file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from infra import keyfiles

KEY_BYTES = 32
REFERENCE_HEX_CHARS = 16


class KeyFileError(keyfiles.KeyFileError):
    """The key file exists but does not hold a key: never silently replace it."""


def pseudonym_key(data_dir: Path) -> bytes:
    """The installation's pseudonym key, created on first use."""
    path = data_dir / "keys" / "pseudonym.key"
    if not path.exists():
        keyfiles.create_once(path, secrets.token_bytes(KEY_BYTES))
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte key")
    return key


def pseudonym(key: bytes, case_id: str) -> str:
    """A case's pseudonymous reference: HMAC-SHA-256 of its id, 16 hex chars."""
    digest = hmac.new(key, case_id.encode(), hashlib.sha256).hexdigest()
    return digest[:REFERENCE_HEX_CHARS]
