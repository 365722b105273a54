"""A batch folded (``projections.rows.FoldedRows``) leaves a table exactly as
the same inserts and updates run one by one: rows there before the batch,
rows inserted in it, updates before their row's insert, a key inserted
twice (both fail), columns set again and again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.views import Sql
from projections.rows import FoldedRows

TABLE = "CREATE TABLE t (k TEXT PRIMARY KEY, a TEXT, b TEXT, c INTEGER)"
KEYS = ["k1", "k2", "k3"]

Step = tuple[str, str, dict[str, Any]]  # insert or update, key, values

steps = st.lists(
    st.tuples(
        st.sampled_from(["insert", "update"]),
        st.sampled_from(KEYS),
        st.dictionaries(
            st.sampled_from(["a", "b", "c"]),
            st.one_of(st.none(), st.text(max_size=2), st.integers(0, 9)),
            max_size=3,
        ),
    ),
    max_size=12,
)


@contextmanager
def table(existing: list[str]) -> Iterator[Sql]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        sql = Sql(connection.cursor(), postgres=False)
        sql.execute(TABLE)
        for key in existing:
            sql.execute("INSERT INTO t (k, a) VALUES (?, 'before')", [key])
        yield sql
    finally:
        connection.close()


def one_by_one(sql: Sql, batch: list[Step]) -> None:
    sql.execute("BEGIN")
    try:
        for kind, key, values in batch:
            if kind == "insert":
                columns = ["k", *values]
                sql.execute(
                    f"INSERT INTO t ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [key, *values.values()],
                )
            elif values:
                assignments = ", ".join(f"{column} = ?" for column in values)
                sql.execute(
                    f"UPDATE t SET {assignments} WHERE k = ?", [*values.values(), key]
                )
    except sqlite3.IntegrityError:
        sql.execute("ROLLBACK")
        raise
    sql.execute("COMMIT")


def folded(sql: Sql, batch: list[Step]) -> None:
    rows = FoldedRows("t", "k")
    for kind, key, values in batch:
        if kind == "insert":
            rows.insert(key, **values)
        else:
            rows.update(key, **values)
    sql.execute("BEGIN")
    try:
        rows.write(sql)
    except sqlite3.IntegrityError:
        sql.execute("ROLLBACK")
        raise
    sql.execute("COMMIT")


def outcome(existing: list[str], batch: list[Step], apply: Any) -> Any:
    with table(existing) as sql:
        try:
            apply(sql, batch)
        except sqlite3.IntegrityError:
            return "refused", sql.all("SELECT * FROM t ORDER BY k")
        return "applied", sql.all("SELECT * FROM t ORDER BY k")


@settings(max_examples=300, deadline=None)
@given(existing=st.lists(st.sampled_from(KEYS), unique=True), batch=steps)
def test_a_folded_batch_leaves_the_table_as_one_statement_at_a_time(
    existing: list[str], batch: list[Step]
) -> None:
    assert outcome(existing, batch, folded) == outcome(existing, batch, one_by_one)


def test_an_update_before_its_rows_insert_changes_nothing() -> None:
    batch: list[Step] = [("update", "k1", {"a": "x"}), ("insert", "k1", {"b": "y"})]
    assert outcome([], batch, folded) == (
        "applied",
        [{"k": "k1", "a": None, "b": "y", "c": None}],
    )
