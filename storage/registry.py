"""Reference registries (licences, approval numbers): their CSV layout per kind, and plain queries.

The tables are in `storage.models`. Validating and importing a CSV file (numbers are parsed with the
rules' identifier extractor) is `cases.registries.import_csv`; the `rules.reference.RegistryLookup` over
these tables is `crawler.registry_lookup.SqlRegistry`. This module imports nothing above storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from outputs import SafeCsvWriter
from storage.csv_import import CsvImportError
from storage.models import (
    AdApproval,
    DeviceRegistration,
    DrugApproval,
    HealthFoodRegistration,
    InfoServiceCertificate,
    RegistryRow,
    TradingCertificate,
)


class RegistryImportError(CsvImportError):
    """A registry import refused as a whole: an unknown kind, an unreadable file, wrong columns, or bad rows."""


@dataclass(frozen=True)
class KindSpec:
    """One registry kind: its table, its CSV columns (required first, then optional)."""

    kind: str
    model: type[RegistryRow]
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


def registry_spec(kind: str) -> KindSpec:
    spec = KIND_SPECS.get(kind)
    if spec is None:
        raise RegistryImportError(f"unknown registry kind {kind!r}; expected one of {', '.join(KIND_SPECS)}")
    return spec


def find_number(session: Session, kind: str, number: str) -> Any:
    """The row of registry `kind` with this normalised number, or None."""
    model = KIND_SPECS[kind].model
    return session.scalar(select(model).where(model.number == number))


def has_rows(session: Session, kind: str) -> bool:
    """Whether registry `kind` holds any row (an empty registry answers nothing, rather than "not found")."""
    spec = KIND_SPECS.get(kind)
    return spec is not None and session.scalar(select(spec.model.id).limit(1)) is not None


def upsert_rows(session: Session, spec: KindSpec, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    """Insert or update `rows` (column values, validated) by number; (inserted, updated, unchanged). Flushed."""
    inserted = updated = unchanged = 0
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
            inserted += 1
            continue
        changed = False
        for column, value in values.items():
            if getattr(obj, column) != value:
                setattr(obj, column, value)
                changed = True
        if changed:
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return inserted, updated, unchanged


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

    Text a spreadsheet would read as a formula gets a leading `'` (outputs.csv_cell), which the import takes
    off. A path is written as UTF-8 with a BOM (Excel reads it as UTF-8); a text stream gets text as is.
    """
    spec = registry_spec(kind)
    rows = session.scalars(select(spec.model).order_by(spec.model.number)).all()
    if isinstance(out, (str, Path)):
        with Path(out).open("w", encoding="utf-8-sig", newline="") as f:
            return _write_rows(f, spec, rows)
    return _write_rows(out, spec, rows)


def _write_rows(f: TextIO, spec: KindSpec, rows: Sequence[Any]) -> int:
    # Holders and product names come from other offices' files: no cell may start a formula.
    writer = SafeCsvWriter(f, lineterminator="\n")
    writer.writerow(spec.columns)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in spec.columns])
    return len(rows)
