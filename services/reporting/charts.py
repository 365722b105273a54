"""Charts for the oversight pages and the printed reports: SVG drawn on the
server with pygal, readable without JavaScript and without any other host.

Pure functions: figures in, SVG text out. What pygal would add for its
browser-side tooltips is taken out (its ``<script>``, the per-value
``<desc>`` tooltips, its comments), and so is its inline ``<style>``: the
pages load the same rules, scoped to ``svg.boende-chart``, from one
stylesheet (:func:`stylesheet`, served as ``charts.css``), so a strict
Content-Security-Policy need allow no inline style. Each chart is an image to
assistive technology (``role="img"`` with a ``<title>`` and a ``<desc>``);
its data table, printed after it on every page, is the accessible reading.

Colours all keep at least 3:1 against white (WCAG 1.4.11) and step through
light and dark, and every line has its own dash pattern and dot shape, so
the series stay apart on a greyscale printer. Why pygal and not Vega-Lite
(vl-convert): docs/web.md, "Diagram".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Final

import pygal
from pygal.style import Style

CHART_CLASS: Final = "boende-chart"

#: One colour per series, in order: dark and light alternate (greyscale).
PALETTE: Final = (
    "#0b1f44",
    "#3a8fd0",
    "#6a2c70",
    "#d0601f",
    "#2a6e3f",
    "#7d7d7d",
    "#a11d48",
    "#c24a7b",
)
#: One dash pattern per series: solid first, then ever more broken lines.
DASHES: Final = ("none", "8,4", "2,3", "12,4,2,4", "4,4", "1,6", "16,6", "6,2,2,2")
MAX_SERIES: Final = len(PALETTE)

STYLE: Final = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#595959",
    font_family="inherit",
    colors=PALETTE,
    opacity="1",
    opacity_hover="1",
    stroke_opacity="1",
    stroke_opacity_hover="1",
    stroke_width="2.5",
    stroke_width_hover="2.5",
    guide_stroke_color="#b3b3b3",
    major_guide_stroke_color="#8c8c8c",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    transition="0ms",
)


@dataclass(frozen=True)
class Series:
    """One named row of figures; ``None`` where there is no figure (drawn as a
    gap, and shown as a dash in the table)."""

    name: str
    values: Sequence[float | None]


def line_chart(
    title: str, description: str, labels: Sequence[str], series: Sequence[Series]
) -> str:
    """Series over periods (``labels``) as lines, each with its own dash
    pattern; best for flows and lead times over time."""
    return _drawn("line", title, description, tuple(labels), _frozen(series))


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
) -> str:
    """Series by category (``labels``) as bars, side by side or stacked;
    best for the stock by landlord or district."""
    kind = "stacked" if stacked else "bar"
    return _drawn(kind, title, description, tuple(labels), _frozen(series))


def _frozen(series: Sequence[Series]) -> tuple[Series, ...]:
    return tuple(Series(one.name, tuple(one.values)) for one in series)


@lru_cache(maxsize=256)
def _drawn(
    kind: str,
    title: str,
    description: str,
    labels: tuple[str, ...],
    series: tuple[Series, ...],
) -> str:
    """The chart, drawn once per distinct set of figures: the same figures
    give the same SVG, and pages are read far more often than the log moves
    (pygal takes 10 to 30 ms a chart)."""
    if kind == "line":
        chart = pygal.Line(_config(), show_dots=True, dots_size=3.5)
        return _render(chart, title, description, labels, series, dashed=True)
    if kind == "stacked":
        chart = pygal.StackedBar(_config(), spacing=6)
        return _render(
            chart, title, description, labels, series, dashed=False, stacked=True
        )
    chart = pygal.Bar(_config(), spacing=6)
    return _render(chart, title, description, labels, series, dashed=False)


def _config() -> pygal.Config:
    config = pygal.Config()
    config.style = STYLE
    config.js = []  # pygal's default is a script on a CDN
    config.disable_xml_declaration = True
    config.no_prefix = True  # rules scoped by stylesheet(), not per chart id
    config.width, config.height = 760, 340
    config.legend_at_bottom = True
    config.legend_at_bottom_columns = 2
    config.truncate_legend = -1
    config.truncate_label = -1
    config.x_label_rotation = 0
    config.print_zeroes = True
    config.include_x_axis = True
    config.tooltip_border_radius = 0
    config.no_data_text = "Inga uppgifter för perioden"
    return config


def _render(
    chart: Any,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    dashed: bool,
    stacked: bool = False,
) -> str:
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series in one chart")
    chart.title = None  # the page's heading and <figcaption> name the chart
    chart.y_labels = axis_ticks(_largest(series, stacked))
    chart.range = (0, chart.y_labels[-1])
    chart.x_labels = list(labels)
    chart.x_labels_major_every = max(1, len(labels) // 12)
    chart.show_minor_x_labels = len(labels) <= 12
    for index, one in enumerate(series):
        style = {"dasharray": DASHES[index], "width": 2.5} if dashed else None
        chart.add(one.name, list(one.values), stroke_style=style)
    return _accessible(chart.render_tree(), title, description)


def _largest(series: Sequence[Series], stacked: bool) -> float:
    """The highest point drawn: a value, or a stack's sum."""
    if stacked:
        columns = zip(*(one.values for one in series), strict=True)
        return max((sum(v or 0 for v in column) for column in columns), default=0)
    return max((v for one in series for v in one.values if v is not None), default=0)


def axis_ticks(largest: float) -> list[int]:
    """Whole-number ticks from 0 to at least ``largest``, at most nine, with
    a step of 1, 2 or 5 times a power of ten (counts and days are whole)."""
    step = 1
    while largest / step > 8:
        for factor in (2, 5 / 2, 2):  # 1 -> 2 -> 5 -> 10 -> 20 ...
            step = int(step * factor)
            if largest / step <= 8:
                break
    top = max(step, -(-int(largest) // step) * step)
    if top < largest:
        top += step
    return list(range(0, top + 1, step))


def _accessible(root: ET.Element, title: str, description: str) -> str:
    """pygal's tree without its scripts, styles, tooltips and comments; an
    image to assistive technology, named by ``title``, described by
    ``description``."""
    _strip(root)
    root.set("class", CHART_CLASS)
    root.set("role", "img")
    root.set("aria-label", title)
    root.attrib.pop("id", None)
    name = ET.Element("title")
    name.text = title
    desc = ET.Element("desc")
    desc.text = description
    root.insert(0, desc)
    root.insert(0, name)
    return ET.tostring(root, encoding="unicode")


def _strip(element: ET.Element) -> None:
    """Remove, depth first, what only pygal's JavaScript and inline CSS use."""
    for child in list(element):
        # pygal builds the tree without namespaces (ElementTree, no lxml)
        tag = child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""
        drop = (
            tag in ("", "script", "style", "title", "desc")  # "": comments
            or (tag == "g" and "tooltip" in (child.get("class") or ""))
        )
        if drop:
            element.remove(child)
        else:
            child.attrib.pop("id", None)  # for pygal's script; two charts would clash
            _strip(child)


@cache
def stylesheet() -> str:
    """The rules pygal would inline in each chart, for every series a chart
    may have, scoped to ``svg.boende-chart``: the pages' ``charts.css``."""
    chart = pygal.Line(_config())
    chart.x_labels = ["a"]
    for index in range(MAX_SERIES):
        chart.add(str(index), [1], stroke_style={"dasharray": DASHES[index]})
    css = "\n".join(
        node.text or ""
        for node in chart.render_tree().iter()
        if isinstance(node.tag, str) and node.tag.endswith("style")
    )
    # pygal dashes a whole series group; only its line should be dashed
    css = re.sub(r"(\.series\.serie-\d+)(\{stroke-dasharray)", r"\1 .line\2", css)
    return _scoped(css) + _EXTRA


_EXTRA = (
    f"\nsvg.{CHART_CLASS}{{max-width:100%;height:auto}}"
    f"\nsvg.{CHART_CLASS} .legends .legend rect,"
    f"svg.{CHART_CLASS} .legends .legend circle{{stroke:none}}"
    f"\nsvg.{CHART_CLASS} .bar rect{{stroke:#ffffff;stroke-width:1.5}}\n"
)


def _scoped(css: str) -> str:
    """Every rule of ``css`` (pygal's, written for ``no_prefix``) prefixed
    with ``svg.boende-chart``; rules without a selector apply to the chart."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = []
    for block in css.split("}"):
        selectors, brace, body = block.partition("{")
        if not brace:
            continue
        scoped = ",".join(
            f"svg.{CHART_CLASS} {s.strip()}".rstrip()
            for s in (selectors.split(",") if selectors.strip() else [""])
        )
        rules.append(f"{scoped}{{{body.strip()}}}")
    return "\n".join(rules)
