"""The key table of per-person data keys (``infra.person_keys``).

``person_keys`` is in the store's engine: its own SQLite file
``<data_dir>/person_keys.sqlite``, or a table of the store's PostgreSQL
database. One row per person: ``person_ref`` (the keyed hash of the canonical
personnummer), a random ``key_id``, the wrapped key, the master key's
fingerprint, and ``used_at``: when a batch of filings last made the key or
sealed an applicant under it (UTC text). Deleting the row is the erasure. A
batch of filings reads its persons' rows with one query
(:meth:`KeyTable.by_persons`), then stores the new ones and marks the ones it
used in one transaction (:meth:`KeyTable.insert_new`).

A key can outlive every ciphertext under it, or never get one: a batch
stores its keys before its events, and the events may then fail to save.
The retention purge deletes such a key once it has been unused for a grace
period, and the key of a person whose cases are all past retention unless a
batch has made or used it since the purge started, in one transaction
(:meth:`KeyTable.delete_unused`); a batch that seals under a key meanwhile
marks it used, so the delete passes it by, or finds it gone and seals again
under a new key. That transaction also appends the purge's row to
``person_key_purges``: when, who, which cutoffs, how many keys of each kind
it deleted. Counts only, no key ids; append-only.

The tables, and the migration of an older key table, are in
``infra.person_key_schema``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields, replace
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from infra.person_key_schema import create_or_migrate
from infra.settings import Settings, postgres_env
from infra.signing import utc_timestamp
from infra.views import Sql


@dataclass(frozen=True)
class KeyRow:
    """One person's wrapped data key."""

    person_ref: str
    key_id: str
    wrapped_key: str
    master_key_id: str


@dataclass(frozen=True)
class KeyPurge:
    """The record of one retention purge (*gallring*) of data keys: counts
    and cutoffs, no personal data and no key ids."""

    purged_at: str  # UTC text
    purged_by: str
    rule: str
    cases_before: str  # ISO date: keys of cases whose last fact is earlier
    unused_before: str  # UTC text: keys of no case, unused since earlier
    case_keys_deleted: int = 0
    orphan_keys_deleted: int = 0


@dataclass(frozen=True)
class UnusedKeys:
    """Keys to delete unless a batch has made or used them since ``since``."""

    key_ids: frozenset[str]
    since: str  # UTC text, as ``infra.signing.utc_timestamp`` writes it


class KeyTable:
    """The ``person_keys`` table, in the store's engine."""

    def __init__(self, settings: Settings) -> None:
        self.postgres = settings.uses_postgres
        env = _table_env(settings)
        self._factory = InfrastructureFactory.construct(Environment("PersonKeys", env))
        self.datastore: Any = self._factory.datastore  # type: ignore[attr-defined]
        with self.transaction(commit=True) as sql:
            create_or_migrate(sql, self.postgres)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Sql(cursor, self.postgres)

    def by_person(self, person_ref: str) -> KeyRow | None:
        with self.transaction(commit=False) as sql:
            return _row(sql.one(_SELECT + "WHERE person_ref = ?", [person_ref]))

    def by_key_id(self, key_id: str) -> KeyRow | None:
        with self.transaction(commit=False) as sql:
            return _row(sql.one(_SELECT + "WHERE key_id = ?", [key_id]))

    def by_persons(self, person_refs: Iterable[str]) -> dict[str, KeyRow]:
        """The keys these persons have, by ``person_ref``: one query."""
        with self.transaction(commit=False) as sql:
            return _by_persons(sql, set(person_refs))

    def insert_new(
        self, rows: Sequence[KeyRow], used: Sequence[str] = ()
    ) -> dict[str, KeyRow]:
        """Insert each row unless its person has a key, and mark the keys of
        the persons ``used`` (``person_ref``) used now, all in one
        transaction; then every one of these persons' keys, by
        ``person_ref`` (another process's where it got there first; none
        where a key was deleted meanwhile)."""
        now = utc_timestamp()
        with self.transaction(commit=True) as sql:
            sql.executemany(
                "INSERT INTO person_keys (person_ref, key_id, wrapped_key, "
                "master_key_id, used_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT (person_ref) DO NOTHING",
                [(*astuple(row), now) for row in rows],
            )
            for part in _parts(sorted(set(used))):
                sql.execute(
                    "UPDATE person_keys SET used_at = ? "
                    f"WHERE person_ref IN ({_marks(part)})",
                    [now, *part],
                )
            return _by_persons(sql, {row.person_ref for row in rows} | set(used))

    def key_ids(self) -> set[str]:
        """Every key id whose key still exists."""
        with self.transaction(commit=False) as sql:
            return {row["key_id"] for row in sql.all(_KEY_IDS)}

    def unused_before(self, moment: str) -> set[str]:
        """The key ids no batch has made or sealed under since ``moment``
        (UTC text, as ``infra.signing.utc_timestamp`` writes it)."""
        with self.transaction(commit=False) as sql:
            rows = sql.all("SELECT key_id FROM person_keys WHERE used_at < ?", [moment])
        return {row["key_id"] for row in rows}

    def delete(self, key_ids: Iterable[str]) -> set[str]:
        """Delete the keys ``key_ids``; return those that existed."""
        wanted = set(key_ids)
        with self.transaction(commit=True) as sql:
            self._zero_deleted_bytes(sql)
            present = {row["key_id"] for row in sql.all(_KEY_IDS)} & wanted
            sql.executemany(
                "DELETE FROM person_keys WHERE key_id = ?", [[k] for k in present]
            )
        self._compact()
        return present

    def delete_unused(
        self, case_keys: UnusedKeys, orphans: UnusedKeys, record: KeyPurge
    ) -> tuple[set[str], set[str]]:
        """Delete the ``case_keys`` and the ``orphans`` that no batch has made
        or used since their ``since`` (a key a batch sealed under meanwhile
        stays), and append ``record`` with both counts to
        ``person_key_purges``, in one transaction; the key ids deleted of
        each."""
        with self.transaction(commit=True) as sql:
            self._zero_deleted_bytes(sql)
            of_cases = _delete_unused(sql, case_keys)
            orphaned = _delete_unused(sql, orphans)
            record = replace(
                record,
                case_keys_deleted=len(of_cases),
                orphan_keys_deleted=len(orphaned),
            )
            sql.execute(
                f"INSERT INTO person_key_purges ({_PURGE_COLUMNS}) "
                f"VALUES ({_marks(fields(KeyPurge))})",
                astuple(record),
            )
        if of_cases or orphaned:
            self._compact()
        return of_cases, orphaned

    def purges(self) -> list[KeyPurge]:
        """Every purge's record, oldest first."""
        with self.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT {_PURGE_COLUMNS} FROM person_key_purges ORDER BY id"
            )
        return [KeyPurge(**row) for row in rows]

    def _zero_deleted_bytes(self, sql: Sql) -> None:
        """Zero the deleted rows' bytes in SQLite's file, not just unlink them."""
        if not self.postgres:
            sql.execute("PRAGMA secure_delete = ON")

    def _compact(self) -> None:
        """Leave no copy of deleted rows in the files the engine keeps:
        SQLite's write-ahead log is checkpointed and truncated; PostgreSQL's
        table is rewritten (its WAL and backups still expire on their own)."""
        if self.postgres:
            with self.datastore.get_connection() as conn:  # autocommit
                conn.execute("VACUUM FULL person_keys")
        else:
            with self.datastore.get_connection(commit=True) as conn:
                conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._factory.close()


_KEY_IDS = "SELECT key_id FROM person_keys"
_SELECT = "SELECT person_ref, key_id, wrapped_key, master_key_id FROM person_keys "
_PER_QUERY = 500  # ``IN (...)`` parameters per statement, well inside both engines'


def _row(found: dict[str, Any] | None) -> KeyRow | None:
    return KeyRow(**found) if found else None


def _delete_unused(sql: Sql, keys: UnusedKeys) -> set[str]:
    deleted: set[str] = set()
    for part in _parts(sorted(keys.key_ids)):
        rows = sql.all(
            "DELETE FROM person_keys WHERE used_at < ? "
            f"AND key_id IN ({_marks(part)}) RETURNING key_id",
            [keys.since, *part],
        )
        deleted |= {row["key_id"] for row in rows}
    return deleted


def _by_persons(sql: Sql, person_refs: set[str]) -> dict[str, KeyRow]:
    found = {}
    for part in _parts(sorted(person_refs)):
        for row in sql.all(_SELECT + f"WHERE person_ref IN ({_marks(part)})", part):
            found[row["person_ref"]] = KeyRow(**row)
    return found


def _parts(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _PER_QUERY):
        yield values[start : start + _PER_QUERY]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


_PURGE_COLUMNS = ",".join(f.name for f in fields(KeyPurge))


def _table_env(settings: Settings) -> dict[str, str]:
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path("person_keys")),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    return postgres_env(settings.database_url) | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
    }
