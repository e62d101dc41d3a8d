"""Crawled text made inert for every renderer that prints it: terminal markup and CSV/XLSX formulas.

Sellers write page titles, ad copy and excerpts; monitors read them in a terminal table and open
CSV exports in Excel/WPS. A title like `降糖神药[/b]` is rich markup (it crashed the daily table
and ate every `[high]` label), and a cell like `=HYPERLINK(...)` is a formula. Everything crawled
goes through here on the way out. HTML is escaped by Jinja2's autoescape and the evidence report's
own `html.escape`; JSON needs nothing. A bottom layer: imports nothing of ours, so both `crawler/`
and `cases/` renderers use it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

from rich.text import Text

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def terminal_text(value: object, style: str = "") -> Text:
    """`value` as rich Text: never parsed as markup, control characters (escape sequences) made spaces;
    line breaks are kept (table cells use them)."""
    return Text("\n".join(terminal_line(line) for line in str(value).split("\n")), style=style)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]+")


def terminal_line(value: object) -> str:
    """`value` for a plain-text line: control characters (escape sequences that could rewrite the
    terminal, line breaks, bidirectional overrides that reorder what is shown) become one space."""
    return _CONTROL.sub(" ", str(value))


def csv_cell(value: Any) -> Any:
    """A CSV/XLSX cell that a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """`csv.writer` whose every string cell goes through `csv_cell`."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeCsvDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """`csv.DictWriter` whose every string value goes through `csv_cell` (the header row is ours)."""

    def writerow(self, rowdict: dict[str, Any]) -> Any:  # type: ignore[override]
        return super().writerow({key: csv_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[dict[str, Any]]) -> None:  # type: ignore[override]
        for rowdict in rowdicts:  # DictWriter's own writerows would bypass writerow
            self.writerow(rowdict)
