"""What the bulk door answers: one result per envelope (recorded, a repeat,
or refused as the single door refuses it) and their tally; and the examples
OpenAPI shows."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.submission.bulk import JSON, NDJSON
from services.submission.envelope import SUBMISSION
from services.submission.examples import example


class EnvelopeRecorded(BaseModel):
    """An envelope recorded now (``recorded``, what the single door answers
    201) or before (``repeat``, 200: the first result)."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="the envelope's place in the batch, from 0")
    status: Literal[200, 201] = Field(description="the single door's status")
    outcome: Literal["recorded", "repeat"]
    submission_id: str
    position: int = Field(description="the fact's global log position")
    aggregate_type: Literal["case", "apartment"]
    aggregate_id: str = Field(description="the case_id or apartment_id")
    version: int = Field(description="the aggregate's version after the fact")
    repeated: bool


class EnvelopeRefused(BaseModel):
    """An envelope not recorded: the single door's status, code, message
    and details (``details``, ``state``, ``allowed`` ...). ``unavailable``
    (503): not recorded, retry it and those after it."""

    model_config = ConfigDict(extra="allow")

    index: int = Field(description="the envelope's place in the batch, from 0")
    status: int = Field(description="the single door's status", examples=[409])
    outcome: Literal["refused"]
    submission_id: str | None = Field(
        None, description="absent when the envelope could not be read"
    )
    error: str = Field(examples=["transition_not_allowed"])
    message: str


class BatchAnswer(BaseModel):
    """One result per envelope, in the batch's order, and their tally."""

    model_config = ConfigDict(extra="forbid")

    results: list[EnvelopeRecorded | EnvelopeRefused]
    recorded: int = Field(description="envelopes recorded now")
    repeats: int = Field(description="envelopes recorded before (repeats)")
    refused: int = Field(description="envelopes not recorded")
    refusals: dict[str, int] = Field(description="refused envelopes by error code")


#: Two envelopes of one case: a filing and the grant that needs it.
EXAMPLE = [
    example("application_filed", submission_id="0b7e3a52-8f4c-4b8e-9d1a-6c2f1e0a9b01"),
    example(
        "application_granted", submission_id="0b7e3a52-8f4c-4b8e-9d1a-6c2f1e0a9b02"
    ),
]
ANSWER = {
    "results": [
        {"index": i, "status": 201, "outcome": "recorded",
         "submission_id": e["submission_id"], "position": 41 + i,
         "aggregate_type": "case", "aggregate_id": "c-2021-0042",
         "version": 1 + i, "repeated": False}
        for i, e in enumerate(EXAMPLE)
    ],
    "recorded": 2, "repeats": 0, "refused": 0, "refusals": {},
}  # fmt: skip

_SCHEMA = SUBMISSION.json_schema(ref_template="#/components/schemas/{model}")

#: The request body in OpenAPI: an array of envelopes, or NDJSON.
REQUEST_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "title": "SubmissionBatch",
                "type": "array",
                "minItems": 1,
                "description": "up to BOENDE_BATCH_MAX envelopes (default "
                "1000), each as POST /v1/submissions takes it",
                "items": {k: v for k, v in _SCHEMA.items() if k != "$defs"},
                "$defs": _SCHEMA["$defs"],
            },
            "example": EXAMPLE,
        },
        NDJSON: {
            "schema": {
                "type": "string",
                "description": "one envelope per line (blank lines skipped), "
                "up to BOENDE_BATCH_MAX",
            },
            "example": "".join(json.dumps(e) + "\n" for e in EXAMPLE),
        },
    },
}
