"""What a projection is: a name, its tables, and one handler per event type.

A handler turns one recorded event into changes of the projection's own
tables; events without a handler are skipped (their position still advances).
Queries live in the projection's module beside its handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from infra.views import Sql

T = TypeVar("T")

#: A ``known_at`` later than any recorded time: "everything recorded".
END_OF_TIME = "9999-12-31T23:59:59.999999Z"


class once(Generic[T]):  # lower case: a decorator, like property
    """``functools.cached_property`` without the lock Python 3.11 takes for
    every first access (a rebuild makes two per event). Computing a value
    twice, should two threads ever race, gives the same value."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        # Only reached before the first computation: the value then sits in
        # the instance's dict, which a non-data descriptor gives way to.
        if instance is None:
            return self  # type: ignore[return-value]  # the class's attribute
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass(frozen=True)
class Recorded:
    """A domain event with where and when it was recorded."""

    position: int
    event: Any

    # Computed once per event, however many read models ask (a rebuild
    # applies each event to all of them).
    @once
    def recorded_at(self) -> str:
        return utc_text(self.event.timestamp)

    @once
    def occurred_on(self) -> str:
        return str(self.event.occurred_on.isoformat())


def utc_text(moment: datetime) -> str:
    """A fixed-width UTC text form, so stored times compare as strings."""
    text = moment.isoformat(timespec="microseconds")
    if text.endswith("+00:00") and moment.year >= 1000:  # the store's: UTC
        return text[:-6] + "Z"  # the same text, without a conversion
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # isoformat pads the year, strftime does not
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


#: (self, where it writes: an ``Sql``, or a batch it folds, ``projections.rows``,
#: the event)
Handler = Callable[[Any, Any, Recorded], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of ``event_classes``."""

    def mark(method: Handler) -> Handler:
        method.__handles__ = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    """Base of every projection: ``name``, ``tables`` and handlers."""

    name: ClassVar[str]
    tables: ClassVar[dict[str, str]]  # table name -> CREATE TABLE statement
    indexes: ClassVar[list[str]] = []
    #: Indexes only queries use, never a handler: a rebuild creates them
    #: after the replay (building one at the end costs less than keeping it
    #: up to date row by row).
    query_indexes: ClassVar[list[str]] = []
    #: Raise when the tables or what the handlers write into them change: a
    #: store built by another version is then dropped and rebuilt from the
    #: log at start (``ProjectionRunner``), never read as if it were current.
    version: ClassVar[int] = 1
    #: About how many microseconds a replay spends per event of the log in
    #: this read model's handlers and writes (``make bench``, 1M events,
    #: the read and decode taken off). Used only to share a rebuild out
    #: over processes in even parts: a wrong figure costs time, never an
    #: answer.
    replay_cost: ClassVar[float] = 10.0
    #: Tables earlier versions had: dropped with the current ones.
    retired_tables: ClassVar[tuple[str, ...]] = ()
    #: Tables keyed by a log position: on SQLite their ``BIGINT PRIMARY
    #: KEY`` becomes ``INTEGER PRIMARY KEY``, the rowid itself (one B-tree
    #: less to keep up; it holds 64 bits there all the same).
    position_keyed: ClassVar[tuple[str, ...]] = ()
    _handlers: ClassVar[dict[type, Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {
            event_class: method
            for method in vars(cls).values()
            for event_class in getattr(method, "__handles__", ())
        }

    def create_tables(self, sql: Sql, *, query_indexes: bool = True) -> None:
        for table, statement in self.tables.items():
            if table in self.position_keyed and not sql.postgres:
                statement = statement.replace(
                    "position BIGINT PRIMARY KEY", "position INTEGER PRIMARY KEY"
                )
            sql.execute(statement)
        for statement in self.indexes:
            sql.execute(statement)
        if query_indexes:
            self.create_query_indexes(sql)

    def create_query_indexes(self, sql: Sql) -> None:
        for statement in self.query_indexes:
            sql.execute(statement)

    def drop_tables(self, sql: Sql, within: str | None = None) -> None:
        """Drop this read model's tables; ``within``: of that schema (SQLite:
        ``main`` while another database is attached, which an unqualified
        name not in ``main`` would reach)."""
        prefix = f"{within}." if within else ""
        for table in [*self.tables, *self.retired_tables]:
            sql.execute(f"DROP TABLE IF EXISTS {prefix}{table}")

    def start_replay(self) -> None:
        """A rebuild's replay begins: work a projection can do once for the
        whole replay may wait for :meth:`finish_replay` (staged in its own
        tables, so that a batch rolled back takes its share with it)."""

    def finish_replay(self, sql: Sql) -> None:
        """The replay ended, whole or stopped at a batch boundary: what
        :meth:`start_replay` held back, written now."""

    def process(self, sql: Sql, recorded: Recorded) -> None:
        handler = self._handlers.get(type(recorded.event))
        if handler is not None:
            handler(self, sql, recorded)

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        """Apply ``batch`` in log order; a projection may override this to
        write a batch's rows together."""
        for recorded in batch:
            self.process(sql, recorded)
