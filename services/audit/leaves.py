"""The leaf bytes of stored events, fast: what ``verify`` and signing hash.

A leaf is the sorted-key compact JSON of an event as stored
(``services.audit.log``). Built by ``json.dumps`` with ``sort_keys`` and from
``Notification`` objects (a ``UUID`` each) it cost more than hashing; here the
same bytes come from a template over the store's raw columns. The template
holds only where the output cannot differ: a canonical UUID text and base64
need no escaping, an ``int`` prints as JSON does; anything else (a topic, an
id in another form, a value of another type, as a tampered row may hold)
goes through ``json.dumps`` as before. ``tests/unit/test_leaf_template.py``
checks the two agree on generated events.
"""

from __future__ import annotations

import json
import re
from binascii import b2a_base64
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infra.store import CaseLog

#: ``(position, originator_id, originator_version, topic, state)`` as stored.
RawEvent = tuple[int, Any, Any, Any, Any]

_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch
#: How SQLite's recorder keeps a UUID id: its 32 hex digits, lower case.
_UUID_HEX = re.compile(r"[0-9a-f]{32}").fullmatch


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class LeafWriter:
    """Leaf bytes from raw columns, identical to ``canonical_event``."""

    def __init__(self, uuid_ids: bool = True) -> None:
        self.uuid_ids = uuid_ids  # the store converts ids to UUID (the default)
        self._topics: dict[Any, str] = {}

    def __call__(
        self, position: int, originator_id: Any, version: Any, topic: Any, state: Any
    ) -> bytes:
        if type(originator_id) is str and _CANONICAL_UUID(originator_id):
            oid = f'"{originator_id}"'  # what str(UUID(...)) gives back
        elif self.uuid_ids and type(originator_id) is str and _UUID_HEX(originator_id):
            h = originator_id  # str(UUID(h)): the same digits, hyphenated
            oid = f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'
        else:
            oid = _json(self._id_text(originator_id))
        topic_json = self._topics.get(topic)
        if topic_json is None:
            topic_json = self._topics.setdefault(topic, _json(topic))
        version_json = version if type(version) is int else _json(version)
        position_json = position if type(position) is int else _json(position)
        return (
            f'{{"originator_id":{oid},'
            f'"originator_version":{version_json},'
            f'"position":{position_json},'
            f'"state":"{b2a_base64(bytes(state), newline=False).decode("ascii")}",'
            f'"topic":{topic_json}}}'
        ).encode()

    def _id_text(self, originator_id: Any) -> str:
        """The id as ``select_notifications`` would give it, as text."""
        if isinstance(originator_id, UUID):
            return str(originator_id)
        return str(UUID(originator_id) if self.uuid_ids else originator_id)


def raw_events(app: CaseLog, after: int, limit: int) -> list[RawEvent]:
    """Up to ``limit`` events after position ``after``, as raw columns."""
    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                [after, limit],
            )
            return [tuple(row) for row in cursor.fetchall()]
    if isinstance(recorder, PostgresApplicationRecorder):
        statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, "
            "topic, state FROM {}.{} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(
            Identifier(recorder.datastore.schema),
            Identifier(recorder.events_table_name),
        )
        with (
            recorder.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(statement, [after, limit], prepare=True)
            return cursor.fetchall()
    notes = recorder.select_notifications(after, limit, inclusive_of_start=False)
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notes
    ]


def writer_for(app: CaseLog) -> LeafWriter:
    """A :class:`LeafWriter` that reads ids as ``app``'s store does."""
    datastore = getattr(app.recorder, "datastore", None)
    id_type = getattr(datastore, "originator_id_type", "uuid")
    return LeafWriter(uuid_ids=id_type == "uuid")


def leaf_pages(
    app: CaseLog, after: int, page: int, on_progress: Callable[[int], None] | None
) -> Iterator[tuple[int, bytes]]:
    """``(position, leaf bytes)`` of every event after ``after``, in order."""
    write = writer_for(app)
    while True:
        rows = raw_events(app, after, page)
        for row in rows:
            yield row[0], write(*row)
        if on_progress is not None:
            on_progress(len(rows))
        if len(rows) < page:
            return
        after = rows[-1][0]
