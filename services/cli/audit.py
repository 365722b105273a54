"""``boende audit``: sign, verify, export and verify-bundle.

``verify`` recomputes every leaf from the store and checks it against every
stored signed head (and any ``--against HEAD.json`` an auditor kept), naming
the first position that no longer matches. ``export --to DIR`` writes an
audit bundle; ``verify-bundle DIR`` checks one with no database and no
service — only file reads, ``infra.merkle`` and ``cryptography``.

A bundle is a directory of four files:

- ``events.jsonl``: one event per line in log order, each line exactly its
  leaf bytes (services/audit/log.py) followed by ``\\n``;
- ``tree_heads.json``: ``{"heads": [...]}``, every signed head, oldest first;
- ``public_key.pem``: the key that signed them (compare its ``key_id`` with
  the published one, or pass ``--public-key``);
- ``bundle.json``: format, event count, export time, key id.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infra import merkle
from infra.progress import progress
from infra.settings import Settings
from infra.signing import (
    SignedTreeHead,
    SigningKeyError,
    canonical_json,
    check_heads,
    key_id,
    load_public_key,
    narrow_down,
    public_pem,
    read_signer,
    utc_timestamp,
)
from services.cli.parsing import Commands, command

if TYPE_CHECKING:  # the store is imported only by the commands that use it
    from services.audit.log import AuditLog

BUNDLE_FORMAT = "boende-audit-bundle/1"
EVENT_FIELDS = {"position", "originator_id", "originator_version", "topic", "state"}
SHOWN = 5  # line problems printed before "... and N more"


def add_audit_commands(commands: Commands) -> None:
    """Add ``audit sign|verify|export|verify-bundle`` to ``boende``'s parser."""
    audit = commands.add_parser(
        "audit", help="audit proofs: sign, verify, export, verify-bundle"
    )
    audit.set_defaults(settings=None)
    actions = audit.add_subparsers(dest="action", required=True)
    command(
        actions,
        "sign",
        "sign a tree head over the case log now",
        sign,
        "Hashes the events recorded since the last signed head and signs the "
        "new root with the audit signing key; prints the head as JSON. For a "
        "scheduled job when the API (which signs on its own) is not running.",
    )
    check = command(
        actions,
        "verify",
        "check every stored event against every signed tree head",
        verify,
        "Recomputes each event's hash from the store and names the first "
        "position that no longer matches what was signed. Exits 1 on any "
        "difference, 2 when it cannot run.",
    )
    check.add_argument(
        "--against",
        type=Path,
        action="append",
        default=[],
        metavar="HEAD.json",
        help="a signed tree head an auditor kept (a JSON file, as 'audit sign' "
        "prints it), checked too; repeat for more",
    )
    check.add_argument("--public-key", type=Path, help=PINNED_KEY_HELP)
    export = command(
        actions,
        "export",
        "write an audit bundle for an offline check",
        export_bundle,
        "The bundle holds every event as stored, every signed head and the "
        "public key; 'boende audit verify-bundle' checks it with no database.",
    )
    export.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="DIR",
        help="the directory to write the bundle into: new, or empty. The "
        "events hold personal data as it is stored: keep the bundle safe",
    )
    offline = command(
        actions,
        "verify-bundle",
        "check an audit bundle offline, with no database",
        verify_bundle_command,
    )
    offline.add_argument(
        "bundle", type=Path, metavar="DIR", help="the bundle's directory"
    )
    offline.add_argument("--public-key", type=Path, help=PINNED_KEY_HELP)


PINNED_KEY_HELP = (
    "check with this PEM public key (the one the municipality published) "
    "instead of the key found beside the heads"
)


def main(argv: Sequence[str], settings: Settings | None = None) -> int:
    """``boende audit ...`` on ``settings`` (tests; the CLI reads the env)."""
    parser = argparse.ArgumentParser(prog="boende")
    add_audit_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["audit", *argv])
    args.settings = settings
    return int(args.run(args))


# -- against the store ---------------------------------------------------------


def sign(args: argparse.Namespace) -> int:
    """Sign a tree head now (for a cron job when the API is not running)."""
    with open_audit_log(args.settings) as audit:
        unsigned = audit.app.event_count() - audit.signed_size()
        with progress("hashing the events since the last head", unsigned) as shown:
            head = audit.sign_head(on_progress=shown.advance)
    print(json.dumps(head.as_json(), indent=2))
    return 0


def verify(args: argparse.Namespace) -> int:
    """Check every stored event against every signed head; 1 on any problem."""
    try:
        extra = [_read_head(path) for path in args.against]
    except (OSError, ValueError) as error:
        print(f"cannot read a head given with --against: {error}")
        return 2
    with open_audit_log(args.settings) as audit:
        try:
            key = _public_key(args.public_key, audit.settings)
        except (OSError, SigningKeyError) as error:
            print(f"no public key to verify with: {error}")
            return 2
        with progress("reading the case log", audit.app.event_count()) as shown:
            report = audit.verify(key, extra, on_progress=shown.advance)
    print(
        f"{report.event_count} events, {report.heads_checked} signed heads, "
        f"key {key_id(key)}"
    )
    if report.heads_checked == 0 and report.event_count:
        print("FAILED: no signed tree head covers these events")
        return 1
    if not report.ok:
        print("FAILED")
        if report.first_bad_position is not None:
            print(f"first position that does not match: {report.first_bad_position}")
        for problem in report.problems:
            print(f"  {problem}")
        return 1
    unsigned = report.event_count - report.signed_size
    print(f"OK: the first {report.signed_size} events are as signed", end="")
    print(f"; {unsigned} recorded since, not signed yet" if unsigned else "")
    return 0


def export_bundle(args: argparse.Namespace) -> int:
    """Write the audit bundle into an empty or new directory."""
    target: Path = args.to
    if target.exists() and any(target.iterdir()):
        print(f"{target} is not empty; export into a new directory")
        return 2
    with open_audit_log(args.settings) as audit:
        try:
            key = _public_key(None, audit.settings)
        except (OSError, SigningKeyError) as error:
            print(f"no signing key to export: {error}")
            return 2
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o700)  # the events hold personal data as stored
        heads = audit.heads()  # before the events, so every head fits in them
        with progress("writing events.jsonl", audit.app.event_count()) as shown:
            count = _write_events(target / "events.jsonl", audit, shown.advance)
    _write_json(target / "tree_heads.json", {"heads": [h.as_json() for h in heads]})
    (target / "public_key.pem").write_text(public_pem(key))
    manifest = {
        "format": BUNDLE_FORMAT,
        "event_count": count,
        "head_count": len(heads),
        "key_id": key_id(key),
        "exported_at": utc_timestamp(),
    }
    _write_json(target / "bundle.json", manifest)
    print(f"exported {count} events and {len(heads)} signed heads to {target}")
    return 0


def _write_events(
    path: Path, audit: AuditLog, on_progress: Callable[[int], None]
) -> int:
    from services.audit.log import stored_events

    count = 0
    with path.open("wb") as events:
        for _, data in stored_events(audit.app, on_progress=on_progress):
            events.write(data + b"\n")
            count += 1
    return count


@contextmanager
def open_audit_log(settings: Settings | None) -> Iterator[AuditLog]:
    """Boende on ``settings`` (default: the environment) and its audit log."""
    from services.audit.log import AuditLog
    from services.bootstrap import bootstrap

    boende = bootstrap(settings or Settings())
    audit = AuditLog(boende.settings, boende.app)
    try:
        yield audit
    finally:
        audit.close()
        boende.close()


def _key_path(settings: Settings) -> Path:
    from services.audit.log import signing_key_path

    return signing_key_path(settings)


def _public_key(pinned: Path | None, settings: Settings) -> Ed25519PublicKey:
    if pinned is not None:
        return load_public_key(pinned.read_bytes())
    return read_signer(_key_path(settings)).public_key


def _read_head(path: Path) -> SignedTreeHead:
    return SignedTreeHead.from_json(json.loads(path.read_text()))


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


# -- offline -------------------------------------------------------------------


@dataclass
class BundleReport:
    """What ``verify_bundle`` found; ``ok`` only when nothing is wrong."""

    event_count: int = 0
    head_count: int = 0
    key_id: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle_command(args: argparse.Namespace) -> int:
    """Check an audit bundle offline; 1 on any problem."""
    pinned = load_public_key(args.public_key.read_bytes()) if args.public_key else None
    report = verify_bundle(args.bundle, pinned)
    print(
        f"{report.event_count} events, {report.head_count} signed heads, "
        f"key {report.key_id or '?'}"
    )
    if report.ok:
        print("OK: every signed head verifies and matches the events")
        return 0
    print("FAILED")
    for problem in report.problems:
        print(f"  {problem}")
    return 1


def verify_bundle(
    directory: Path, pinned: Ed25519PublicKey | None = None
) -> BundleReport:
    """Every line canonical and in position order; every head signed by the
    bundle's (or the pinned) key, with the root of its first lines."""
    report = BundleReport()
    try:
        key = load_public_key((directory / "public_key.pem").read_bytes())
        lines = _event_lines((directory / "events.jsonl").read_bytes())
        heads_json = json.loads((directory / "tree_heads.json").read_text())
        heads = [SignedTreeHead.from_json(h) for h in heads_json["heads"]]
    except (OSError, ValueError, KeyError, TypeError, SigningKeyError) as error:
        report.problems.append(f"not a readable audit bundle: {error}")
        return report
    report.event_count, report.head_count = len(lines), len(heads)
    report.key_id = key_id(key)
    if pinned is not None and key_id(pinned) != report.key_id:
        report.problems.append(f"the bundle's key is not the pinned {key_id(pinned)}")
        key = pinned
    report.problems += _line_problems(lines)
    report.problems += _head_problems(key, heads, lines)
    return report


def _event_lines(data: bytes) -> list[bytes]:
    if data and not data.endswith(b"\n"):
        raise ValueError("events.jsonl does not end with a newline")
    return data.split(b"\n")[:-1] if data else []


def _line_problems(lines: Sequence[bytes]) -> list[str]:
    problems: list[str] = []
    previous = 0
    for number, line in enumerate(lines, 1):
        problem, position = _line_problem(line, previous)
        if problem:
            problems.append(f"line {number}: {problem}")
        previous = max(previous, position)
    if len(problems) > SHOWN:
        problems[SHOWN:] = [f"... and {len(problems) - SHOWN} more line problems"]
    return problems


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
) -> list[str]:
    if not heads:
        return ["no signed tree heads: nothing vouches for these events"]
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
    return problems
