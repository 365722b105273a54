"""Reading the figure pages' tables in the browser: every cell a page marks
with ``data-column`` and ``data-value``, by its row's key, so a test can
compare them with the JSON API's answer for the same query."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page


def table_values(page: Page, table: str, row_key: str) -> dict[str, dict[str, str]]:
    """``{row key: {column: data-value}}`` of the rows of ``table`` (a CSS
    selector) that carry ``row_key`` (an attribute, e.g. ``data-period``)."""
    found: dict[str, dict[str, str]] = page.evaluate(
        """([table, key]) => Object.fromEntries(
            [...document.querySelectorAll(`${table} tr[${key}]`)].map(row => [
                row.getAttribute(key),
                Object.fromEntries([...row.querySelectorAll('[data-column]')].map(
                    cell => [cell.getAttribute('data-column'),
                             cell.getAttribute('data-value')])),
            ]))""",
        [table, row_key],
    )
    return found


def as_text(value: Any) -> str:
    """A JSON value as the pages write it in ``data-value`` (None: empty)."""
    return "" if value is None else str(value)
