"""``utc_text`` without a conversion for times already in UTC (the store's)
gives the text the conversion gives, for any zone, year and microsecond."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from projections.base import utc_text

zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(0), "UTC+0"),
        timezone(timedelta(hours=2)),
        timezone(timedelta(hours=-5, minutes=-30)),
        timezone(timedelta(seconds=30)),
    ]
)


@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones
    )
)
def test_the_text_is_that_of_the_time_converted_to_utc(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    assert utc_text(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
