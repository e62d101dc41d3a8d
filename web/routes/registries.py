"""Reference registries (admin only): each kind's rows, last import and CSV columns (`/registries`,
`/api/registries`), and importing a CSV file as `pharmwatch registry import` does
(`POST /registries/{kind}/import`, `POST /api/registries/{kind}/import`, multipart field `file`).

The import is `cases.registries.import_csv` on the uploaded bytes (kept in a temporary folder under their
own file name, so the messages name the file the admin chose). Every row is validated; the bad ones are
shown with their line and reason. All or nothing, as on the command line: one bad row imports nothing,
unless "import the good rows" (`skip_bad`) is ticked. Each import is audited (`registry_imported`).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.registries import ImportReport, import_csv
from storage.audit import record_event
from storage.registry import KIND_SPECS, REGISTRY_KINDS, RegistryImportError
from web.app import envelope, error, is_api, page
from web.deps import Admin, DbSession, Principal

router = APIRouter()
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # the largest official registry export seen is a few MB
SHOWN_REJECTS = 200
NOTHING_IMPORTED = "bad rows: nothing imported (fix them, or import the good rows with skip_bad)"


def registry_rows(db: Session) -> list[dict[str, Any]]:
    """Each kind: rows, rows by status, the newest change (rows are written only by imports), columns."""
    rows = []
    for kind in REGISTRY_KINDS:
        spec = KIND_SPECS[kind]
        model = spec.model
        by_status = dict(db.execute(select(model.status, func.count()).group_by(model.status)).all())
        rows.append({"kind": kind, "rows": sum(by_status.values()), "by_status": by_status,
                     "last_import": db.scalar(select(func.max(model.updated_at))),
                     "required": list(spec.required), "optional": list(spec.optional)})
    return rows


@router.get("/registries")
def registries_html(request: Request, db: DbSession, user: Admin) -> Response:
    return page(request, "registries.html", {"registries": registry_rows(db), "report": None, "refused": None},
                user=user)


@router.get("/api/registries")
def registries_json(db: DbSession, user: Admin) -> Response:
    return envelope(registry_rows(db))


def report_json(report: ImportReport, imported: bool) -> dict[str, Any]:
    return {"kind": report.kind, "file": report.path.name, "encoding": report.encoding,
            "encoding_note": report.encoding_note, "imported": imported, "rows": report.rows,
            "inserted": report.inserted if imported else 0, "updated": report.updated if imported else 0,
            "unchanged": report.unchanged if imported else 0, "rejected_count": len(report.rejected),
            "rejected": [{"line": r.line, "reason": r.reason, "cells": r.cells}
                         for r in report.rejected[:SHOWN_REJECTS]]}


def _file_name(given: str | None) -> str:
    """The upload's own name, reduced to a safe base name (it appears in messages, never as a path)."""
    name = re.sub(r"[^\w.\-]+", "_", Path(given or "").name).strip("._") or "registry"
    return name[:100] if name.lower().endswith((".csv", ".tsv", ".txt")) else f"{name[:96]}.csv"


def _import(request: Request, db: Session, user: Principal, kind: str, file: UploadFile,
            skip_bad: bool) -> Response:
    if kind not in KIND_SPECS:
        raise HTTPException(404, f"no registry kind {kind!r}; kinds: {', '.join(REGISTRY_KINDS)}")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)  # a sync route: FastAPI runs it in a worker thread
    if len(data) > MAX_UPLOAD_BYTES:
        return error(request, 413, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB", user)
    with tempfile.TemporaryDirectory(prefix="pw-registry-") as folder:
        path = Path(folder) / _file_name(file.filename)
        path.write_bytes(data)
        try:
            # Rejected rows are always collected (into a throwaway rejects file), so the page can list them;
            # "all or nothing" then imports nothing when there are any.
            report = import_csv(db, kind, path, skip_bad=True, rejects_path=Path(folder) / "rejects.csv")
        except RegistryImportError as exc:  # unreadable file, wrong header: nothing to list row by row
            db.rollback()
            return _answer(request, db, user, None, str(exc).replace(f"{folder}/", ""))
    imported = skip_bad or not report.rejected
    if imported:
        record_event(db, actor=user.name, action="registry_imported", subject=f"registry:{kind}",
                     details={"file": path.name, "rows": report.rows, "inserted": report.inserted,
                              "updated": report.updated, "unchanged": report.unchanged,
                              "rejected": len(report.rejected), "skip_bad": skip_bad})
        db.commit()
    else:
        db.rollback()
    return _answer(request, db, user, report_json(report, imported), None)


def _answer(request: Request, db: Session, user: Principal, report: dict[str, Any] | None,
            refused: str | None) -> Response:
    """The import's outcome: 200 when rows were imported, 400 with the reason (and bad rows) when not."""
    status_code = 200 if report is not None and report["imported"] else 400
    if is_api(request):
        if report is None:
            return envelope(refused, 400)
        return envelope(report) if report["imported"] else JSONResponse(
            {"ok": False, "error": NOTHING_IMPORTED, "data": report}, status_code=400)
    return page(request, "registries.html", {"registries": registry_rows(db), "report": report,
                                             "refused": refused}, user=user, status_code=status_code)


@router.post("/registries/{kind}/import")
def registry_import_form(request: Request, db: DbSession, user: Admin, kind: str,
                         file: Annotated[UploadFile, File()],
                         skip_bad: Annotated[str, Form(max_length=5)] = "") -> Response:
    return _import(request, db, user, kind, file, skip_bad in ("on", "true", "1"))


@router.post("/api/registries/{kind}/import")
def registry_import_json(request: Request, db: DbSession, user: Admin, kind: str,
                         file: Annotated[UploadFile, File()],
                         skip_bad: Annotated[bool, Form()] = False) -> Response:
    return _import(request, db, user, kind, file, skip_bad)
