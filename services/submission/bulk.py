"""A batch's body to the raw bytes of each envelope in it, in order.

``POST /v1/submissions/batch`` takes NDJSON (one envelope per line; blank
lines are skipped) or a JSON array of envelopes. Each envelope's own bytes
then go through :func:`services.submission.parsing.parse`, exactly as the
single door's body does: the same size limit, duplicate keys, validation and
messages, so a bad envelope is refused alone and the rest go on.

Only what makes the envelopes impossible to tell apart refuses the whole
batch: an array that is not JSON (422), more envelopes than the batch may
hold (413, counted as the body is split, so a body of a million tiny values
is refused without a list of a million). No message quotes the body: it may
hold personal data.
"""

from __future__ import annotations

import json
import re

from services.errors import InvalidSubmission, PayloadTooLarge

NDJSON = "application/x-ndjson"
JSON = "application/json"

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def too_many(limit: int) -> PayloadTooLarge:
    """413: the batch holds more than ``limit`` envelopes (BOENDE_BATCH_MAX)."""
    return PayloadTooLarge(
        f"a batch holds at most {limit} envelopes (BOENDE_BATCH_MAX); "
        f"send the rest in another batch",
        max_envelopes=limit,
    )


def split(body: bytes, media_type: str, limit: int) -> list[bytes]:
    """Each envelope's bytes, in order; 413 past ``limit`` envelopes, 422 for
    an array that is not JSON or holds none, or an empty batch."""
    parts = (
        split_ndjson(body, limit) if media_type == NDJSON else split_array(body, limit)
    )
    if not parts:
        raise InvalidSubmission(
            "the batch holds no envelope",
            details=[{"loc": "(body)", "problem": "no envelope"}],
        )
    return parts


def split_ndjson(body: bytes, limit: int) -> list[bytes]:
    """One envelope per non-blank line (``\\n`` or ``\\r\\n`` ended)."""
    parts: list[bytes] = []
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        if len(parts) == limit:
            raise too_many(limit)
        parts.append(line[:-1] if line.endswith(b"\r") else line)
    return parts


def split_array(body: bytes, limit: int) -> list[bytes]:
    """Each element of a JSON array, as the bytes it was sent as."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_an_array(f"not UTF-8 at byte {error.start}") from None
    at = _skip(text, 0)
    if text[at : at + 1] != "[":
        raise _not_an_array("the body must be a JSON array (or NDJSON, one per line)")
    at = _skip(text, at + 1)
    parts: list[bytes] = []
    if text[at : at + 1] == "]":
        return _end(text, at + 1, parts)
    while True:
        if len(parts) == limit:
            raise too_many(limit)
        try:
            _, end = _DECODER.raw_decode(text, at)
        except json.JSONDecodeError as error:
            raise _not_an_array(
                f"element {len(parts)}: {error.msg} at character {error.pos}"
            ) from None
        except RecursionError:
            raise _not_an_array(f"element {len(parts)}: nested too deep") from None
        parts.append(text[at:end].encode("utf-8"))
        at = _skip(text, end)
        following = text[at : at + 1]
        if following == "]":
            return _end(text, at + 1, parts)
        if following != ",":
            raise _not_an_array(f"expected ',' or ']' at character {at}")
        at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _end(text: str, at: int, parts: list[bytes]) -> list[bytes]:
    if _skip(text, at) != len(text):
        raise _not_an_array(f"more after the array's end, at character {at}")
    return parts


def _not_an_array(problem: str) -> InvalidSubmission:
    return InvalidSubmission(
        "the batch is not a JSON array of envelopes",
        details=[{"loc": "(body)", "problem": problem}],
    )
