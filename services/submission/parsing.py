"""Raw bytes to a validated submission envelope, or the refusal that says
why not: 413 over the size limit, 422 for a key that appears twice, for
every schema problem (each field path named, never its value). And the
digest of an envelope's meaning, which tells a repeat from a conflict."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import ValidationError

from services.errors import InvalidSubmission, PayloadTooLarge
from services.submission.envelope import SUBMISSION, Envelope


def parse(raw: bytes, max_bytes: int) -> Envelope:
    """Validate raw JSON bytes as a submission envelope."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"body is {len(raw)} bytes; the limit is {max_bytes}", limit=max_bytes
        )
    _refuse_duplicate_keys(raw)
    try:
        return SUBMISSION.validate_json(raw)
    except ValidationError as error:
        raise InvalidSubmission(
            f"{error.error_count()} problem(s) in the submission",
            details=validation_details(error),
        ) from None


class _DuplicateKey(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            # A field name is safe to name; any other key may be data.
            raise _DuplicateKey(key if _FIELD_NAME.fullmatch(key) else None)
        found[key] = value
    return found


_FIELD_NAME = re.compile(r"[a-z_]{1,40}")


def _refuse_duplicate_keys(raw: bytes) -> None:
    """422 for a key that appears twice in one JSON object: JSON parsers
    disagree on which one wins, so a sender and Boende could read one body
    two ways. Bodies that are not JSON are left to the validation after."""
    try:
        json.loads(raw, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as duplicate:
        key = duplicate.args[0]
        problem = f"the key {key!r} appears twice" if key else "a key appears twice"
        raise InvalidSubmission(
            "a key appears twice in one JSON object",
            details=[{"loc": "(body)", "problem": problem}],
        ) from None
    except (ValueError, RecursionError):
        pass  # not JSON: validate_json says how


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    """Each problem's field path and message; never the offending value."""
    details = []
    for problem in error.errors(
        include_input=False, include_url=False, include_context=False
    ):
        loc = [str(part) for part in problem["loc"]]
        if loc and loc[0] in _TAGS:  # drop the union tag pydantic puts first
            loc = loc[1:]
        details.append({"loc": ".".join(loc) or "(body)", "problem": problem["msg"]})
    return details


_TAGS = frozenset(SUBMISSION.json_schema()["discriminator"]["mapping"])


def body_sha256(sub: Envelope) -> str:
    """A digest of the submission's meaning: key order and spacing don't count."""
    canonical = json.dumps(
        sub.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
