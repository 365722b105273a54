"""The quarterly report of unexecuted decisions as a CSV table
(``services.http.reports.quarterly.report_table``), called directly: the
rows with the columns of ``REPORT_COLUMNS``, or for ``public=true`` the
section totals only."""

from __future__ import annotations

from projections.unexecuted import REPORT_COLUMNS
from services.http.reports.quarterly import report_table

ROW = {
    "section": "new",
    "reference": "p-3f2a",
    "decided_on": "2021-03-31",
    "deadline": "2021-06-30",
    "intervention": "socialt_kontrakt",
    "gender": "woman",
    "delay_reason": "offer_declined",
    "status_at_quarter_end": "unexecuted",
    "executed_or_ended_on": None,
    "end_reason": None,
    "days_waiting": 183,
}


def test_the_rows_of_the_report() -> None:
    ended = ROW | {"section": "earlier_resolved", "reference": "p-77c1",
                   "status_at_quarter_end": "cancelled",
                   "executed_or_ended_on": "2021-10-01", "end_reason": "deceased",
                   "delay_reason": None, "days_waiting": 228}  # fmt: skip
    for public in ({}, {"public": False}):
        table = report_table({"rows": [ROW, ended], **public})
        assert [c.name for c in table.columns] == list(REPORT_COLUMNS)
        assert table.rows == (
            ("new", "p-3f2a", "2021-03-31", "2021-06-30", "socialt_kontrakt",
             "woman", "offer_declined", "unexecuted", None, None, 183),
            ("earlier_resolved", "p-77c1", "2021-03-31", "2021-06-30",
             "socialt_kontrakt", "woman", None, "cancelled", "2021-10-01",
             "deceased", 228),
        )  # fmt: skip
    sv = report_table({"rows": [ROW, ended]}).texts("sv")
    assert sv[0][0] == "Nya ej verkställda beslut"
    assert sv[0][6:8] == ["Erbjudande avböjt", "Ej verkställt"]
    assert sv[1][9] == "Avliden"


def test_the_public_report_is_its_section_totals() -> None:
    body = {
        "public": True,
        "totals": {"new": 7, "earlier_resolved": "<5", "earlier_standing": 0},
        "rows": [ROW],
    }
    table = report_table(body)
    assert [c.name for c in table.columns] == ["section", "count"]
    assert table.rows == (
        ("new", 7),
        ("earlier_resolved", "<5"),
        ("earlier_standing", 0),
    )
    assert table.texts("sv")[1] == [
        "Tidigare rapporterade, verkställda eller upphörda",
        "<5",
    ]
