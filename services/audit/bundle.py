"""The audit bundle: written by ``boende audit export``, checked offline by
``boende audit verify-bundle`` with no database and no service — only file
reads, ``infra.merkle`` and ``infra.signing`` (``cryptography``).

A bundle is a directory of four files:

- ``events.jsonl``: one event per line in log order, each line exactly its
  leaf bytes (``services.audit.log.canonical_event``) followed by ``\\n``;
- ``tree_heads.json``: ``{"heads": [...]}``, every signed head, oldest first;
- ``public_key.pem``: the key that signed them, as the exporter found it
  (compare its fingerprint with the published one, or pin that one);
- ``bundle.json``: format, event and head counts, export time, key id, and
  whether the exporter signed a head first. It is not signed: its event
  count catches lines lost or added by a slip, the heads are the proof.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infra import merkle
from infra.signing import (
    SignedTreeHead,
    SigningKeyError,
    canonical_json,
    check_heads,
    key_id,
    load_public_key,
    narrow_down,
    public_pem,
    utc_timestamp,
)
from services.audit.verdict import Coverage, fingerprint

BUNDLE_FORMAT = "boende-audit-bundle/1"
EVENT_FIELDS = {"position", "originator_id", "originator_version", "topic", "state"}
SHOWN = 5  # line problems printed before "... and N more"
_UNREADABLE = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    RecursionError,
    SigningKeyError,
    UnsupportedAlgorithm,
)


def write_bundle(
    target: Path,
    events: Iterable[bytes],
    heads: Sequence[SignedTreeHead],
    public_key: Ed25519PublicKey,
    signed_first: bool,
) -> int:
    """Write a bundle into ``target`` (new or empty): the events (leaf
    bytes, in log order), the heads and the key; how many events."""
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)  # the events hold personal data as stored (sealed)
    count = 0
    with (target / "events.jsonl").open("wb") as lines:
        for data in events:
            lines.write(data + b"\n")
            count += 1
    _write_json(target / "tree_heads.json", {"heads": [h.as_json() for h in heads]})
    (target / "public_key.pem").write_text(public_pem(public_key))
    manifest = {
        "format": BUNDLE_FORMAT,
        "event_count": count,
        "head_count": len(heads),
        "key_id": key_id(public_key),
        "key_fingerprint": fingerprint(public_key),
        "signed_first": signed_first,
        "exported_at": utc_timestamp(),
    }
    _write_json(target / "bundle.json", manifest)
    return count


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


@dataclass
class BundleReport:
    """What :func:`verify_bundle` found; ``ok`` only when nothing is wrong.
    ``coverage`` says how many events the heads that verified cover."""

    event_count: int = 0
    head_count: int = 0
    key: Ed25519PublicKey | None = None  # the key the heads were checked with
    pinned: bool = False
    problems: list[str] = field(default_factory=list)
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0))

    @property
    def ok(self) -> bool:
        return not self.problems


def read_events(directory: Path) -> list[bytes]:
    """The lines of ``events.jsonl``, without their newlines."""
    data = (directory / "events.jsonl").read_bytes()
    if data and not data.endswith(b"\n"):
        raise ValueError("events.jsonl does not end with a newline")
    return data.split(b"\n")[:-1] if data else []


def verify_bundle(
    directory: Path, pinned: Ed25519PublicKey | None = None
) -> BundleReport:
    """Every line canonical and in position order; every head signed by the
    bundle's (or the pinned) key, with the root of its first lines; the
    manifest's event count that of the lines. Never raises on a bad bundle."""
    report = BundleReport(pinned=pinned is not None)
    try:
        key = load_public_key((directory / "public_key.pem").read_bytes())
        lines = read_events(directory)
        heads_json = json.loads((directory / "tree_heads.json").read_text())
        heads = [SignedTreeHead.from_json(h) for h in heads_json["heads"]]
        manifest = json.loads((directory / "bundle.json").read_text())
        listed = manifest["event_count"]
    except _UNREADABLE as error:
        report.problems.append(f"not a readable audit bundle: {error}")
        return report
    report.event_count, report.head_count = len(lines), len(heads)
    report.key = key
    if pinned is not None:
        if key_id(pinned) != key_id(key):
            report.problems.append(
                f"the bundle's key is not the pinned one ({fingerprint(pinned)})"
            )
        report.key = key = pinned
    if listed != len(lines):
        report.problems.append(
            f"bundle.json lists {listed} events; events.jsonl holds {len(lines)}: "
            "lines were added or removed after the export"
        )
    line_problems, positions = _line_problems(lines)
    report.problems += line_problems
    head_problems, good = _head_problems(key, heads, lines)
    report.problems += head_problems
    report.coverage = Coverage.of(len(lines), good, positions)
    return report


def _line_problems(lines: Sequence[bytes]) -> tuple[list[str], list[int]]:
    """Problems of the lines, and each line's position (0 if unreadable)."""
    problems: list[str] = []
    positions: list[int] = []
    previous = 0
    for number, line in enumerate(lines, 1):
        problem, position = _line_problem(line, previous)
        if problem:
            problems.append(f"line {number}: {problem}")
        positions.append(position)
        previous = max(previous, position)
    if len(problems) > SHOWN:
        problems[SHOWN:] = [f"... and {len(problems) - SHOWN} more line problems"]
    return problems, positions


def _line_problem(line: bytes, previous: int) -> tuple[str | None, int]:
    """What is wrong with one line (None if nothing), and its position."""
    try:
        event = json.loads(line)
    except ValueError:
        return "not JSON", 0
    if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
        return f"not an event: the fields must be {sorted(EVENT_FIELDS)}", 0
    position = event["position"]
    if not isinstance(position, int) or isinstance(position, bool):
        return "position is not an integer", 0
    if position <= previous:
        return f"position {position} is not after {previous} (out of order)", position
    try:
        base64.b64decode(event["state"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        return f"position {position}: state is not base64", position
    if canonical_json(event) != line:
        return f"position {position}: not in canonical form (edited?)", position
    return None, position


def _head_problems(
    key: Ed25519PublicKey, heads: Sequence[SignedTreeHead], lines: Sequence[bytes]
) -> tuple[list[str], list[SignedTreeHead]]:
    """Problems of the heads, and the heads that verify."""
    if not heads:
        return ["no signed tree heads: nothing vouches for these events"], []
    checks = check_heads(key, heads, [merkle.leaf_hash(line) for line in lines])
    problems = [
        f"head {c.number} ({c.head.tree_size} events, {c.head.timestamp}): "
        f"{c.problem.replace('leaves', 'lines')}"
        for c in checks
        if c.problem
    ]
    span = narrow_down(checks)
    if span:
        low, high = span
        problems.append(
            f"the first difference is in lines {low + 1}..{high}: a line there "
            "was altered, added, removed or moved"
        )
    return problems, [c.head for c in checks if c.problem is None]
