"""``boende audit``: sign, verify, export, verify-bundle, show, public-key.

``verify`` recomputes every leaf from the store and checks it against every
stored signed head (and any ``--against HEAD.json`` an auditor kept), naming
the first position that no longer matches. ``export --to DIR`` signs a fresh
head, then writes an audit bundle (``services.audit.bundle``) that
``verify-bundle DIR`` checks with no database and no service, and ``show
DIR`` prints for people. Both verifiers end with the same honest verdict
(``services.audit.verdict``): how many events a signed head covers, which
key vouched for it, and never "OK" about events no head covers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infra.head_mirror import HeadNotMirrored
from infra.progress import progress
from infra.settings import Settings
from infra.signing import (
    SignedTreeHead,
    SigningKeyError,
    key_id,
    load_public_key,
    public_pem,
    read_signer,
)
from services.audit.verdict import CANNOT_RUN, fingerprint, key_lines, verdict
from services.cli.audit_offline import (
    add_offline_commands,
    allow_unsigned_tail,
    pinned_key,
)
from services.cli.parsing import Commands, command

if TYPE_CHECKING:  # the store is imported only by the commands that use it
    from services.audit.log import AuditLog

AUDIT_DESCRIPTION = """\
Audit proofs for the auditors (revisorer): every event of the case log is a
leaf of a Merkle tree, and signed tree heads vouch for the first events. The
operator signs heads (sign) and exports a bundle (export --to DIR, which signs
a fresh head first). The auditor, with no database: verify-bundle DIR
--public-key PUBLISHED.pem, then show DIR to read the events. A verifier says
how many events a signed head covers and never calls the rest OK. 'boende
audit COMMAND --help' explains one command."""


def add_audit_commands(commands: Commands) -> None:
    """Add ``audit sign|verify|export|verify-bundle|show|public-key``."""
    audit = commands.add_parser(
        "audit",
        help="audit proofs: sign, verify, export, verify-bundle, show, public-key",
        description=AUDIT_DESCRIPTION,
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
        "scheduled job when the API (which signs on its own) is not running. "
        "Exits 2 when there is no usable signing key.",
    )
    _add_verify(actions)
    _add_export(actions)
    add_offline_commands(actions)
    command(
        actions,
        "public-key",
        "print the key that signs tree heads, and its fingerprint",
        public_key,
        "Prints the fingerprint (SHA-256 of the raw Ed25519 public key, hex, "
        "in groups of four: what the verifiers print), the key id (the same "
        "hex, as GET /v1/audit/public-key and every head name it) and the "
        "PEM. Publish it; auditors pin it with --public-key. Exits 2 when "
        "there is no signing key.",
    )


def _add_verify(actions: Commands) -> None:
    check = command(
        actions,
        "verify",
        "check every stored event against every signed tree head",
        verify,
        "Recomputes each event's hash from the store, names the first position "
        "that no longer matches what was signed, and says how many events a "
        "signed head covers. Events recorded since the last head are proven "
        "by nothing: they make it exit 1 unless --allow-unsigned-tail (on a "
        "running system, sign first or pass it). Exits 0 when every event is "
        "proven, 1 on any difference or unproven event, 2 when it cannot run.",
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
    pinned_key(check, "instead of this installation's own signing key")
    allow_unsigned_tail(check)


def _add_export(actions: Commands) -> None:
    export = command(
        actions,
        "export",
        "sign a head, then write a bundle for an offline check",
        export_bundle,
        "Signs a head over every event first (and says so), so the bundle "
        "covers every event; then writes those events as stored, every signed "
        "head and the public key. 'boende audit verify-bundle' checks it with "
        "no database. Exits 2 when the directory is not empty or there is no "
        "signing key.",
    )
    export.add_argument(
        "--to",
        type=Path,
        required=True,
        metavar="DIR",
        help="the directory to write the bundle into: new, or empty. The "
        "events hold personal data as it is stored (sealed): keep it safe",
    )
    export.add_argument(
        "--no-sign",
        dest="sign",
        action="store_false",
        help="do not sign a head first: events after the last signed head are "
        "exported too, and the verifier reports them as not proven",
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
    from services.audit.tree import LogChanged

    with open_audit_log(args.settings) as audit:
        unsigned = audit.app.event_count() - audit.signed_size()
        with progress("hashing the events since the last head", unsigned) as shown:
            try:
                head = audit.sign_head(on_progress=shown.advance)
            except (OSError, SigningKeyError, HeadNotMirrored) as error:
                print(f"cannot sign: {error}")
                return CANNOT_RUN
            except LogChanged as error:  # never re-signed on its own
                print(f"refused to sign: {error}")
                print("'boende audit verify' shows what changed; nothing was signed")
                return 1
    print(json.dumps(head.as_json(), indent=2))
    return 0


def verify(args: argparse.Namespace) -> int:
    """Check every stored event against every signed head; the verdict's
    exit status (``services.audit.verdict``)."""
    try:
        extra = [_read_head(path) for path in args.against]
    except (OSError, ValueError) as error:
        print(f"cannot read a head given with --against: {error}")
        return CANNOT_RUN
    with open_audit_log(args.settings) as audit:
        try:
            key, source = _verifying_key(args.public_key, audit.settings)
        except (OSError, ValueError, SigningKeyError, UnsupportedAlgorithm) as error:
            print(f"no public key to verify with: {error}")
            return CANNOT_RUN
        with progress("reading the case log", audit.app.event_count()) as shown:
            report = audit.verify(key, extra, on_progress=shown.advance)
    print(f"{report.event_count} events, {report.heads_checked} signed heads")
    print("outside the store: " + "; ".join(report.outside))
    print("\n".join(key_lines(key, args.public_key is not None, source)))
    if not report.ok:
        print(report.coverage.summary(failed=True))
        print("FAILED")
        if report.first_bad_position is not None:
            print(f"first position that does not match: {report.first_bad_position}")
        for problem in report.problems:
            print(f"  {problem}")
        return 1
    lines, status = verdict(report.coverage, args.allow_unsigned_tail)
    print("\n".join(lines))
    return status


def export_bundle(args: argparse.Namespace) -> int:
    """Sign a fresh head (unless ``--no-sign``), then write the bundle of
    every event it covers into an empty or new directory."""
    from services.audit.bundle import write_bundle
    from services.audit.tree import LogChanged

    target: Path = args.to
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"{target} is not an empty directory; export into a new one")
        return CANNOT_RUN
    with open_audit_log(args.settings) as audit:
        try:
            key, upto = _sign_first(audit) if args.sign else _no_sign(audit)
        except (OSError, SigningKeyError) as error:
            print(f"no signing key to export with: {error}")
            return CANNOT_RUN
        except (HeadNotMirrored, LogChanged) as error:
            print(f"no head signed, so nothing exported: {error}")
            return CANNOT_RUN
        # Read before the events, so every head fits in them; after signing
        # first, only heads up to its size (another may be signed meanwhile).
        heads = [h for h in audit.heads() if upto is None or h.tree_size <= upto]
        total = upto if upto is not None else audit.app.event_count()
        with progress("writing events.jsonl", total) as shown:
            events = islice(_leaves(audit, shown.advance), upto)
            count = write_bundle(target, events, heads, key, args.sign)
        later = audit.app.event_count() - count
    print(f"exported {count} events and {len(heads)} signed heads to {target}")
    if args.sign and later:
        print(f"{later} events recorded after that head are left out: export again")
    return 0


def _sign_first(audit: AuditLog) -> tuple[Ed25519PublicKey, int]:
    """Sign a head over every event now: the bundle stops at its size."""
    unsigned = audit.app.event_count() - audit.signed_size()
    with progress("signing a tree head first", unsigned) as shown:
        head = audit.sign_head(on_progress=shown.advance)
    print(
        f"signed a fresh tree head of {head.tree_size} events first, so the "
        "bundle covers every event (--no-sign skips this)"
    )
    return audit.signer.public_key, head.tree_size


def _no_sign(audit: AuditLog) -> tuple[Ed25519PublicKey, None]:
    """No new head: the events after the last one stay unproven."""
    key = read_signer(_key_path(audit.settings)).public_key
    unsigned = audit.app.event_count() - audit.signed_size()
    print(
        f"not signing first (--no-sign): {unsigned} events after the last "
        "signed head are covered by none; verify-bundle will say so"
    )
    return key, None


def _leaves(audit: AuditLog, on_progress: Callable[[int], None]) -> Iterator[bytes]:
    """Every stored event's leaf bytes, told one by one (the export may stop
    at the head's size, mid-page)."""
    from services.audit.log import stored_events

    for _, data in stored_events(audit.app):
        on_progress(1)
        yield data


def public_key(args: argparse.Namespace) -> int:
    """Print the public half of the signing key and its fingerprint."""
    settings = args.settings or Settings()
    try:
        key = read_signer(_key_path(settings)).public_key
    except (OSError, SigningKeyError) as error:
        print(f"no signing key here: {error}", file=sys.stderr)
        return CANNOT_RUN
    print(f"# fingerprint: {fingerprint(key)}")
    print(f"# key_id: {key_id(key)}")
    print(public_pem(key), end="")
    return 0


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


def _verifying_key(
    pinned: Path | None, settings: Settings
) -> tuple[Ed25519PublicKey, str]:
    """The pinned key, or this installation's own signing key; and where from."""
    if pinned is not None:
        return load_public_key(pinned.read_bytes()), f"--public-key {pinned}"
    path = _key_path(settings)
    return read_signer(path).public_key, f"this installation's signing key {path}"


def _read_head(path: Path) -> SignedTreeHead:
    return SignedTreeHead.from_json(json.loads(path.read_text()))
