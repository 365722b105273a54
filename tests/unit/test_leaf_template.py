"""The leaf template gives byte for byte what ``canonical_event`` gives.

``verify`` and signing build leaves from raw columns through a template
(``services.audit.leaves``); the definition is the sorted-key JSON of a
``Notification`` (``services.audit.log.canonical_event``). Any difference
would change every root, so the two are compared on generated events: ids
as the store holds them (canonical text, upper case, braces, UUID objects,
non-UUID strings when the store keeps ids as text), any topic text, any
state bytes, and values of another type than a well-kept row holds.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from services.audit.leaves import LeafWriter
from services.audit.log import canonical_event

uuids = st.uuids()
stored_ids = st.one_of(
    uuids.map(str),
    uuids.map(lambda u: str(u).upper()),
    uuids.map(lambda u: "{" + str(u) + "}"),
    uuids.map(lambda u: u.hex),  # SQLite's recorder keeps this form
    uuids.map(lambda u: u.hex.upper()),
    uuids,
)
versions: st.SearchStrategy[Any] = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
)
topics: st.SearchStrategy[Any] = st.one_of(
    st.text(),
    st.sampled_from(
        ["domain.case:HousingCase.ApplicationFiled", 'a"b\\c\n\x00\u2028é']
    ),
    st.integers(),
)


def reference(
    position: int, oid: Any, version: Any, topic: Any, state: bytes, uuid_ids: bool
) -> bytes:
    if uuid_ids and not isinstance(oid, uuid.UUID):
        oid = uuid.UUID(oid)  # what select_notifications does
    return canonical_event(
        Notification(
            id=position,
            originator_id=oid,
            originator_version=version,
            topic=topic,
            state=state,
        )
    )


@given(
    position=st.integers(min_value=1, max_value=2**63 - 1),
    oid=stored_ids,
    version=versions,
    topic=topics,
    state=st.binary(max_size=300),
)
def test_uuid_store(
    position: int, oid: Any, version: Any, topic: Any, state: bytes
) -> None:
    write = LeafWriter(uuid_ids=True)
    expected = reference(position, oid, version, topic, state, uuid_ids=True)
    assert write(position, oid, version, topic, state) == expected
    assert write(position, oid, version, topic, state) == expected  # cached topic


@given(
    position=st.integers(min_value=1, max_value=2**40),
    oid=st.one_of(st.text(), uuids.map(str), uuids.map(lambda u: u.hex)),
    version=st.integers(min_value=0, max_value=2**31),
    topic=st.text(),
    state=st.binary(max_size=100) | st.binary(max_size=100).map(bytearray),
)
def test_text_id_store(
    position: int, oid: str, version: int, topic: str, state: bytes
) -> None:
    write = LeafWriter(uuid_ids=False)
    expected = reference(position, oid, version, topic, bytes(state), uuid_ids=False)
    assert write(position, oid, version, topic, state) == expected
