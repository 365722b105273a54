"""The charts (``services.reporting.charts``): SVG a screen reader can name,
that loads nothing and runs nothing, in colours that print in greyscale."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from services.reporting.charts import (
    DASHES,
    MAX_SERIES,
    PALETTE,
    Series,
    axis_ticks,
    bar_chart,
    line_chart,
    stylesheet,
)

LABELS = ["2026-01", "2026-02", "2026-03"]
SERIES = [Series("Beviljade", [4, 7, 5]), Series("Verkställda", [1, None, 3])]


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("draw", [line_chart, bar_chart])
def test_a_chart_is_a_named_image_that_loads_and_runs_nothing(draw) -> None:
    svg = draw("Beslut per månad", "Beviljade och verkställda", LABELS, SERIES)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Beslut per månad"
    assert root.get("class") == "boende-chart"
    first, second = list(root)[:2]
    assert (first.tag.split("}")[1], first.text) == ("title", "Beslut per månad")
    assert (second.tag.split("}")[1], second.text) == (
        "desc",
        "Beviljade och verkställda",
    )
    tags = {element.tag.split("}")[1] for element in root.iter()}
    assert not tags & {"script", "style", "foreignObject", "image"}
    assert " style=" not in svg and "href" not in svg
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]
    # One title and one desc: pygal's tooltips are gone.
    assert sum(1 for e in root.iter() if e.tag.endswith("}title")) == 1
    assert sum(1 for e in root.iter() if e.tag.endswith("}desc")) == 1


def test_the_chart_draws_the_figures_it_is_given() -> None:
    small = line_chart("t", "d", LABELS, [Series("a", [1, 2, 3])])
    large = line_chart("t", "d", LABELS, [Series("a", [1, 2, 300])])
    assert small != large
    assert ">3<" in small and ">0.4<" not in small  # whole-number ticks
    assert ">300<" in large and ">300<" not in small
    for label in LABELS:
        assert f">{label}<" in small
    assert ">Beviljade<" in bar_chart("t", "d", LABELS, SERIES)


@pytest.mark.parametrize("largest", [0, 1, 3, 9, 17, 99, 101, 280, 1234, 98765])
def test_ticks_are_whole_numbers_from_zero_past_the_largest(largest: int) -> None:
    ticks = axis_ticks(largest)
    assert ticks[0] == 0 and ticks[-1] >= largest and 2 <= len(ticks) <= 9
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and str(steps.pop()).strip("0") in ("1", "2", "5")


def test_a_stacked_axis_reaches_the_highest_stack() -> None:
    stacked = bar_chart(
        "t", "d", ["x"], [Series("a", [20]), Series("b", [2])], stacked=True
    )
    assert ">25<" in stacked or ">24<" in stacked  # 22 drawn below the top tick


def test_no_ids_to_clash_and_no_data_said_in_swedish() -> None:
    empty = line_chart("t", "d", ["a", "b"], [Series("x", [None, None])])
    assert "Inga uppgifter" in empty and "No data" not in empty
    both = bar_chart("t", "d", LABELS, SERIES) + line_chart("t", "d", LABELS, SERIES)
    assert " id=" not in both  # two charts on one page must not repeat an id


def test_the_same_figures_are_drawn_once() -> None:
    first = line_chart("t", "d", LABELS, [Series("a", [1, 2, 3])])
    assert line_chart("t", "d", list(LABELS), [Series("a", (1, 2, 3))]) is first
    assert line_chart("t", "d", LABELS, [Series("a", [1, 2, 4])]) != first


def test_more_series_than_colours_is_refused() -> None:
    many = [Series(str(i), [i]) for i in range(MAX_SERIES + 1)]
    with pytest.raises(ValueError, match="at most"):
        line_chart("t", "d", ["x"], many)


def test_every_colour_keeps_3_to_1_against_white_and_alternates_light_dark() -> None:
    ratios = [1.05 / (_luminance(c) + 0.05) for c in PALETTE]
    assert min(ratios) >= 3.0, ratios  # WCAG 1.4.11, non-text contrast
    grey = [_luminance(c) for c in PALETTE]
    # Neighbours (the series most often drawn together) differ in greyscale.
    assert all(abs(a - b) >= 0.04 for a, b in itertools.pairwise(grey))
    assert len(set(DASHES)) == len(DASHES) == len(PALETTE)


def test_the_stylesheet_scopes_every_rule_to_the_charts() -> None:
    css = stylesheet()
    rules = [r for r in css.splitlines() if r.strip()]
    selectors = [s for r in rules for s in r.split("{")[0].split(",")]
    assert selectors and all(s.startswith("svg.boende-chart") for s in selectors)
    for index, colour in enumerate(PALETTE):
        assert f".color-{index}," in css and colour in css
    assert "svg.boende-chart .series.serie-1 .line{stroke-dasharray:8,4}" in css
    assert "http" not in css and "@import" not in css


def test_the_pages_load_the_stylesheet_the_charts_need() -> None:
    served = Path(__file__).parents[2] / "services/http/pages/static/charts.css"
    assert stylesheet() in served.read_text(encoding="utf-8")
