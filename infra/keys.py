"""Per-installation secrets kept under the data dir.

The pseudonym key turns a case id into a stable pseudonymous reference for
reports (the three-month rule's lists): the same case always gets the same
reference in this installation, and nobody without the key can go from a
reference back to a case id — except by computing the reference of every case
id they already hold, which is how the municipality finds its own cases.

The key is made on first use (32 random bytes in base64, after a line that
says which environment made it) into ``<data_dir>/keys/`` (directory 0700,
file 0600, by ``infra.keyfiles``) and only read afterwards; production
refuses one a development process made, like every other key. Losing or
replacing it changes every reference, so back it up with the data dir; API
replicas on several machines must share the same file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from pathlib import Path

from infra import keyfiles

KEY_BYTES = 32
REFERENCE_HEX_CHARS = 16


class KeyFileError(keyfiles.KeyFileError):
    """The key file exists but does not hold a key: never silently replace it."""


class DevelopmentKeyRefused(KeyFileError, keyfiles.DevelopmentKeyRefused):
    """Production found a pseudonym key that a development process made."""


_REFUSAL = (
    "cannot make the municipality's report references in production: "
    "provision a production key there (or remove the file so production "
    "generates its own; every reference changes then)"
)


def pseudonym_key(data_dir: Path, environment: str = "development") -> bytes:
    """The installation's pseudonym key, created on first use (marked with
    the ``environment`` that made it); production refuses a development key."""
    path = pseudonym_key_path(data_dir)
    if not path.exists():
        keyfiles.create_once(path, _new_key_file(environment))
    return read_pseudonym_key(path, environment)


def ivo_key(data_dir: Path, environment: str = "development") -> bytes:
    """The installation's IVO key: keys the hash that gives each person the
    three digits of their IVO id (``services.privacy.ivo``). Made, kept and
    refused like the pseudonym key; a new key changes every IVO id, which
    IVO matches re-reports by: back it up with the data dir."""
    path = ivo_key_path(data_dir)
    if not path.exists():
        keyfiles.create_once(path, _new_key_file(environment, _IVO_PURPOSE))
    return read_pseudonym_key(path, environment)


def ivo_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "ivo.key"


def pseudonym_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "pseudonym.key"


def check_pseudonym_key(data_dir: Path, environment: str) -> None:
    """Refuse, at start, a development pseudonym or IVO key in production
    (rather than at the first report); makes nothing when there is none."""
    for path in (pseudonym_key_path(data_dir), ivo_key_path(data_dir)):
        if path.exists():
            read_pseudonym_key(path, environment)


def read_pseudonym_key(path: Path, environment: str = "development") -> bytes:
    """The key at ``path``, which must exist: a text key file (an origin
    line and the key in base64, as ``infra.keyfiles`` writes them), or 32
    raw bytes (the first format, which carries no origin and so counts as
    provisioned). :class:`KeyFileError` if it is not a key;
    :class:`DevelopmentKeyRefused` for a development key in production."""
    raw = path.read_bytes()
    if len(raw) == KEY_BYTES:
        return raw
    text = keyfiles.load(
        path, environment, refusal=_REFUSAL, refused=DevelopmentKeyRefused
    )
    try:
        key = base64.b64decode("".join(text.body.split()), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} holds no base64 {KEY_BYTES}-byte key")
    return key


_PSEUDONYM_PURPOSE = "pseudonym key (HMAC-SHA-256 of case ids for reports)"
_IVO_PURPOSE = "IVO key (HMAC-SHA-256: the digits of IVO ids)"


def _new_key_file(origin: str, purpose: str = _PSEUDONYM_PURPOSE) -> bytes:
    text = (
        f"# Boende {purpose}, 32 bytes\n"
        "# in base64. Private; back it up with the data dir: a new key changes\n"
        "# every reference.\n"
        + keyfiles.origin_line(origin)
        + f"{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"
    )
    return text.encode("ascii")


def pseudonym(key: bytes, case_id: str) -> str:
    """A case's pseudonymous reference: HMAC-SHA-256 of its id, 16 hex chars."""
    digest = hmac.new(key, case_id.encode(), hashlib.sha256).hexdigest()
    return digest[:REFERENCE_HEX_CHARS]
