"""The stored applicant's format is a contract with every sealed row already
written: the associated data and the plaintext are pinned byte for byte, and
every refusal says what failed (mutants of ``infra/crypto.py``)."""

from __future__ import annotations

import pytest

from infra import crypto

KEY = bytes(range(32))
APPLICANT = {"personnummer": "19900101-0017", "name": "Åsa Öberg"}


def test_the_associated_data_is_pinned() -> None:
    header = {"v": 1, "alg": crypto.ALG, "key_id": "k-1"}
    assert crypto.associated_data(header, "c-1") == (
        b'{"alg":"AES-256-GCM","case_id":"c-1","key_id":"k-1","v":1}'
    )


def test_the_plaintext_is_sorted_utf8_json_padded_with_spaces() -> None:
    stored = crypto.encrypt_applicant(KEY, "k-1", "c-1", APPLICANT)
    plaintext = crypto.open_sealed(
        KEY,
        crypto._unb64(stored["nonce"]),
        crypto._unb64(stored["ciphertext"]),
        crypto.associated_data(stored, "c-1"),
    )
    text = '{"name": "Åsa Öberg", "personnummer": "19900101-0017"}'
    body = text.encode()
    assert plaintext == body + b" " * (crypto.PAD_BYTES - len(body))


def test_a_key_id_is_32_hex_digits() -> None:
    key_id = crypto.new_key_id()
    assert len(key_id) == 32 and int(key_id, 16) >= 0


def test_the_wrong_key_is_refused_by_name() -> None:
    stored = crypto.encrypt_applicant(KEY, "k-1", "c-1", APPLICANT)
    with pytest.raises(crypto.DecryptionFailed) as refusal:
        crypto.decrypt_applicant(bytes(32), stored, "c-1")
    assert str(refusal.value) == "wrong key, or tampered ciphertext"


def test_a_row_that_is_no_sealed_applicant_is_refused_by_name() -> None:
    with pytest.raises(crypto.DecryptionFailed) as refusal:
        crypto.decrypt_applicant(KEY, {"ciphertext": "AAAA"}, "c-1")
    assert str(refusal.value) == "not a sealed applicant: 'nonce'"


def test_a_wrapped_key_with_a_stray_character_is_refused() -> None:
    wrapped = crypto.wrap_key(KEY, bytes(32), "person-1")
    assert crypto.unwrap_key(KEY, wrapped, "person-1") == bytes(32)
    with pytest.raises(crypto.DecryptionFailed) as refusal:
        crypto.unwrap_key(KEY, wrapped[:8] + "!" + wrapped[8:], "person-1")
    assert str(refusal.value) == "not base64"


def test_a_master_keys_fingerprint_is_pinned() -> None:
    """Rows wrapped under a master key name it by this fingerprint: the same
    key must give the same 16 hex digits in every version."""
    assert crypto.key_fingerprint(bytes(32)) == "db5b82b94483fffe"
    assert crypto.key_fingerprint(bytes(range(32))) == "2355577bd3c5d2f3"


# -- notes: sealed like an applicant, bound to ``field: note`` ------------------------


def test_a_notes_associated_data_is_pinned() -> None:
    header = {"v": 1, "alg": crypto.ALG, "key_id": "k-1"}
    assert crypto._note_data(header, "c-1") == (
        b'{"alg":"AES-256-GCM","case_id":"c-1","field":"note","key_id":"k-1","v":1}'
    )


def test_a_note_is_padded_utf8_json_and_opens_with_its_case_and_key() -> None:
    stored = crypto.encrypt_note(KEY, "k-1", "c-1", "Tackade nej — för långt")
    assert set(stored) == {"v", "alg", "key_id", "nonce", "ciphertext"}
    assert (stored["v"], stored["alg"], stored["key_id"]) == (1, crypto.ALG, "k-1")
    plaintext = crypto.open_sealed(
        KEY,
        crypto._unb64(stored["nonce"]),
        crypto._unb64(stored["ciphertext"]),
        crypto._note_data(stored, "c-1"),
    )
    body = '{"note": "Tackade nej — för långt"}'.encode()
    assert plaintext == body + b" " * (crypto.PAD_BYTES - len(body))
    assert crypto.decrypt_note(KEY, stored, "c-1") == "Tackade nej — för långt"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_note(KEY, stored, "c-2")  # moved to another case
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_note(bytes(32), stored, "c-1")


def test_a_note_and_an_applicant_never_pass_for_each_other() -> None:
    note = crypto.encrypt_note(KEY, "k-1", "c-1", "x")
    applicant = crypto.encrypt_applicant(KEY, "k-1", "c-1", APPLICANT)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(KEY, note, "c-1")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_note(KEY, applicant, "c-1")


def test_a_row_that_is_no_sealed_note_is_refused_by_name() -> None:
    with pytest.raises(crypto.DecryptionFailed) as refusal:
        crypto.decrypt_note(KEY, {"ciphertext": "AAAA"}, "c-1")
    assert str(refusal.value) == "not a sealed note: 'nonce'"
    with pytest.raises(crypto.DecryptionFailed) as refusal:
        crypto.decrypt_note(KEY, {"nonce": None, "ciphertext": "AAAA"}, "c-1")
    assert str(refusal.value).startswith("not a sealed note: ")
