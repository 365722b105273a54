"""``boende audit verify-bundle DIR`` and ``boende audit show DIR``: the
auditor's commands, with no database and no service (``services.audit.bundle``
and ``services.audit.readable``; the store is never imported here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm

from infra.signing import SigningKeyError, load_public_key
from services.audit.bundle import read_events, verify_bundle
from services.audit.verdict import CANNOT_RUN, key_lines, verdict
from services.cli.parsing import Commands, command


def add_offline_commands(actions: Commands) -> None:
    """Add ``verify-bundle`` and ``show`` to ``boende audit``."""
    offline = command(
        actions,
        "verify-bundle",
        "check an audit bundle offline, with no database",
        verify_bundle_command,
        "Checks every line, every head's signature and root, and says how "
        "many events a signed head covers ('N of M events covered by a signed "
        "head'). Events after the last head are proven by nothing: never OK, "
        "and exit 1 unless --allow-unsigned-tail; a head of 0 events proves "
        "nothing. Without --public-key the bundle's own key is trusted and "
        "its fingerprint printed, to compare with the published one. Exits 0 "
        "when every event is proven, 1 on any problem or unproven event, 2 "
        "when the pinned key cannot be read.",
    )
    offline.add_argument(
        "bundle", type=Path, metavar="DIR", help="the bundle's directory"
    )
    pinned_key(offline, "instead of the key found in the bundle")
    allow_unsigned_tail(offline)
    reader = command(
        actions,
        "show",
        "print an audit bundle's events in readable form",
        show,
        "Position, type, aggregate, dates, actor and payload of each event, "
        "as stored: personal data stays sealed (never decrypted). Reading is "
        "not verifying: verify-bundle says what is proven. Exits 1 when the "
        "position is not in the bundle or a line is not an event, 2 when "
        "there is no events.jsonl.",
    )
    reader.add_argument(
        "bundle", type=Path, metavar="DIR", help="the bundle's directory"
    )
    reader.add_argument(
        "--position",
        type=int,
        metavar="N",
        help="only the event at log position N, sealed values in full",
    )


def pinned_key(parser: argparse.ArgumentParser, instead: str) -> None:
    """``--public-key FILE``: the key the auditor pinned."""
    parser.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="check with this PEM public key (the one the municipality "
        f"published, as 'boende audit public-key' prints it) {instead}",
    )


def allow_unsigned_tail(parser: argparse.ArgumentParser) -> None:
    """``--allow-unsigned-tail``: exit 0 with events after the last head."""
    parser.add_argument(
        "--allow-unsigned-tail",
        action="store_true",
        help="exit 0 even when events after the last signed head are covered "
        "by none (they are still reported as not proven); never when no event "
        "is covered",
    )


def verify_bundle_command(args: argparse.Namespace) -> int:
    """Check an audit bundle offline; the verdict's exit status."""
    try:
        pinned = (
            load_public_key(args.public_key.read_bytes()) if args.public_key else None
        )
    except (OSError, ValueError, SigningKeyError, UnsupportedAlgorithm) as error:
        print(f"cannot read the key given with --public-key: {error}")
        return CANNOT_RUN
    report = verify_bundle(args.bundle, pinned)
    print(f"{report.event_count} events, {report.head_count} signed heads")
    if report.key is not None:
        source = (
            f"--public-key {args.public_key}"
            if pinned
            else "the bundle's own public_key.pem"
        )
        print("\n".join(key_lines(report.key, pinned is not None, source)))
    if not report.ok:
        print(report.coverage.summary(failed=True))
        print("FAILED")
        for problem in report.problems:
            print(f"  {problem}")
        return 1
    lines, status = verdict(report.coverage, args.allow_unsigned_tail)
    print("\n".join(lines))
    return status


def show(args: argparse.Namespace) -> int:
    """Print a bundle's events (or one) for people; nothing is decrypted."""
    from services.audit.readable import describe

    try:
        lines = read_events(args.bundle)
    except (OSError, ValueError) as error:
        print(f"cannot read the bundle's events: {error}", file=sys.stderr)
        return CANNOT_RUN
    print(
        "Read, not verified: 'boende audit verify-bundle' says what the signed "
        "heads prove. Sealed values stay sealed.\n"
    )
    found = unreadable = 0
    for number, line in enumerate(lines, 1):
        if args.position is not None and _position(line) != args.position:
            continue
        try:
            shown = describe(line, full=args.position is not None)
        except (ValueError, RecursionError):
            print(f"line {number}: not a readable event\n")
            unreadable += 1
            continue
        found += 1
        print("\n".join(shown) + "\n")
    if args.position is not None and not found:
        print(f"no event at position {args.position} in this bundle")
        return 1
    return 1 if unreadable else 0


def _position(line: bytes) -> object:
    try:
        return json.loads(line).get("position")
    except (ValueError, AttributeError, RecursionError):
        return None
