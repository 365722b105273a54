"""The key table of per-person data keys (``infra.person_keys``).

``person_keys`` is in the store's engine: its own SQLite file
``<data_dir>/person_keys.sqlite``, or a table of the store's PostgreSQL
database. One row per person: ``person_ref`` (the keyed hash of the canonical
personnummer), a random ``key_id``, the wrapped key and the master key's
fingerprint. Deleting the row is the erasure. A batch of filings reads its
persons' rows with one query (:meth:`KeyTable.by_persons`) and stores the new
ones in one transaction (:meth:`KeyTable.insert_new`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from infra.settings import Settings, postgres_env
from infra.views import Sql

TABLE = (
    "CREATE TABLE IF NOT EXISTS person_keys ("
    "person_ref TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, "
    "wrapped_key TEXT NOT NULL, master_key_id TEXT NOT NULL)"
)


@dataclass(frozen=True)
class KeyRow:
    """One person's wrapped data key."""

    person_ref: str
    key_id: str
    wrapped_key: str
    master_key_id: str


class KeyTable:
    """The ``person_keys`` table, in the store's engine."""

    def __init__(self, settings: Settings) -> None:
        self.postgres = settings.uses_postgres
        env = _table_env(settings)
        self._factory = InfrastructureFactory.construct(Environment("PersonKeys", env))
        self.datastore: Any = self._factory.datastore  # type: ignore[attr-defined]
        with self.transaction(commit=True) as sql:
            sql.execute(TABLE)

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

    def insert_new(self, rows: Sequence[KeyRow]) -> dict[str, KeyRow]:
        """Insert each row unless its person has a key, all in one
        transaction; then every one of these persons' keys, by
        ``person_ref`` (another process's where it got there first)."""
        with self.transaction(commit=True) as sql:
            sql.executemany(
                "INSERT INTO person_keys (person_ref, key_id, wrapped_key, "
                "master_key_id) VALUES (?,?,?,?) ON CONFLICT (person_ref) DO NOTHING",
                [astuple(row) for row in rows],
            )
            return _by_persons(sql, {row.person_ref for row in rows})

    def key_ids(self) -> set[str]:
        """Every key id whose key still exists."""
        with self.transaction(commit=False) as sql:
            return {row["key_id"] for row in sql.all(_KEY_IDS)}

    def delete(self, key_ids: Iterable[str]) -> set[str]:
        """Delete the keys ``key_ids``; return those that existed."""
        wanted = set(key_ids)
        with self.transaction(commit=True) as sql:
            if not self.postgres:  # zero the deleted bytes, not just unlink them
                sql.execute("PRAGMA secure_delete = ON")
            present = {row["key_id"] for row in sql.all(_KEY_IDS)} & wanted
            sql.executemany(
                "DELETE FROM person_keys WHERE key_id = ?", [[k] for k in present]
            )
        self._compact()
        return present

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


def _by_persons(sql: Sql, person_refs: set[str]) -> dict[str, KeyRow]:
    wanted, found = sorted(person_refs), {}
    for start in range(0, len(wanted), _PER_QUERY):
        part = wanted[start : start + _PER_QUERY]
        marks = ",".join("?" * len(part))
        for row in sql.all(_SELECT + f"WHERE person_ref IN ({marks})", part):
            found[row["person_ref"]] = KeyRow(**row)
    return found


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
