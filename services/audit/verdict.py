"""What a verifier may claim, in words, and the exit status that follows.

``boende audit verify`` (the store) and ``boende audit verify-bundle`` (a
bundle) both end with the same statements, made here: which key vouched for
the heads and whether the auditor pinned it, and how many events a signed
head covers. A signed head proves the first ``tree_size`` events only; the
events after the last head (the *tail*) are proven by nothing, so "OK" is
never said about them, and a head of 0 events proves nothing at all.

Exit statuses: 0 every event proven (or a proven prefix and a tail accepted
with ``--allow-unsigned-tail``); 1 something failed, or events are not
proven; 2 the check could not run (no key, unreadable input).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infra.signing import SignedTreeHead, key_id

PROVEN, NOT_PROVEN, CANNOT_RUN = 0, 1, 2
PUBLISHED = "boende audit public-key, or key_id of GET /v1/audit/public-key"


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte Ed25519 public key, hex, in groups of
    four: the ``key_id`` every head names, grouped for reading aloud."""
    digest = key_id(public_key)
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def key_lines(public_key: Ed25519PublicKey, pinned: bool, source: str) -> list[str]:
    """Which key vouched for the heads: pinned by the auditor, or trusted
    as found (``source``), with its fingerprint to compare by hand."""
    if pinned:
        return [f"key: pinned ({source}); fingerprint {fingerprint(public_key)}"]
    return [
        f"key: NOT PINNED: {source} was trusted as found.",
        f"  fingerprint {fingerprint(public_key)}",
        "  Compare it with the fingerprint the municipality published "
        f"({PUBLISHED}), or pin that key with --public-key FILE.",
    ]


@dataclass(frozen=True)
class Coverage:
    """How much of a log of ``total`` events its signed heads prove."""

    total: int
    covered: int  # the first events, covered by a head that verifies
    tail: tuple[int, int] | None = None  # positions after the last good head
    empty_heads: int = 0  # heads of 0 events: they prove nothing

    @staticmethod
    def of(
        total: int, good_heads: Sequence[SignedTreeHead], positions: Sequence[int]
    ) -> Coverage:
        """From the heads that verified and the events' positions in order."""
        covered = max((h.tree_size for h in good_heads), default=0)
        covered = min(covered, total)
        tail = (positions[covered], positions[-1]) if covered < total else None
        empty = sum(1 for h in good_heads if h.tree_size == 0)
        return Coverage(total, covered, tail, empty)

    def summary(self, failed: bool) -> str:
        what = "a signed head that verifies" if failed else "a signed head"
        return f"{self.covered} of {self.total} events covered by {what}"


def verdict(coverage: Coverage, allow_unsigned_tail: bool) -> tuple[list[str], int]:
    """The closing lines once nothing failed, and the exit status."""
    lines = [coverage.summary(failed=False)]
    if coverage.empty_heads:
        lines.append(
            f"note: {coverage.empty_heads} head(s) of 0 events cover no event "
            "and prove nothing (a fresh server signs one)"
        )
    uncovered = coverage.total - coverage.covered
    if coverage.total == 0:
        return [
            *lines,
            "NOT PROVEN: there are no events: nothing is proven",
        ], NOT_PROVEN
    if coverage.covered == 0:
        lines.append(
            f"NOT PROVEN: no signed head covers any of the {coverage.total} "
            "events: nothing shows they are as recorded (sign a head first)"
        )
        return lines, NOT_PROVEN
    if coverage.tail is None:
        return [*lines, f"OK: all {coverage.total} events are as signed"], PROVEN
    first, last = coverage.tail
    lines += [
        f"OK: the first {coverage.covered} events are as signed",
        f"NOT PROVEN: the last {uncovered} events (positions {first}..{last}) "
        "come after the last signed head: nothing shows they were not "
        "edited, added or removed",
    ]
    if allow_unsigned_tail:
        lines.append("accepted unproven, as --allow-unsigned-tail asks")
        return lines, PROVEN
    lines.append(
        f"FAILED: {uncovered} events are covered by no signed head (sign a "
        "head and check again, or pass --allow-unsigned-tail)"
    )
    return lines, NOT_PROVEN
