"""The council's statistical report as one CSV table
(``services.http.reports.council.council_table``), called directly: each
measure's rows after the other, the measure first, and a subtotal's or
total's ``total`` written as the measure list's word for it."""

from __future__ import annotations

from collections import Counter

from services.http.reports.council import council_table
from services.reporting.council import council_tables
from services.reporting.tables import Coded

BANDS = {"3_6": 0, "7_9": 0, "10_12": 0, "13_17": 0, "18_plus": 0}


def line(intervention: str, gender: str, **figures: object) -> dict[str, object]:
    return {"intervention": intervention, "gender": gender, **BANDS, **figures}


BODY = {
    "quarter": "2021Q3",
    "tables": {
        "unexecuted": [
            line("socialt_kontrakt", "woman", **{"3_6": 6, "total": 6}),
            line("socialt_kontrakt", "total", **{"3_6": 6, "total": 6}),
            line("total", "total", **{"3_6": 6, "total": 6}),
        ],
        "executed_late": [
            line("boendesocial_insats", "man", **{"7_9": "<5", "total": "<5"}),
            line("total", "total", **{"7_9": "suppressed", "total": "<5"}),
        ],
    },
}
TOTAL = Coded("measure", "total")


def test_each_measures_rows_after_the_other() -> None:
    table = council_table(BODY)
    assert [column.name for column in table.columns] == [
        "measure", "intervention", "gender",
        "3_6", "7_9", "10_12", "13_17", "18_plus", "total",
    ]  # fmt: skip
    assert table.rows == (
        ("unexecuted", "socialt_kontrakt", "woman", 6, 0, 0, 0, 0, 6),
        ("unexecuted", "socialt_kontrakt", TOTAL, 6, 0, 0, 0, 0, 6),
        ("unexecuted", TOTAL, TOTAL, 6, 0, 0, 0, 0, 6),
        ("executed_late", "boendesocial_insats", "man", 0, "<5", 0, 0, 0, "<5"),
        ("executed_late", TOTAL, TOTAL, 0, "suppressed", 0, 0, 0, "<5"),
    )


def test_the_words_of_the_table_in_swedish_and_english() -> None:
    sv = council_table(BODY).texts("sv")
    assert sv[1] == [
        "Ej verkställda beslut vid kvartalets slut",
        "Socialt kontrakt",
        "Totalt",
        "6", "0", "0", "0", "0", "6",
    ]  # fmt: skip
    assert sv[2][1:3] == ["Totalt", "Totalt"]
    en = council_table(BODY).texts("en")
    assert en[1][:3] == ["unexecuted", "socialt_kontrakt", "total"]
    assert en[4][:3] == ["executed_late", "total", "total"]


def test_the_whole_report_of_two_measures() -> None:
    cells = Counter({("unexecuted", "socialt_kontrakt", "woman", "3_6"): 6})
    table = council_table(council_tables(cells, 5))
    # Per measure: two interventions of four genders and a subtotal, and the
    # grand total.
    assert len(table.rows) == 2 * (2 * 5 + 1)
    assert [row[0] for row in table.rows] == ["unexecuted"] * 11 + [
        "executed_late"
    ] * 11
    assert table.rows[0] == (
        "unexecuted",
        "socialt_kontrakt",
        "woman",
        6,
        0,
        0,
        0,
        0,
        6,
    )
    assert table.rows[10] == ("unexecuted", TOTAL, TOTAL, 6, 0, 0, 0, 0, 6)
    assert table.rows[21] == ("executed_late", TOTAL, TOTAL, 0, 0, 0, 0, 0, 0)
