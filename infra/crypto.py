"""Encrypting an applicant's personal data; pure functions, no I/O.

Each person has a data key (AES-256). Their ``personnummer`` and ``name`` are
sealed under it with AES-256-GCM; the associated data binds the ciphertext to
its case and key, so it cannot be moved to another case unnoticed. The data
key is stored only wrapped (AES-256-GCM again) by the installation's master
key, bound to its key id and person reference. The key table is indexed by a
keyed hash (HMAC-SHA-256) of the personnummer under a separate index key.

The stored applicant, in the filing event::

    {"v": 1, "alg": "AES-256-GCM", "key_id": "<32 hex>",
     "nonce": "<base64, 12 bytes>", "ciphertext": "<base64>"}

The plaintext is the JSON ``{"personnummer": ..., "name": ...}``, padded with
spaces to a multiple of ``PAD_BYTES`` so the ciphertext's length does not
tell a name's length.

A free-text note (``delay_reason_recorded``, ``follow_up_recorded``) is
stored in the same form under the same person's key; its plaintext is
``{"note": ...}`` and its associated data also binds ``"field": "note"``.
Erasing the key makes the notes unreadable with the personnummer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALG = "AES-256-GCM"
FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
PAD_BYTES = 64


class DecryptionFailed(ValueError):
    """Wrong key, or the ciphertext or its associated data was changed."""


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return secrets.token_bytes(KEY_BYTES)


def new_key_id() -> str:
    """A fresh random key id: 128 bits, hex; says nothing about the person."""
    return secrets.token_hex(16)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> tuple[bytes, bytes]:
    """``(nonce, ciphertext)``: AES-256-GCM with a fresh random nonce."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(
    key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes
) -> bytes:
    """The plaintext of :func:`seal`; raises :class:`DecryptionFailed`."""
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated_data)
    except (InvalidTag, ValueError):
        raise DecryptionFailed("wrong key, or tampered ciphertext") from None


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA-256 of ``text`` under ``key``, hex: a stable reference that
    nobody without the key can compute (or test guesses against)."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes) -> str:
    """Names a master key in the rows it wrapped, without revealing it."""
    return keyed_hash(key, "boende master key id")[:16]


def wrap_key(master: bytes, data_key: bytes, context: str) -> str:
    """``data_key`` sealed by ``master``, bound to ``context``; base64 text."""
    nonce, sealed = seal(master, data_key, context.encode())
    return _b64(nonce + sealed)


def unwrap_key(master: bytes, wrapped: str, context: str) -> bytes:
    """The data key of :func:`wrap_key`; raises :class:`DecryptionFailed`."""
    raw = _unb64(wrapped)
    return open_sealed(master, raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())


def encrypt_applicant(
    data_key: bytes, key_id: str, case_id: str, applicant: dict[str, Any]
) -> dict[str, Any]:
    """The stored form of ``applicant`` (``personnummer``, ``name``)."""
    plaintext = json.dumps(applicant, ensure_ascii=False, sort_keys=True).encode()
    plaintext += b" " * (-len(plaintext) % PAD_BYTES)
    header: dict[str, Any] = {"v": FORMAT_VERSION, "alg": ALG, "key_id": key_id}
    nonce, ciphertext = seal(data_key, plaintext, associated_data(header, case_id))
    return header | {"nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}


def decrypt_applicant(
    data_key: bytes, stored: dict[str, Any], case_id: str
) -> dict[str, Any]:
    """The applicant of :func:`encrypt_applicant`, if ``stored`` belongs to
    ``case_id`` and is unchanged; raises :class:`DecryptionFailed`."""
    try:
        nonce, ciphertext = _unb64(stored["nonce"]), _unb64(stored["ciphertext"])
    except (KeyError, TypeError) as error:
        raise DecryptionFailed(f"not a sealed applicant: {error}") from None
    plaintext = open_sealed(
        data_key, nonce, ciphertext, associated_data(stored, case_id)
    )
    applicant: dict[str, Any] = json.loads(plaintext)
    return applicant


def encrypt_note(
    data_key: bytes, key_id: str, case_id: str, note: str
) -> dict[str, Any]:
    """The stored form of a free-text note of ``case_id`` (sealed like an
    applicant, but bound to ``field: note``, so neither passes for the other)."""
    plaintext = json.dumps({"note": note}, ensure_ascii=False).encode()
    plaintext += b" " * (-len(plaintext) % PAD_BYTES)
    header: dict[str, Any] = {"v": FORMAT_VERSION, "alg": ALG, "key_id": key_id}
    nonce, ciphertext = seal(data_key, plaintext, _note_data(header, case_id))
    return header | {"nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}


def decrypt_note(data_key: bytes, stored: dict[str, Any], case_id: str) -> str:
    """The note of :func:`encrypt_note`; raises :class:`DecryptionFailed`."""
    try:
        nonce, ciphertext = _unb64(stored["nonce"]), _unb64(stored["ciphertext"])
    except (KeyError, TypeError) as error:
        raise DecryptionFailed(f"not a sealed note: {error}") from None
    plaintext = open_sealed(data_key, nonce, ciphertext, _note_data(stored, case_id))
    note: str = json.loads(plaintext)["note"]
    return note


def _note_data(header: dict[str, Any], case_id: str) -> bytes:
    bound = json.loads(associated_data(header, case_id)) | {"field": "note"}
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def is_sealed(stored: Any) -> bool:
    """Whether ``stored`` is an encrypted applicant (not one kept in clear)."""
    return isinstance(stored, dict) and "ciphertext" in stored and "key_id" in stored


def associated_data(header: dict[str, Any], case_id: str) -> bytes:
    """What the ciphertext is bound to: its case, key, algorithm and version."""
    bound = {
        "v": header.get("v"),
        "alg": header.get("alg"),
        "key_id": header.get("key_id"),
        "case_id": case_id,
    }
    return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed("not base64") from None
