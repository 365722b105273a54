"""Per-installation secrets kept under the data dir.

The pseudonym key turns a case id into a stable pseudonymous reference for
reports (the three-month rule's lists): the same case always gets the same
reference in this installation, and nobody without the key can go from a
reference back to a case id — except by computing the reference of every case
id they already hold, which is how the municipality finds its own cases.

The key is made on first use (32 random bytes) into ``<data_dir>/keys/``
(directory 0700, file 0600) and only read afterwards. Losing or replacing it
changes every reference, so back it up with the data dir; API replicas on
several machines must share the same file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
REFERENCE_HEX_CHARS = 16


class KeyFileError(RuntimeError):
    """The key file exists but does not hold a key: never silently replace it."""


def pseudonym_key(data_dir: Path) -> bytes:
    """The installation's pseudonym key, created on first use."""
    path = data_dir / "keys" / "pseudonym.key"
    if not path.exists():
        _create(path)
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte key")
    return key


def pseudonym(key: bytes, case_id: str) -> str:
    """A case's pseudonymous reference: HMAC-SHA-256 of its id, 16 hex chars."""
    digest = hmac.new(key, case_id.encode(), hashlib.sha256).hexdigest()
    return digest[:REFERENCE_HEX_CHARS]


def _create(path: Path) -> None:
    """Write a fresh key so that a racing process either wins or reads ours.

    The key goes to a private temporary file first and is then hard-linked to
    its name, which fails if another process got there first: nobody ever
    reads a half-written key, and the first key written is the one kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first; use theirs
    finally:
        temporary.unlink(missing_ok=True)
