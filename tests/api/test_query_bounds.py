"""Any day a caller can write gets an answer or a 422, never a 500: query
days are bounded (1900-01-01 to 2999-12-31, where no arithmetic on them can
overflow), and a per-period answer holds at most 240 periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.http.deps import MAX_PERIODS

DAY_ROUTES = [
    "/v1/oversight/counts?as_of={day}",
    "/v1/oversight/flows?from={day}",
    "/v1/oversight/flows?to={day}",
    "/v1/oversight/lead-times?from={day}&period=year",
    "/v1/oversight/unexecuted?as_of={day}",
    "/v1/reports/unexecuted?quarter={day.year}Q1",
    "/v1/audit/events?from={day}",
    "/v1/audit/access?to={day}",
    "/v1/audit/purges?from={day}",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(route=st.sampled_from(DAY_ROUTES), day=st.dates())
def test_no_representable_day_gives_a_5xx(
    client: TestClient, route: str, day: date
) -> None:
    response = client.get(route.format(day=day), headers={"X-Purpose": "tillsyn"})
    assert response.status_code < 500, response.text
    if not date(1900, 1, 1) <= day <= date(2999, 12, 31) and "quarter" not in route:
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(moment=st.datetimes(timezones=st.sampled_from([UTC, None])))
def test_no_representable_known_at_gives_a_5xx(
    client: TestClient, moment: datetime
) -> None:
    response = client.get(
        "/v1/oversight/counts", params={"known_at": moment.isoformat()}
    )
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    ("route", "period", "start", "end", "status"),
    [
        ("flows", "month", "2001-01-01", "2020-12-31", 200),  # 240 months
        ("flows", "month", "2001-01-01", "2021-01-01", 422),  # 241
        ("flows", "year", "1900-01-01", "2139-12-31", 200),  # 240 years
        ("flows", "year", "1900-01-01", "2999-12-31", 422),
        ("lead-times", "quarter", "1990-01-01", "2049-12-31", 200),  # 240
        ("lead-times", "quarter", "1990-01-01", "2050-01-01", 422),
    ],
)
def test_a_range_holds_at_most_240_periods(
    client: TestClient, route: str, period: str, start: str, end: str, status: int
) -> None:
    response = client.get(
        f"/v1/oversight/{route}",
        params={"from": start, "to": end, "period": period},
    )
    assert response.status_code == status, response.text
    if status == 200:
        assert len(response.json()["periods"]) == MAX_PERIODS
    else:
        assert response.json()["max_periods"] == MAX_PERIODS
