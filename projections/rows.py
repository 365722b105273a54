"""A batch's changes to a read model's rows, folded in memory and written in
a few statements instead of one or two per event.

Read models with a row per case (lead times, unexecuted decisions) insert it
at the filing and set columns at later facts. Their handlers say so to a
``FoldedRows`` per table instead of running SQL; within a batch each row's
insert and column changes are folded in log order, and at the end of the
batch the rows that were there before are updated (one statement per set of
columns), then the new ones inserted with their final values. The tables end
as the statements one by one would leave them: an update before its row's
insert changes nothing either way, and an insert of a key already there
fails either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from infra.views import Sql
from projections.base import Projection, Recorded


class FoldedRows:
    """Inserts and updates of ``table``'s rows by ``key`` (its primary key)."""

    def __init__(self, table: str, key: str) -> None:
        self.table = table
        self.key = key
        self._inserted: list[dict[str, Any]] = []
        self._latest_insert: dict[Any, dict[str, Any]] = {}
        self._updated: dict[Any, dict[str, Any]] = {}

    def insert(self, key: Any, **values: Any) -> None:
        row = {self.key: key, **values}
        self._inserted.append(row)  # a key inserted twice fails as it would
        self._latest_insert[key] = row

    def update(self, key: Any, **values: Any) -> None:
        row = self._latest_insert.get(key)
        if row is not None:
            row.update(values)
        else:
            self._updated.setdefault(key, {}).update(values)

    def write(self, sql: Sql) -> None:
        """The folded changes, updates first (see the module's docstring)."""
        updates: dict[tuple[str, ...], list[list[Any]]] = {}
        for key, values in self._updated.items():
            if not values:  # nothing to set
                continue
            updates.setdefault(tuple(values), []).append([*values.values(), key])
        for columns, rows in updates.items():
            assignments = ", ".join(f"{column} = ?" for column in columns)
            sql.executemany(
                f"UPDATE {self.table} SET {assignments} WHERE {self.key} = ?", rows
            )
        inserts: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in self._inserted:
            inserts.setdefault(tuple(row), []).append(list(row.values()))
        for columns, rows in inserts.items():
            sql.executemany(
                f"INSERT INTO {self.table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                rows,
            )


class Folded:
    """One batch's ``FoldedRows``, a table each."""

    def __init__(self, keys: dict[str, str]) -> None:
        self._tables = {table: FoldedRows(table, key) for table, key in keys.items()}

    def __getitem__(self, table: str) -> FoldedRows:
        return self._tables[table]

    def write(self, sql: Sql) -> None:
        for rows in self._tables.values():
            rows.write(sql)


class FoldingProjection(Projection):
    """A projection whose handlers change rows by key in a ``Folded`` (the
    batch's) rather than run SQL: each batch is written in a few statements."""

    #: Table -> its primary key column, for every table the handlers change.
    keys: ClassVar[dict[str, str]]

    def process(self, sql: Sql, recorded: Recorded) -> None:
        self.process_batch(sql, [recorded])

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        folded = Folded(self.keys)
        for recorded in batch:
            handler = self._handlers.get(type(recorded.event))
            if handler is not None:
                handler(self, folded, recorded)
        folded.write(sql)
