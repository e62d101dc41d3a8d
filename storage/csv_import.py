"""Reading a CSV file for an all-or-nothing import; knows nothing of what the rows are (registries, tips).

Owns decoding what Excel and hotline systems save (UTF-8 with or without BOM silently; UTF-16 with BOM,
GBK and GB18030 with a note; anything else refused with the byte, offset and line; an XLSX workbook's first
sheet read as text cells, formulas as their text, never evaluated), the delimiter
(tab when the header has tabs and no commas), undoing our exports' formula guard (`'=x` is `=x`, see
outputs.csv_uncell), walking the rows with their line numbers (blank rows
skipped, unparsable rows rejected), and the outcome: refuse the whole file naming every problem as
file:line: column: reason, or (`skip_bad`) keep the good rows and write the bad ones to a rejects file.

The caller gives a header check (header → column keys) and a row validator (line, keys, cells → the
row's values, or `RowRejected` with every (column, reason) wrong with it).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Generic, TypeVar

from outputs import SafeCsvWriter, csv_uncell

T = TypeVar("T")
#: (column, reason) pairs; the column is "" (or the caller's word for it) when the whole row is wrong.
Problems = list[tuple[str, str]]


class CsvImportError(Exception):
    """An import refused as a whole: an unreadable file, wrong columns, or bad rows (in `rejected`)."""

    def __init__(self, message: str, rejected: Sequence[RejectedRow] = ()) -> None:
        super().__init__(message)
        self.rejected = list(rejected)


@dataclass(frozen=True)
class RejectedRow:
    """A CSV row that was not imported: its line in the file, every (column, reason), its cells as read."""

    line: int
    problems: Problems
    cells: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(f"{column}: {reason}" if column else reason for column, reason in self.problems)


class RowRejected(Exception):
    """Raised by a row validator: what is wrong with the row, and its cells as the rejects file shows them."""

    def __init__(self, problems: Problems, cells: dict[str, str]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = problems
        self.cells = cells


@dataclass
class CsvRows(Generic[T]):
    """What `read_rows` read: the accepted rows' values by line, the rejected rows, how the file was decoded."""

    path: Path
    data: bytes
    encoding: str
    encoding_note: str | None
    keys: list[str]
    rows: int = 0  # non-blank rows the CSV reader could parse
    unparsable: int = 0  # rows it could not (each also in `rejected`)
    accepted: list[tuple[int, T]] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    rejects_path: Path | None = None


def decode_csv(data: bytes, path: Path, error: type[CsvImportError] = CsvImportError) -> tuple[str, str, str | None]:
    """(text, encoding, note): UTF-8 (BOM or not) silently; UTF-16 with BOM, GBK, GB18030 with a note."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError as e:
            raise _undecodable(path, data, e, "it starts with a UTF-8 BOM but is not UTF-8", error) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", "the file is UTF-16 (Excel 'Unicode text'); decoded as such"
        except UnicodeDecodeError as e:
            raise _undecodable(path, data, e, "it starts with a UTF-16 BOM but is not UTF-16", error) from None
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as utf8_error:
        first_error = utf8_error
    for encoding in ("gbk", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _plausible_chinese(text):
            break
        label = "GBK" if encoding == "gbk" else "GB18030"
        return text, encoding, f"the file is {label}, not UTF-8; decoded as {label} (save it as UTF-8 to avoid this)"
    raise _undecodable(path, data, first_error, "it is neither UTF-8 nor GBK/GB18030", error)


def _plausible_chinese(text: str) -> bool:
    """GBK decodes many non-Chinese byte strings (Latin-1 "é" + a letter is a valid GBK pair). Real Chinese
    text is mostly characters of the GB2312 core; those misreadings are mostly GBK extension characters."""
    others = [c for c in text if ord(c) > 0x7F]
    if not others:
        return True
    core = 0
    for c in others:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        core += 1
    return core >= 0.8 * len(others)


def _undecodable(
    path: Path, data: bytes, error: UnicodeDecodeError, why: str, cls: type[CsvImportError]
) -> CsvImportError:
    line = data.count(b"\n", 0, error.start) + 1
    byte = data[error.start : error.start + 1].hex().upper()
    return cls(
        f"{path}: cannot read the file: {why} (byte 0x{byte} at offset {error.start}, line {line}); "
        "save it as UTF-8 CSV and import again"
    )


XLSX_MAGIC = b"PK\x03\x04"  # a ZIP archive: what an .xlsx workbook is


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d" if value.time() == time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number or QQ id typed into a number cell
    # A cell's line breaks become spaces so that the CSV line of a row is its row number in the sheet.
    return " ".join(str(value).splitlines())


def xlsx_text(data: bytes, path: Path, error: type[CsvImportError] = CsvImportError) -> str:
    """The first sheet of the XLSX workbook `data` as CSV text, one line per sheet row (blank rows kept, so
    line numbers are row numbers). A formula stays its text (`=HYPERLINK(...)`): nothing is evaluated."""
    from openpyxl import load_workbook  # imported here: CSV imports need no openpyxl

    try:
        book = load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    except Exception as e:  # noqa: BLE001  # a damaged or foreign ZIP fails in many ways; each is "not readable"
        raise error(f"{path}: looks like an XLSX workbook (a ZIP file) but cannot be read: {e}") from None
    sheet = book.worksheets[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in sheet.iter_rows(min_row=1, max_row=max(1, sheet.max_row), values_only=True):
        writer.writerow([_xlsx_cell(value) for value in row])
    return out.getvalue()


def header_key(name: str) -> str:
    """A header cell as a column key: trimmed (BOM too), lower case, spaces as underscores."""
    return name.strip().strip("\ufeff").strip().lower().replace(" ", "_")


def read_rows(
    path: Path,
    *,
    header: Callable[[list[str]], list[str]],
    validate: Callable[[int, list[str], list[str]], T],
    empty: str,
    error: type[CsvImportError] = CsvImportError,
    whole_row: str = "",
) -> CsvRows[T]:
    """Read, decode and validate every row of the CSV file `path`; nothing is refused yet (see `settle`).

    `header(cells)` returns the column keys (or raises `error` naming what is wrong with the header);
    `validate(line, keys, cells)` returns the row's values or raises `RowRejected`. `empty` says what an
    empty file should have held; `whole_row` is the column named for a row the CSV reader cannot parse.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read the file: {e.strerror or e}") from None
    if data.startswith(XLSX_MAGIC):
        text, encoding, note = xlsx_text(data, path, error), "xlsx", None
    else:
        text, encoding, note = decode_csv(data, path, error)
    sample = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in sample and "," not in sample else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        first = next(reader)
    except StopIteration:
        raise error(f"{path}: the file is empty; {empty}") from None
    except csv.Error as e:
        raise error(f"{path}:1: cannot parse the header: {e}") from None
    result: CsvRows[T] = CsvRows(path=path, data=data, encoding=encoding, encoding_note=note, keys=header(first))

    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            result.unparsable += 1
            result.rejected.append(RejectedRow(line, [(whole_row, f"cannot parse the row: {e}")], {}))
            line = reader.line_num + 1
            continue
        row_line, line = line, reader.line_num + 1
        row = [csv_uncell(cell) for cell in row]  # `'=x` as our exports write it reads back as `=x`
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        try:
            result.accepted.append((row_line, validate(row_line, result.keys, row)))
        except RowRejected as e:
            result.rejected.append(RejectedRow(row_line, e.problems, e.cells))
    return result


def settle(
    result: CsvRows[T],
    *,
    skip_bad: bool,
    rejects_path: str | Path | None,
    columns: Sequence[str],
    prefix: str,
    error: type[CsvImportError] = CsvImportError,
) -> None:
    """All or nothing: with rejected rows, raise `error` naming every problem as file:line: column: reason
    (the first 50), unless `skip_bad`: then write them to `rejects_path` (default `<file>.rejects.csv`
    beside the input) as `{prefix}line`, `{prefix}reason` and the rows' `columns`, and set
    `result.rejects_path`."""
    if not result.rejected:
        return
    path = result.path
    if not skip_bad:
        shown = [
            f"  {path}:{r.line}: " + (f"{column}: {reason}" if column else reason)
            for r in result.rejected
            for column, reason in r.problems
        ]
        more = f"\n  ... and {len(shown) - 50} more" if len(shown) > 50 else ""
        raise error(
            f"{path}: {len(result.rejected)} bad row(s); nothing imported (fix them, or import the good rows "
            f"with --skip-bad):\n" + "\n".join(shown[:50]) + more,
            result.rejected,
        )
    result.rejects_path = Path(rejects_path) if rejects_path else path.with_name(path.stem + ".rejects.csv")
    result.rejects_path.parent.mkdir(parents=True, exist_ok=True)
    with result.rejects_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = SafeCsvWriter(f)  # the cells are the file's own, as read: anything a seller or caller typed
        writer.writerow([f"{prefix}line", f"{prefix}reason", *columns])
        for r in result.rejected:
            writer.writerow([r.line, r.reason, *(r.cells.get(c, "") for c in columns)])
