"""Groups of the figures listed by the names they are shown by, in Swedish
alphabetical order (projections.spellings.shown_order), rooms by number:
the stock, rents, vacancies and first-hand cohorts alike."""

from __future__ import annotations

from datetime import date

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.first_hand import first_hand
from projections.rents import rents, vacancy
from projections.spellings import in_shown_order, shown_order
from projections.tenancies import Tenancies
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_tenancies import ORG

NAMES = {
    "556012-3456": "Öbo AB",
    "916512-3457": "Hyresvärden HB",
    "n:ab bo": "AB Bo",
}


def test_by_name_not_by_key() -> None:
    keys = ["556012-3456", "916512-3457", "n:ab bo"]
    assert in_shown_order(keys, NAMES) == ["n:ab bo", "916512-3457", "556012-3456"]


def test_keys_without_a_name_by_themselves_rooms_by_number() -> None:
    assert in_shown_order({"0010", "0002", "0001"}, {}) == ["0001", "0002", "0010"]
    assert shown_order("", {}) == (("", ""), "")


def test_two_groups_of_one_name_by_key() -> None:
    assert in_shown_order(["2", "1"], {"2": "Bo AB", "1": "Bo AB"}) == ["1", "2"]


def _log() -> Log:
    """Two contracts executed in 2022Q1: "Öbo AB" (an organisation number,
    which sorts before any name key) in "Ängen", "Alfa HB" (none) in "Åby"
    ("ängen" comes before "åby" in code points)."""
    log = Log()
    for case_id, flat_id, landlord, org_no, district in [
        ("S1", "Q1", "Öbo AB", ORG, "Ängen"),
        ("S2", "Q2", "Alfa HB", None, "Åby"),
    ]:
        flat = Apartment.acquire(stamp("2021-12-01", "ALN"), flat_id, landlord,
                                 district, 2, 5000, org_no)  # fmt: skip
        log.take(flat, "2021-12-01T08:00:00")
        case = HousingCase.file(stamp("2021-12-02"), case_id, {}, {}, "man", 1980)
        case.grant(stamp("2021-12-03"), f"d-{case_id}", "socialt_kontrakt",
                   "assessment")  # fmt: skip
        log.take(case, "2021-12-03T08:00:00")
        case.execute(stamp("2022-01-10"), flat, 5000, date(2022, 1, 10))
        log.take(case, "2022-01-10T08:00:00")
        log.take(flat, "2022-01-10T08:00:00")
    return log


def test_figures_list_groups_in_swedish_alphabetical_order() -> None:
    projection = Tenancies()
    with tables(projection) as sql:
        projection.process_batch(sql, _log().records)
        day = date(2022, 2, 1)
        for by, order in [("landlord", ["Alfa HB", "Öbo AB"]),
                          ("district", ["Åby", "Ängen"])]:  # fmt: skip
            assert [g[by] for g in rents(sql, day, by)] == order
            quarter = (date(2022, 1, 1), date(2022, 3, 31))
            assert [g[by] for g in first_hand(sql, *quarter, day, by)] == order
            months = vacancy(sql, date(2021, 12, 1), date(2021, 12, 31), "month",
                             by, day)  # fmt: skip
            assert [g[by] for g in months] == order
