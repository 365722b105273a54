"""The crypto primitives behind crypto-shredding, without a store: sealing an
applicant round trips; the wrong key, a changed byte or another case fails;
wrapped keys are bound to their row; the keyed hash is stable per key."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from infra import crypto
from services.submission.examples import EXAMPLE_PERSONNUMMER

APPLICANT = {"personnummer": EXAMPLE_PERSONNUMMER, "name": "Quentin Quokkasson"}
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def sealed(case_id: str = "c-1", key: bytes = KEY) -> dict[str, Any]:
    return crypto.encrypt_applicant(key, "k" * 32, case_id, APPLICANT)


def flip_a_bit(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_an_applicant_round_trips() -> None:
    assert crypto.decrypt_applicant(KEY, sealed(), "c-1") == APPLICANT


def test_the_stored_form_holds_nothing_in_clear() -> None:
    stored = sealed()
    assert set(stored) == {"v", "alg", "key_id", "nonce", "ciphertext"}
    assert stored["alg"] == "AES-256-GCM"
    text = json.dumps(stored)
    assert EXAMPLE_PERSONNUMMER[:8] not in text
    assert "Quokkasson" not in text


def test_the_ciphertext_does_not_tell_the_name_length() -> None:
    short = crypto.encrypt_applicant(KEY, "k", "c", {"personnummer": "x", "name": "A"})
    longer = crypto.encrypt_applicant(
        KEY, "k", "c", {"personnummer": "x", "name": "A" * 30}
    )
    assert len(short["ciphertext"]) == len(longer["ciphertext"])


def test_each_sealing_uses_a_fresh_nonce() -> None:
    first, second = sealed(), sealed()
    assert first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def test_the_wrong_key_fails() -> None:
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(OTHER_KEY, sealed(), "c-1")


@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_a_tampered_byte_fails(field: str) -> None:
    stored = sealed()
    stored[field] = flip_a_bit(stored[field])
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(KEY, stored, "c-1")


def test_a_truncated_or_garbled_ciphertext_fails() -> None:
    stored = sealed()
    for broken in (stored["ciphertext"][:-8], "not base64!", 42):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_applicant(KEY, stored | {"ciphertext": broken}, "c-1")


def test_the_ciphertext_is_bound_to_its_case() -> None:
    """Copied into another case's filing, the applicant does not open."""
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(KEY, sealed("c-1"), "c-2")


@pytest.mark.parametrize(
    ("field", "value"), [("key_id", "j" * 32), ("alg", "AES-128-GCM"), ("v", 2)]
)
def test_the_ciphertext_is_bound_to_its_header(field: str, value: Any) -> None:
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(KEY, sealed() | {field: value}, "c-1")


def test_a_wrapped_key_round_trips_only_in_its_context() -> None:
    data_key = crypto.new_key()
    wrapped = crypto.wrap_key(KEY, data_key, "row-1")
    assert crypto.unwrap_key(KEY, wrapped, "row-1") == data_key
    assert data_key not in base64.b64decode(wrapped)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unwrap_key(KEY, wrapped, "row-2")  # moved to another row
    with pytest.raises(crypto.DecryptionFailed):
        crypto.unwrap_key(OTHER_KEY, wrapped, "row-1")  # another master key


def test_the_keyed_hash_is_stable_and_depends_on_the_key() -> None:
    first = crypto.keyed_hash(KEY, EXAMPLE_PERSONNUMMER)
    assert first == crypto.keyed_hash(KEY, EXAMPLE_PERSONNUMMER)
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != crypto.keyed_hash(OTHER_KEY, EXAMPLE_PERSONNUMMER)
    assert first != crypto.keyed_hash(KEY, "19850317-1244")
    assert EXAMPLE_PERSONNUMMER.replace("-", "") not in first


def test_the_master_key_fingerprint_names_but_does_not_reveal_it() -> None:
    assert crypto.key_fingerprint(KEY) == crypto.key_fingerprint(KEY)
    assert crypto.key_fingerprint(KEY) != crypto.key_fingerprint(OTHER_KEY)
    assert KEY.hex()[:16] != crypto.key_fingerprint(KEY)


def test_fresh_keys_and_key_ids_are_random() -> None:
    assert len(crypto.new_key()) == 32
    assert crypto.new_key() != crypto.new_key()
    assert crypto.new_key_id() != crypto.new_key_id()


def test_is_sealed_tells_encrypted_from_clear() -> None:
    assert crypto.is_sealed(sealed())
    assert not crypto.is_sealed(APPLICANT)
    assert not crypto.is_sealed(None)
