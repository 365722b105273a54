"""What the answers share: the base model, dates and times as text, the
figures of a public answer, and the provenance of a read-model answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    """An answer: only the documented keys (an unknown one is a bug, 500),
    in the order they are sent (fields are declared in that order)."""

    model_config = ConfigDict(extra="forbid")


#: An ISO date, sent as the read model wrote it.
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]
#: A UTC time (ISO 8601), sent as it was recorded.
Moment = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
#: A code of one of DOMAIN.md's lists (a state, a reason, a gender ...).
Code = str

#: A figure of a public answer (``public=true``): the count, ``"<5"`` for 1-4
#: (``BOENDE_SUPPRESSION_THRESHOLD``) or ``"suppressed"``; always a count
#: otherwise.
Figure = Annotated[
    int | Annotated[str, Field(pattern=r"^(<[0-9]+|suppressed)$")],
    Field(description="a count; public=true: also '<5' or 'suppressed'"),
]
Body = TypeVar("Body", bound=Mapping[str, Any])

#: What the marks of a public answer mean: ``{"<5": ..., "suppressed": ...}``.
Legend = dict[str, str]


#: A read model's answer: the log position it reflects.
AsOfPosition = Annotated[int, Field(description="the log position the answer reflects")]
#: An oversight answer's log up to ``as_of_position``: its size and root.
TreeSize = Annotated[int, Field(description="events in the log up to as_of_position")]
RootHash = Annotated[str, Field(description="the Merkle root (hex) of that log")]


class Health(Answer):
    """``GET /healthz``: the process is up."""

    status: str = Field(examples=["ok"])


class Ready(Answer):
    """``GET /readyz``: the event store answered, at this log position."""

    status: str = Field(examples=["ready"])
    position: int = Field(description="the log's last position (0: empty)")


def checked(model: type[BaseModel], body: Body) -> Body:
    """``body``, sent as it is, once it is what ``model`` documents (else
    ``ValidationError``: 500, logged). For a route that answers a ready
    ``Response`` (its JSON also read by the oversight web), which FastAPI
    does not check against the route's ``response_model``."""
    model.model_validate(body)
    return body
