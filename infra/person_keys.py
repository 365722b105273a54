"""Per-person data keys: the key files, the key table, sealing applicants.

Two secrets, each made on first use under ``<data_dir>/keys/`` (directory
0700, file 0600) unless ``BOENDE_MASTER_KEY_PATH`` names the master key (the
index key then lives beside it):

- ``master.key`` wraps every person's data key;
- ``person_index.key`` keys the HMAC that indexes the key table.

A key file is comment lines and one base64 line of 32 bytes. A file written
by a development process says ``# generated-by: development``; production
refuses it (:class:`DevelopmentKeyRefused`). Losing the master key loses every
name and personnummer: back it up, apart from the database, and give API
replicas on several machines the same files.

The key table (``infra.person_key_table``) has one row per person: the keyed
hash of the canonical personnummer, a random ``key_id``, the wrapped key and
the master key's fingerprint. Deleting the row is the erasure: every
ciphertext under that key becomes unreadable (crypto-shredding). Nothing else
links a ``key_id`` in the log to a personnummer, so once the row is gone
nobody can tell whose it was.

A batch of filings seals through one :class:`KeyBatch`: one query for the
keys its persons have, one transaction for the keys of those who have none
(and to mark the existing keys it sealed under as used), committed before
the batch's events, so a key is durable before any ciphertext under it is
stored. A note on a case (``KeyBatch.seal_note``) is sealed under the key
its applicant was sealed under, marked used like it; for an applicant
recorded in clear, under the key of that person, made if they have none. A
key whose events then fail to save is left with no ciphertext
under it; the retention purge deletes it after a grace period
(``services.privacy.rights.purge``), unless a batch has used it since.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eventsourcing.persistence import IntegrityError

from infra import crypto, keyfiles
from infra.person_key_table import KeyRow, KeyTable
from infra.settings import Settings

INDEX_KEY_NAME = "person_index.key"


class PersonKeyError(RuntimeError):
    """A key file exists but cannot be used: never silently replace it."""


class DevelopmentKeyRefused(PersonKeyError, keyfiles.DevelopmentKeyRefused):
    """Production was started with a key that a development process made."""


# -- key files -----------------------------------------------------------------


_REFUSAL = (
    "cannot hold personal data in production: provision a production key "
    "there (or remove the file so production generates its own)"
)


def key_paths(settings: Settings) -> tuple[Path, Path]:
    """Where the master key and the index key live."""
    master = settings.master_key_path or settings.data_dir / "keys/master.key"
    return master, master.with_name(INDEX_KEY_NAME)


def load_or_create_key(path: Path, environment: str, purpose: str) -> bytes:
    """The 32-byte key at ``path``, made on first use; production refuses a
    key that a development process generated."""
    key = keyfiles.load_or_create(
        path,
        environment,
        lambda origin: _new_key_file(purpose, origin),
        refusal=_REFUSAL,
        refused=DevelopmentKeyRefused,
    )
    return _key_bytes(key)


def load_key(path: Path, environment: str) -> str:
    """Check the key at ``path``, which must exist, as
    :func:`load_or_create_key` does, making nothing; what made it."""
    key = keyfiles.load(
        path, environment, refusal=_REFUSAL, refused=DevelopmentKeyRefused
    )
    _key_bytes(key)
    return key.origin


def read_key_file(path: Path) -> tuple[str, bytes]:
    """``(origin, key)``; origin ``provisioned`` when no comment says."""
    key = keyfiles.read(path)
    return key.origin, _key_bytes(key)


def _key_bytes(key: keyfiles.KeyText) -> bytes:
    try:
        raw = base64.b64decode("".join(key.body.split()), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != crypto.KEY_BYTES:
        raise PersonKeyError(f"{key.path} holds no base64 {crypto.KEY_BYTES}-byte key")
    return raw


def _new_key_file(purpose: str, origin: str) -> bytes:
    text = (
        f"# Boende {purpose}, 32 bytes in base64. Private: never commit or\n"
        "# share it; back it up apart from the database.\n"
        + keyfiles.origin_line(origin)
        + f"{base64.b64encode(crypto.new_key()).decode()}\n"
    )
    return text.encode("ascii")


# -- sealing and opening applicants and their notes ----------------------------------


class PersonKeys:
    """Seals applicants under their person's data key, opens them while the
    key exists, and erases keys."""

    def __init__(self, master: bytes, index: bytes, table: KeyTable) -> None:
        self._master = master
        self._index = index
        self.master_key_id = crypto.key_fingerprint(master)
        self.table = table

    @classmethod
    def open(cls, settings: Settings) -> PersonKeys:
        """The key files and key table of ``settings`` (made on first use)."""
        master_path, index_path = key_paths(settings)
        env = settings.environment
        master = load_or_create_key(master_path, env, "master key (AES-256)")
        index = load_or_create_key(index_path, env, "index key (HMAC-SHA-256)")
        return cls(master, index, KeyTable(settings))

    def person_ref(self, personnummer: str) -> str:
        """The key table's index of a canonical (``YYYYMMDD-NNNN``) number."""
        return crypto.keyed_hash(self._index, personnummer)

    def batch(self, personnummers: Iterable[str]) -> KeyBatch:
        """The data keys one batch of filings seals under, the existing keys
        of these (canonical) numbers' persons looked up in one query."""
        return KeyBatch(self).look_up(personnummers)

    def decrypt_applicant(
        self, stored: dict[str, Any], case_id: str
    ) -> dict[str, Any] | None:
        """``{"personnummer", "name"}`` of ``case_id``'s stored applicant, or
        ``None`` once the key is erased. A tampered or misplaced ciphertext
        raises ``crypto.DecryptionFailed``. An applicant recorded in clear
        (before encryption) is returned as it is."""
        if not crypto.is_sealed(stored):
            return {"personnummer": stored["personnummer"], "name": stored.get("name")}
        row = self.table.by_key_id(stored["key_id"])
        if row is None:
            return None
        return crypto.decrypt_applicant(self._unwrap(row), stored, case_id)

    def decrypt_note(self, stored: Any, case_id: str) -> str | None:
        """A note of ``case_id`` as stored: a sealed one opened while its key
        exists (``None`` once erased), one recorded in clear (before notes
        were sealed) as it is."""
        if not crypto.is_sealed(stored):
            return stored if isinstance(stored, str) else None
        row = self.table.by_key_id(stored["key_id"])
        if row is None:
            return None
        return crypto.decrypt_note(self._unwrap(row), stored, case_id)

    def key_id_of(self, personnummer: str) -> str | None:
        """The person's current key id, if they have a key."""
        row = self.table.by_person(self.person_ref(personnummer))
        return row.key_id if row else None

    def erase(self, key_ids: Iterable[str]) -> set[str]:
        """Delete the data keys ``key_ids``; the ones that were deleted."""
        return self.table.delete(key_ids)

    def close(self) -> None:
        self.table.close()

    def new_key_row(self, person_ref: str) -> KeyRow:
        """A fresh data key for the person, wrapped: not stored yet."""
        key_id = crypto.new_key_id()
        context = _context(key_id, person_ref)
        wrapped = crypto.wrap_key(self._master, crypto.new_key(), context)
        return KeyRow(person_ref, key_id, wrapped, self.master_key_id)

    def seal_under(
        self, row: KeyRow, case_id: str, personnummer: str, name: str | None
    ) -> dict[str, Any]:
        """The stored form of the applicant of ``case_id`` under ``row``'s key
        (which must be durable before it is saved: ``KeyBatch``)."""
        applicant = {"personnummer": personnummer, "name": name}
        return crypto.encrypt_applicant(
            self._unwrap(row), row.key_id, case_id, applicant
        )

    def seal_note_under(self, row: KeyRow, case_id: str, note: str) -> dict[str, Any]:
        """The stored form of a note of ``case_id`` under ``row``'s key."""
        return crypto.encrypt_note(self._unwrap(row), row.key_id, case_id, note)

    def _unwrap(self, row: KeyRow) -> bytes:
        if row.master_key_id != self.master_key_id:
            raise PersonKeyError(
                f"data key {row.key_id} is wrapped by master key "
                f"{row.master_key_id}, not by the configured {self.master_key_id}"
            )
        context = _context(row.key_id, row.person_ref)
        return crypto.unwrap_key(self._master, row.wrapped_key, context)


class PersonKeyConflict(IntegrityError):
    """Another process stored a data key first for a person this batch made
    one for, or deleted a key this batch sealed under (an erasure, or the
    purge of an unused key): the table's state is kept, so the batch's
    filings must be sealed again."""


class KeyBatch:
    """The data keys of one batch of filings.

    Persons' existing keys are looked up together (``look_up``, one query).
    A person without one gets a fresh key in memory; ``store_new`` stores all
    of those, and marks the existing keys sealed under as used, in one
    transaction, which must succeed before any ciphertext under them is
    saved. If another process stored a key for one of those persons first,
    its key wins; if a key sealed under was deleted since the look-up, it
    stays deleted: either way ``store_new`` raises
    :class:`PersonKeyConflict`: seal again with a new batch, which finds the
    winner's key or makes a new one.
    """

    def __init__(self, keys: PersonKeys) -> None:
        self._keys = keys
        self._rows: dict[str, KeyRow] = {}  # by person_ref: looked up or new
        self._looked_up: set[str] = set()
        self._new: dict[str, KeyRow] = {}
        self._used: set[str] = set()  # persons whose looked-up key sealed

    def look_up(self, personnummers: Iterable[str]) -> KeyBatch:
        """Fetch the keys of these persons not asked about yet (one query)."""
        refs = {self._keys.person_ref(n) for n in personnummers} - self._looked_up
        if refs:
            self._rows |= self._keys.table.by_persons(refs)
            self._looked_up |= refs
        return self

    def seal_applicant(
        self, case_id: str, personnummer: str, name: str | None
    ) -> dict[str, Any]:
        """The stored form of the applicant of ``case_id``, under the
        person's key, or a new one if they have none yet."""
        ref = self._keys.person_ref(personnummer)
        if ref not in self._looked_up:
            self.look_up([personnummer])
        row = self._rows.get(ref)
        if row is None:
            row = self._rows[ref] = self._new[ref] = self._keys.new_key_row(ref)
        elif ref not in self._new:
            self._used.add(ref)
        return self._keys.seal_under(row, case_id, personnummer, name)

    def seal_note(
        self, case_id: str, key_id: str | None, personnummer: str | None, note: str
    ) -> dict[str, Any] | None:
        """The stored form of a note of ``case_id``, under the key its
        applicant was sealed under (``key_id``), or for an applicant recorded
        in clear under the key of that (canonical) ``personnummer``, made if
        they have none. ``None`` when ``key_id``'s key has been erased: the
        note cannot be kept. The key is marked used with the batch's others."""
        if key_id is None:
            assert personnummer is not None, "an applicant in clear has its number"
            ref = self._keys.person_ref(personnummer)
            if ref not in self._looked_up:
                self.look_up([personnummer])
            row = self._rows.get(ref)
            if row is None:
                row = self._rows[ref] = self._new[ref] = self._keys.new_key_row(ref)
        else:
            row = next((r for r in self._rows.values() if r.key_id == key_id), None)
            if row is None:
                row = self._keys.table.by_key_id(key_id)
                if row is None:
                    return None
                self._rows[row.person_ref] = row
                self._looked_up.add(row.person_ref)
        if row.person_ref not in self._new:
            self._used.add(row.person_ref)
        return self._keys.seal_note_under(row, case_id, note)

    def store_new(self) -> None:
        """Make the keys this batch made durable, and mark the ones it found
        as used, in one transaction."""
        if not self._new and not self._used:
            return
        new, used = list(self._new.values()), sorted(self._used)
        kept = self._keys.table.insert_new(new, used)
        lost = [row.person_ref for row in new if kept.get(row.person_ref) != row]
        gone = [ref for ref in used if kept.get(ref) != self._rows[ref]]
        for ref in gone:
            del self._rows[ref]
            self._looked_up.discard(ref)
        self._rows |= kept
        self._new, self._used = {}, set()
        if lost or gone:
            raise PersonKeyConflict(
                f"another process made the data key of {len(lost)} person(s) "
                f"of this batch first, or deleted that of {len(gone)}"
            )


def _context(key_id: str, person_ref: str) -> str:
    """What a wrapped key is bound to: its row, so rows cannot be swapped."""
    return f"boende data key v1|{key_id}|{person_ref}"


# -- which PersonKeys an application uses ---------------------------------------------

_ATTACHED: weakref.WeakKeyDictionary[Any, PersonKeys] = weakref.WeakKeyDictionary()


def attach(app: Any, keys: PersonKeys) -> None:
    """Make ``keys`` the person keys of ``app`` (the composition root does)."""
    _ATTACHED[app] = keys


def person_keys_of(app: Any) -> PersonKeys:
    """The person keys attached to ``app``; refuses to go on without them, so
    an applicant is never recorded in clear."""
    try:
        return _ATTACHED[app]
    except KeyError:
        raise PersonKeyError(
            "no person keys attached to this application: build it with "
            "services.bootstrap.bootstrap"
        ) from None
