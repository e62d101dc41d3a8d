"""Importing reference registries from CSV: every value validated, all or nothing unless `skip_bad`.

Numbers are parsed with the same extractor the page checks use (`rules.reference.identifiers`), so a
number imported is a number that can be found. Reading the file (encodings, line numbers, the rejects
file) is `storage.csv_import`, shared with tip imports; the tables and upserts are `storage.registry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from rules.reference.identifiers import parse_identifier
from rules.reference.lookup import RECORD_STATUSES
from storage.csv_import import RejectedRow, RowRejected, header_key, read_rows, settle
from storage.registry import KindSpec, RegistryImportError, registry_spec, upsert_rows

_STATUS_WORDS: Final[dict[str, str]] = {
    "valid": "valid", "有效": "valid", "正常": "valid", "在有效期": "valid",
    "expired": "expired", "过期": "expired", "已过期": "expired", "失效": "expired", "已失效": "expired",
    "revoked": "revoked", "吊销": "revoked", "已吊销": "revoked", "撤销": "revoked", "已撤销": "revoked",
    "cancelled": "cancelled", "canceled": "cancelled", "注销": "cancelled", "已注销": "cancelled",
    "suspended": "suspended", "暂停": "suspended", "已暂停": "suspended",
}  # fmt: skip
_RX_WORDS: Final[dict[str, str]] = {
    "rx": "rx", "处方药": "rx", "处方": "rx",
    "otc": "otc", "非处方药": "otc", "甲类非处方药": "otc", "乙类非处方药": "otc", "otc甲": "otc", "otc乙": "otc",
    "甲类otc": "otc", "乙类otc": "otc",
}  # fmt: skip
_DATE_RE: Final = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})")
_LIST_SPLIT_RE: Final = re.compile(r"[;,，；、|\s]+")
_HOST_RE: Final = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


@dataclass
class ImportReport:
    """What `import_csv` did. `encoding_note` is set when the file was not UTF-8 (GBK, UTF-16, ...)."""

    kind: str
    path: Path
    encoding: str
    encoding_note: str | None = None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    rejects_path: Path | None = None

    def summary(self) -> str:
        text = (
            f"{self.path}: {self.rows} rows, {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        if self.rejects_path and self.rejected:
            text += f" (written to {self.rejects_path})"
        if self.encoding_note:
            text += f"; {self.encoding_note}"
        return text


def _check_header(spec: KindSpec, header: list[str], path: Path) -> list[str]:
    keys = [header_key(h) for h in header]
    unknown = [h for h, k in zip(header, keys, strict=True) if k not in spec.columns]
    missing = [c for c in spec.required if c not in keys]
    duplicated = sorted({k for k in keys if keys.count(k) > 1 and k})
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(u) for u in unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    if problems:
        raise RegistryImportError(
            f"{path}:1: wrong columns for {spec.kind}: {'; '.join(problems)}. "
            f"Expected {', '.join(spec.required)} (required) and {', '.join(spec.optional)} (optional)"
        )
    return keys


# ---------------------------------------------------------------------------------------------------
# Validating one row


class _BadRow(ValueError):
    pass


def _date(cells: dict[str, str], column: str, *, required: bool = False) -> date | None:
    value = cells.get(column, "").strip()
    if not value:
        if required:
            raise _BadRow(f"{column} missing")
        return None
    m = _DATE_RE.fullmatch(value)
    if m is None:
        raise _BadRow(f"bad date in {column}: {value!r} (use YYYY-MM-DD)")
    y, mo, d = (int(g) for g in (m.groups()[:3] if m.group(1) else m.groups()[3:]))
    try:
        return date(y, mo, d)
    except ValueError:
        raise _BadRow(f"bad date in {column}: {value!r} is not a day of the calendar") from None


def _text(cells: dict[str, str], column: str, *, required: bool = False, limit: int = 200) -> str:
    value = " ".join(cells.get(column, "").split())
    if required and not value:
        raise _BadRow(f"{column} missing")
    if len(value) > limit:
        raise _BadRow(f"{column} longer than {limit} characters")
    return value


def _status(cells: dict[str, str]) -> str:
    value = cells.get("status", "").strip()
    if not value:
        return "valid"
    status = _STATUS_WORDS.get(value.lower())
    if status is None:
        raise _BadRow(f"bad status {value!r} (use one of {', '.join(RECORD_STATUSES)})")
    return status


def _domains(cells: dict[str, str], *, required: bool) -> list[str]:
    out: list[str] = []
    for item in _LIST_SPLIT_RE.split(cells.get("domains", "").strip()):
        if not item:
            continue
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", item.strip().lower()).split("/", 1)[0].split(":", 1)[0]
        host = host.rstrip(".")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _BadRow(f"bad domain {item!r}") from None
        if not _HOST_RE.match(host):
            raise _BadRow(f"bad domain {item!r}")
        if host not in out:
            out.append(host)
    if required and not out:
        raise _BadRow("domains missing")
    return out


def _number(cells: dict[str, str], kind: str) -> tuple[str, dict[str, str]]:
    value = cells.get("number", "").strip()
    if not value:
        raise _BadRow("number missing")
    ident = parse_identifier(value, kind)
    if ident is None:
        raise _BadRow(f"number {value!r} is not a {kind} number")
    if ident.status == "malformed":
        raise _BadRow(f"number {value!r} is malformed: {ident.reason}")
    return ident.normalised, ident.parts


class _Problems:
    """Every bad value of a row, not just the first: a clerk fixing an export fixes each row once."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def take(self, read: Any, *args: Any, **options: Any) -> Any:
        try:
            return read(*args, **options)
        except _BadRow as exc:
            self.found.append(str(exc))
            return None

    def add(self, reason: str) -> None:
        self.found.append(reason)


def validate_row(spec: KindSpec, cells: dict[str, str]) -> dict[str, Any]:
    """The column values of one row for `spec.model`, or `_BadRow` naming every reason it is wrong."""
    problems = _Problems()
    number, parts = problems.take(_number, cells, spec.kind) or (None, {})
    values: dict[str, Any] = {"number": number, "status": problems.take(_status, cells)}
    kind = spec.kind
    if kind == "info_service_cert":
        cert_type = cells.get("cert_type", "").strip()
        if cert_type and parts and cert_type != parts["type"]:
            problems.add(f"cert_type {cert_type!r} does not match the number's type {parts['type']!r}")
        values |= {
            "holder": problems.take(_text, cells, "holder", required=True),
            "cert_type": parts.get("type"),
            "domains": problems.take(_domains, cells, required=True),
            "valid_from": problems.take(_date, cells, "valid_from", required=True),
            "valid_to": problems.take(_date, cells, "valid_to", required=True),
        }
    elif kind == "trading_cert_legacy":
        values |= {
            "holder": problems.take(_text, cells, "holder", required=True),
            "cert_class": parts.get("class"),
            "domains": problems.take(_domains, cells, required=False),
            "valid_from": problems.take(_date, cells, "valid_from"),
            "valid_to": problems.take(_date, cells, "valid_to"),
        }
    else:
        values |= {
            "product_name": problems.take(_text, cells, "product_name", required=True),
            "holder": problems.take(_text, cells, "holder"),
            "valid_to": problems.take(_date, cells, "valid_to"),
        }
        if kind == "drug_approval":
            rx = cells.get("rx_otc", "").strip()
            if rx and rx.lower() not in _RX_WORDS:
                problems.add(f"bad rx_otc {rx!r} (use rx or otc)")
            values |= {"rx_otc": _RX_WORDS.get(rx.lower(), ""),
                       "dosage_form": problems.take(_text, cells, "dosage_form", limit=50)}
        elif kind == "health_food":
            values["functions"] = problems.take(_text, cells, "functions", limit=2000)
        elif kind == "device":
            given = cells.get("device_class", "").strip().upper().removeprefix("CLASS").strip()
            given = {"I": "1", "II": "2", "III": "3", "一类": "1", "二类": "2", "三类": "3"}.get(given, given)
            derived = parts.get("class", "")
            if given and given not in ("1", "2", "3"):
                problems.add(f"bad device_class {given!r} (use 1, 2 or 3)")
            elif given and derived and given != derived:
                problems.add(f"device_class {given} does not match the number's class {derived}")
            values["device_class"] = given or derived
        elif kind == "ad_approval":
            values |= {
                "category": parts.get("category", ""),
                "media": parts.get("media", ""),
                "valid_from": problems.take(_date, cells, "valid_from"),
            }
            if values["valid_to"] is None and parts.get("expires"):
                values["valid_to"] = date.fromisoformat(parts["expires"])
    start, end = values.get("valid_from"), values.get("valid_to")
    if start and end and start > end:
        problems.add(f"valid_from {start} is after valid_to {end}")
    if problems.found:
        raise _BadRow("; ".join(problems.found))
    return values


# ---------------------------------------------------------------------------------------------------
# Import


def import_csv(
    session: Session, kind: str, path: str | Path, *, skip_bad: bool = False, rejects_path: str | Path | None = None
) -> ImportReport:
    """Import registry rows of `kind` from the CSV file `path` into `session` (flushed, not committed).

    Every row is validated first; any bad row (reported with its line number and reason) refuses the
    whole file with `RegistryImportError`, unless `skip_bad`: then the good rows are imported and the
    bad ones written to `rejects_path` (default: `<file>.rejects.csv` beside the input). A number
    already in the registry is updated in place; numbers absent from the file are left alone.
    """
    spec = registry_spec(kind)
    path = Path(path)
    seen: dict[str, int] = {}

    def validate(line: int, keys: list[str], row: list[str]) -> dict[str, Any]:
        cells = {k: v for k, v in zip(keys, row, strict=False)}
        if len(row) != len(keys):
            raise RowRejected([("", f"{len(row)} cells, expected {len(keys)}")], cells)
        try:
            values = validate_row(spec, cells)
        except _BadRow as e:
            raise RowRejected([("", str(e))], cells) from None
        first = seen.get(values["number"])
        if first is not None:
            raise RowRejected([("", f"duplicate number {values['number']} (first on line {first})")], cells)
        seen[values["number"]] = line
        return values

    read = read_rows(path, header=lambda header: _check_header(spec, header, path), validate=validate,
                     empty=f"expected a header row: {','.join(spec.columns)}", error=RegistryImportError)
    # A rejects file keeps the registry's columns, headed by `line` and `reason`.
    settle(read, skip_bad=skip_bad, rejects_path=rejects_path, columns=spec.columns, prefix="",
           error=RegistryImportError)
    report = ImportReport(kind=kind, path=path, encoding=read.encoding, encoding_note=read.encoding_note,
                          rows=read.rows, rejected=read.rejected, rejects_path=read.rejects_path)
    report.inserted, report.updated, report.unchanged = upsert_rows(session, spec, [v for _, v in read.accepted])
    return report
