"""Reference registries (licences, approval numbers) as tables, CSV import/export, and the lookup.

Owns the registry models (one table per kind, keyed by the normalised number), `import_csv()` (every
row validated; all-or-nothing unless `skip_bad`; re-import updates by number, never duplicates; UTF-8
with or without BOM, GBK/GB18030 and UTF-16 detected and reported; anything else refused), `export_csv()`
and `SqlRegistry`, which answers `rules.reference.RegistryLookup` from a session. Numbers are parsed
with the same extractor the page checks use, so a number imported is a number that can be found.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from sqlalchemy import Date, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rules.reference.identifiers import parse_identifier
from rules.reference.lookup import RECORD_STATUSES, CertificateRecord, ProductRecord
from storage.models import Base, utcnow


class _Row:
    """Columns every registry table has: the normalised number (unique), a status, when it changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InfoServiceCertificate(_Row, Base):
    """互联网药品信息服务资格证书: who holds it, for which domains, from when to when."""

    __tablename__ = "registry_info_service_cert"
    holder: Mapped[str] = mapped_column(String(200))
    cert_type: Mapped[str] = mapped_column(String(8))  # 经营性 | 非经营性
    domains: Mapped[list[Any]] = mapped_column(default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class TradingCertificate(_Row, Base):
    """A legacy 互联网药品交易服务资格证书 (国A / 省B / 省C), abolished in 2017; kept for look-ups."""

    __tablename__ = "registry_trading_cert"
    holder: Mapped[str] = mapped_column(String(200))
    cert_class: Mapped[str] = mapped_column(String(1))  # A | B | C
    domains: Mapped[list[Any]] = mapped_column(default=list)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class DrugApproval(_Row, Base):
    """A drug approval number (国药准字…, 进口药品注册证 H…, 医药产品注册证 HC…) and its product."""

    __tablename__ = "registry_drug_approval"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    rx_otc: Mapped[str] = mapped_column(String(8), default="")  # rx | otc | "" (unknown)
    dosage_form: Mapped[str] = mapped_column(String(50), default="")
    valid_to: Mapped[date | None] = mapped_column(Date)


class HealthFoodRegistration(_Row, Base):
    """A health-food registration or filing (国食健注, 食健备, 国食健字, 卫食健字) and its product."""

    __tablename__ = "registry_health_food"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    functions: Mapped[str] = mapped_column(Text, default="")  # the approved health functions
    valid_to: Mapped[date | None] = mapped_column(Date)


class DeviceRegistration(_Row, Base):
    """A medical-device registration (械注准/进/许) or class I filing (械备) and its product."""

    __tablename__ = "registry_device"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    device_class: Mapped[str] = mapped_column(String(4), default="")  # 1 | 2 | 3
    valid_to: Mapped[date | None] = mapped_column(Date)


class AdApproval(_Row, Base):
    """An advertisement approval number (药/械/食健/特医食 广审) and the product it was granted for."""

    __tablename__ = "registry_ad_approval"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(8), default="")  # 药 | 械 | 食健 | 特医食
    media: Mapped[str] = mapped_column(String(4), default="")  # 视 | 声 | 文
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


# ---------------------------------------------------------------------------------------------------
# CSV layout per kind


@dataclass(frozen=True)
class KindSpec:
    """One registry kind: its table, its CSV columns (required first, then optional)."""

    kind: str
    model: type[_Row]
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


KIND_SPECS: Final[dict[str, KindSpec]] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            "info_service_cert",
            InfoServiceCertificate,
            ("number", "holder", "domains", "valid_from", "valid_to"),
            ("cert_type", "status"),
        ),
        KindSpec(
            "trading_cert_legacy",
            TradingCertificate,
            ("number", "holder"),
            ("domains", "valid_from", "valid_to", "status"),
        ),
        KindSpec(
            "drug_approval",
            DrugApproval,
            ("number", "product_name"),
            ("holder", "rx_otc", "dosage_form", "valid_to", "status"),
        ),
        KindSpec(
            "health_food",
            HealthFoodRegistration,
            ("number", "product_name"),
            ("holder", "functions", "valid_to", "status"),
        ),
        KindSpec(
            "device",
            DeviceRegistration,
            ("number", "product_name"),
            ("holder", "device_class", "valid_to", "status"),
        ),
        KindSpec(
            "ad_approval",
            AdApproval,
            ("number", "product_name"),
            ("holder", "valid_from", "valid_to", "status"),
        ),
    )
}
#: Registry kinds, in the order the CLI lists them.
REGISTRY_KINDS: Final[tuple[str, ...]] = tuple(KIND_SPECS)

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


class RegistryImportError(Exception):
    """An import refused as a whole: an unreadable file, wrong columns, or bad rows (each with its line)."""

    def __init__(self, message: str, rejected: Sequence[RejectedRow] = ()) -> None:
        super().__init__(message)
        self.rejected = list(rejected)


@dataclass(frozen=True)
class RejectedRow:
    """A CSV row that was not imported: its line in the file, why, and its cells as read."""

    line: int
    reason: str
    cells: dict[str, str]


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


# ---------------------------------------------------------------------------------------------------
# Reading the file


def decode_csv(data: bytes, path: Path) -> tuple[str, str, str | None]:
    """(text, encoding, note): UTF-8 (BOM or not) silently; UTF-16 with BOM, GBK, GB18030 with a note."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", None
        except UnicodeDecodeError as e:
            raise _undecodable(path, data, e, "it starts with a UTF-8 BOM but is not UTF-8") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", "the file is UTF-16 (Excel 'Unicode text'); decoded as such"
        except UnicodeDecodeError as e:
            raise _undecodable(path, data, e, "it starts with a UTF-16 BOM but is not UTF-16") from None
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
    raise _undecodable(path, data, first_error, "it is neither UTF-8 nor GBK/GB18030")


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


def _undecodable(path: Path, data: bytes, error: UnicodeDecodeError, why: str) -> RegistryImportError:
    line = data.count(b"\n", 0, error.start) + 1
    byte = data[error.start : error.start + 1].hex().upper()
    return RegistryImportError(
        f"{path}: cannot read the file: {why} (byte 0x{byte} at offset {error.start}, line {line}); "
        "save it as UTF-8 CSV and import again"
    )


def header_key(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower().replace(" ", "_")


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


def _validate(spec: KindSpec, cells: dict[str, str]) -> dict[str, Any]:
    """The column values of one row for `spec.model`, or `_BadRow` with the first reason it is wrong."""
    number, parts = _number(cells, spec.kind)
    values: dict[str, Any] = {"number": number, "status": _status(cells)}
    kind = spec.kind
    if kind == "info_service_cert":
        cert_type = cells.get("cert_type", "").strip()
        if cert_type and cert_type != parts["type"]:
            raise _BadRow(f"cert_type {cert_type!r} does not match the number's type {parts['type']!r}")
        values |= {
            "holder": _text(cells, "holder", required=True),
            "cert_type": parts["type"],
            "domains": _domains(cells, required=True),
            "valid_from": _date(cells, "valid_from", required=True),
            "valid_to": _date(cells, "valid_to", required=True),
        }
    elif kind == "trading_cert_legacy":
        values |= {
            "holder": _text(cells, "holder", required=True),
            "cert_class": parts["class"],
            "domains": _domains(cells, required=False),
            "valid_from": _date(cells, "valid_from"),
            "valid_to": _date(cells, "valid_to"),
        }
    else:
        values |= {
            "product_name": _text(cells, "product_name", required=True),
            "holder": _text(cells, "holder"),
            "valid_to": _date(cells, "valid_to"),
        }
        if kind == "drug_approval":
            rx = cells.get("rx_otc", "").strip()
            if rx and rx.lower() not in _RX_WORDS:
                raise _BadRow(f"bad rx_otc {rx!r} (use rx or otc)")
            values |= {"rx_otc": _RX_WORDS.get(rx.lower(), ""), "dosage_form": _text(cells, "dosage_form", limit=50)}
        elif kind == "health_food":
            values["functions"] = _text(cells, "functions", limit=2000)
        elif kind == "device":
            given = cells.get("device_class", "").strip().upper().removeprefix("CLASS").strip()
            given = {"I": "1", "II": "2", "III": "3", "一类": "1", "二类": "2", "三类": "3"}.get(given, given)
            derived = parts.get("class", "")
            if given and given not in ("1", "2", "3"):
                raise _BadRow(f"bad device_class {given!r} (use 1, 2 or 3)")
            if given and derived and given != derived:
                raise _BadRow(f"device_class {given} does not match the number's class {derived}")
            values["device_class"] = given or derived
        elif kind == "ad_approval":
            values |= {
                "category": parts.get("category", ""),
                "media": parts.get("media", ""),
                "valid_from": _date(cells, "valid_from"),
            }
            if values["valid_to"] is None and parts.get("expires"):
                values["valid_to"] = date.fromisoformat(parts["expires"])
    start, end = values.get("valid_from"), values.get("valid_to")
    if start and end and start > end:
        raise _BadRow(f"valid_from {start} is after valid_to {end}")
    return values


# ---------------------------------------------------------------------------------------------------
# Import and export


def _spec(kind: str) -> KindSpec:
    spec = KIND_SPECS.get(kind)
    if spec is None:
        raise RegistryImportError(f"unknown registry kind {kind!r}; expected one of {', '.join(KIND_SPECS)}")
    return spec


def _write_rejects(path: Path, spec: KindSpec, rejected: list[RejectedRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        extra = sorted({k for r in rejected for k in r.cells} - set(spec.columns))
        columns = [*spec.columns, *extra]
        writer.writerow(["line", "reason", *columns])
        for r in rejected:
            writer.writerow([r.line, r.reason, *(r.cells.get(c, "") for c in columns)])


def import_csv(
    session: Session, kind: str, path: str | Path, *, skip_bad: bool = False, rejects_path: str | Path | None = None
) -> ImportReport:
    """Import registry rows of `kind` from the CSV file `path` into `session` (flushed, not committed).

    Every row is validated first; any bad row (reported with its line number and reason) refuses the
    whole file with `RegistryImportError`, unless `skip_bad`: then the good rows are imported and the
    bad ones written to `rejects_path` (default: `<file>.rejects.csv` beside the input). A number
    already in the registry is updated in place; numbers absent from the file are left alone.
    """
    spec = _spec(kind)
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RegistryImportError(f"{path}: cannot read the file: {e.strerror or e}") from None
    text, encoding, note = decode_csv(data, path)
    report = ImportReport(kind=kind, path=path, encoding=encoding, encoding_note=note)
    sample = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in sample and "," not in sample else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise RegistryImportError(
            f"{path}: the file is empty; expected a header row: {','.join(spec.columns)}"
        ) from None
    except csv.Error as e:
        raise RegistryImportError(f"{path}:1: cannot parse the header: {e}") from None
    keys = _check_header(spec, header, path)

    good: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            report.rejected.append(RejectedRow(line, f"cannot parse the row: {e}", {}))
            line = reader.line_num + 1
            continue
        row_line, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        cells = {k: v for k, v in zip(keys, row, strict=False)}
        if len(row) != len(keys):
            report.rejected.append(RejectedRow(row_line, f"{len(row)} cells, expected {len(keys)}", cells))
            continue
        try:
            values = _validate(spec, cells)
        except _BadRow as e:
            report.rejected.append(RejectedRow(row_line, str(e), cells))
            continue
        first = seen.get(values["number"])
        if first is not None:
            reason = f"duplicate number {values['number']} (first on line {first})"
            report.rejected.append(RejectedRow(row_line, reason, cells))
            continue
        seen[values["number"]] = row_line
        good.append((row_line, values))

    if report.rejected and not skip_bad:
        shown = "\n".join(f"  {path}:{r.line}: {r.reason}" for r in report.rejected[:50])
        more = f"\n  ... and {len(report.rejected) - 50} more" if len(report.rejected) > 50 else ""
        raise RegistryImportError(
            f"{path}: {len(report.rejected)} bad row(s); nothing imported (fix them, or import the good rows "
            f"with --skip-bad):\n{shown}{more}",
            report.rejected,
        )
    if report.rejected:
        report.rejects_path = Path(rejects_path) if rejects_path else path.with_name(path.stem + ".rejects.csv")
        _write_rejects(report.rejects_path, spec, report.rejected)

    _upsert(session, spec, [values for _, values in good], report)
    return report


def _upsert(session: Session, spec: KindSpec, rows: list[dict[str, Any]], report: ImportReport) -> None:
    model = spec.model
    existing: dict[str, Any] = {}
    numbers = [r["number"] for r in rows]
    for i in range(0, len(numbers), 500):
        chunk = numbers[i : i + 500]
        existing.update({obj.number: obj for obj in session.scalars(select(model).where(model.number.in_(chunk)))})
    for values in rows:
        obj = existing.get(values["number"])
        if obj is None:
            session.add(model(**values))
            report.inserted += 1
            continue
        changed = False
        for column, value in values.items():
            if getattr(obj, column) != value:
                setattr(obj, column, value)
                changed = True
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def export_csv(session: Session, kind: str, out: str | Path | TextIO) -> int:
    """Write every row of registry `kind` as CSV (the import's columns, ordered by number); returns the count.

    A path is written as UTF-8 with a BOM (Excel reads it as UTF-8); a text stream gets text as is.
    """
    spec = _spec(kind)
    rows = session.scalars(select(spec.model).order_by(spec.model.number)).all()
    if isinstance(out, (str, Path)):
        with Path(out).open("w", encoding="utf-8-sig", newline="") as f:
            return _write_rows(f, spec, rows)
    return _write_rows(out, spec, rows)


def _write_rows(f: TextIO, spec: KindSpec, rows: Sequence[Any]) -> int:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(spec.columns)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in spec.columns])
    return len(rows)


# ---------------------------------------------------------------------------------------------------
# Look-ups for the reference checks


class SqlRegistry:
    """`rules.reference.RegistryLookup` over the registry tables, through one session.

    Which kinds hold data is asked once per instance: make one per scan or per page batch.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._covers: dict[str, bool] = {}

    def covers(self, kind: str) -> bool:
        if kind not in self._covers:
            spec = KIND_SPECS.get(kind)
            self._covers[kind] = spec is not None and (self.session.scalar(select(spec.model.id).limit(1)) is not None)
        return self._covers[kind]

    def _get(self, model: type[_Row], number: str) -> Any:
        return self.session.scalar(select(model).where(model.number == number))

    def _certificate(self, model: type[_Row], number: str) -> CertificateRecord | None:
        row = self._get(model, number)
        if row is None:
            return None
        return CertificateRecord(
            number=row.number,
            holder=row.holder,
            cert_type=getattr(row, "cert_type", "") or getattr(row, "cert_class", ""),
            domains=tuple(row.domains or ()),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            status=row.status,
        )

    def _product(self, model: type[_Row], number: str, details: Iterable[str] = ()) -> ProductRecord | None:
        row = self._get(model, number)
        if row is None:
            return None
        return ProductRecord(
            number=row.number,
            product_name=row.product_name,
            holder=row.holder,
            status=row.status,
            valid_from=getattr(row, "valid_from", None),
            valid_to=row.valid_to,
            details={d: getattr(row, d) for d in details if getattr(row, d)},
        )

    def find_certificate(self, number: str) -> CertificateRecord | None:
        return self._certificate(InfoServiceCertificate, number)

    def find_trading_certificate(self, number: str) -> CertificateRecord | None:
        return self._certificate(TradingCertificate, number)

    def find_drug_approval(self, number: str) -> ProductRecord | None:
        return self._product(DrugApproval, number, ("rx_otc", "dosage_form"))

    def find_health_food(self, number: str) -> ProductRecord | None:
        return self._product(HealthFoodRegistration, number, ("functions",))

    def find_device(self, number: str) -> ProductRecord | None:
        return self._product(DeviceRegistration, number, ("device_class",))

    def find_ad_approval(self, number: str) -> ProductRecord | None:
        return self._product(AdApproval, number, ("category", "media"))
