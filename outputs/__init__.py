"""Crawled text made inert for every renderer that prints it: terminal markup and CSV/XLSX formulas.

Sellers write page titles, ad copy and excerpts; monitors read them in a terminal table and open
CSV exports in Excel/WPS. A title like `降糖神药[/b]` is rich markup (it crashed the daily table
and ate every `[high]` label), and a cell like `=HYPERLINK(...)` is a formula. Everything crawled
goes through here on the way out: CSV cells get a leading `'` (`csv_cell`), XLSX cells are written as
explicit text with Excel's quote prefix (`xlsx_set`), shown unchanged. HTML is escaped by Jinja2's
autoescape and the evidence report's own `html.escape`; JSON needs nothing. A bottom layer: imports
nothing of ours, so `storage/` (registry export, rejects files), `crawler/` and `cases/` use it.
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


def csv_uncell(value: str) -> str:
    """A cell read back from a CSV our writers made: `csv_cell`'s `'` removed (`'=x` → `=x`, `'-5` → `-5`), so
    an export imports as it was; text whose `'` precedes no formula character is left alone."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


#: Characters XML 1.0 (so XLSX) cannot hold; openpyxl refuses them (IllegalCharacterError).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_set(cell: Any, value: Any) -> Any:
    """Write `value` into an openpyxl cell as data, never a formula: openpyxl reads a string starting with `=` as
    one. A string that a spreadsheet would take for a formula (`FORMULA_STARTS`) is stored as an explicit text
    cell with the quote prefix (what Excel sets when a user types `'=`): shown exactly as written, and still
    text when someone edits the cell. Numbers stay numbers (a negative number is not text). Characters XML
    cannot carry become spaces. Returns the cell."""
    if isinstance(value, str):
        value = _XML_ILLEGAL.sub(" ", value)
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def xlsx_row(sheet: Any, row: int, values: Iterable[Any], start_column: int = 1) -> None:
    """Write `values` into row `row` of an openpyxl worksheet through `xlsx_set` (never `sheet.append`, which
    would make `=…` a formula)."""
    for column, value in enumerate(values, start=start_column):
        xlsx_set(sheet.cell(row=row, column=column), value)


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
