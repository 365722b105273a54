"""The answer of ``POST /v1/submissions`` (and of a repeat)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.http.models.common import Answer


class SubmissionRecorded(Answer):
    """The fact is durably recorded (201), or was before (200, a repeat:
    the first result)."""

    submission_id: str = Field(description="the sender's UUID")
    position: int = Field(description="the fact's global log position")
    aggregate_type: Literal["case", "apartment"]
    aggregate_id: str = Field(description="the case_id or apartment_id")
    version: int = Field(description="the aggregate's version after the fact")
    repeated: bool = Field(description="true: a repeat, nothing new recorded")
