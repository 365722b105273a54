"""The domain's refusals: one small hierarchy shared by both aggregates.

Each error names the rule it enforces; the HTTP and Kafka edges map them to
the error codes of DOMAIN.md. Messages never carry personal data.
"""

from __future__ import annotations


class DomainError(Exception):
    """A submission breaks a rule of the domain; nothing is recorded."""

    code = "domain_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class TransitionNotAllowed(DomainError):
    """The event is not allowed in the aggregate's current state."""

    code = "transition_not_allowed"

    def __init__(self, event_type: str, state: str, allowed: list[str]) -> None:
        super().__init__(
            f"{event_type} is not allowed in state {state}",
            state=state,
            allowed=allowed,
        )


class ApartmentUnavailable(DomainError):
    """A contract names an apartment that is not available."""

    code = "apartment_unavailable"


class DateOutOfOrder(DomainError):
    """``occurred_on`` is before the aggregate's previous fact."""

    code = "date_out_of_order"


class FutureDate(DomainError):
    """``occurred_on`` is after today."""

    code = "invalid_submission"


class OfferDateInvalid(DomainError):
    """``offered_on`` names no offer this fact can be about: given with a
    reason other than ``offer_declined``, before the decision, or after the
    fact itself."""

    code = "invalid_submission"


class NotFound(DomainError):
    """No case or apartment with that id has been recorded."""

    code = "not_found"


class Forbidden(DomainError):
    """The committee may not submit this type of fact."""

    code = "forbidden"
