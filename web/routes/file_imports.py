"""Importing files from the UI: a tip file (`POST /tips/import`, monitors) and another office's blacklist
(`POST /blacklist/import`, supervisors), with their `/api/` twins; an uploaded CSV or XLSX.

Parsing, validating and storing are the CLI's own functions (`cases.tips.import_tips`, as `pharmwatch tip
import`; `cases.blacklist.import_entries`, as `pharmwatch blacklist import`), which also write the audit
events. The upload is stored in a private temporary folder under its own (sanitised) name, so the messages
name `file:line: column: reason` as the CLI's do. A file with a bad row is refused whole and every bad row
is shown with its cells (nothing is lost: fix the file and upload it again); for tips, "import the good rows"
imports the others and lists the rejected ones on the page. Cells are stored as text: a formula-looking cell
(`=HYPERLINK(...)`) is never evaluated, and the page escapes it like any other text.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cases.blacklist import BlacklistError, import_entries
from cases.tips import TipError, import_tips
from storage.csv_import import CsvImportError, RejectedRow
from web.app import envelope, error, is_api, page
from web.deps import DbSession, Monitor, Principal, Supervisor

router = APIRouter()
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a tip file of a year of hotline calls is far smaller
SHOWN_REJECTS = 500  # rejected rows listed on the page (the message counts them all)


class UploadRefused(Exception):
    """The upload itself is unusable (no file, too large); the message says why."""


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name, reduced to a safe file name (it appears in messages: file:line)."""
    name = re.sub(r"[^\w.\-]+", "_", Path((filename or "").replace("\\", "/")).name).strip("._")
    return name[:100] or "upload.csv"


@contextmanager
def stored_upload(upload: UploadFile) -> Iterator[Path]:
    """The upload as a file in a private temporary folder, removed afterwards."""
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise UploadRefused("the file is empty, or no file was chosen")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it")
    folder = Path(tempfile.mkdtemp(prefix="pharmwatch-upload-"))
    try:
        path = folder / upload_name(upload.filename)
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rows(rejected: list[RejectedRow]) -> list[dict[str, Any]]:
    return [{"line": r.line, "reason": r.reason, "cells": r.cells} for r in rejected[:SHOWN_REJECTS]]


def _answer(request: Request, user: Principal, result: dict[str, Any], status_code: int) -> Response:
    if is_api(request):
        return envelope(result if status_code < 400 else result["message"], status_code)
    return page(request, "import_result.html", {"result": result}, user=user, status_code=status_code)


def _refused(request: Request, user: Principal, kind: str, name: str, exc: CsvImportError | BlacklistError,
             folder: Path) -> Response:
    message = str(exc).replace(f"{folder}/", "")  # the temporary folder is nobody's business
    rejected = exc.rejected
    if is_api(request):
        return envelope(message, 400)
    return page(request, "import_result.html", {"result": {
        "kind": kind, "file": name, "ok": False, "message": message, "rejected": _rows(rejected),
        "rejected_count": len(rejected)}}, user=user, status_code=400)


# --- tips -----------------------------------------------------------------------------------------------
def _import_tips(request: Request, db: Session, user: Principal, upload: UploadFile, source: str,
                 skip_bad: bool) -> Response:
    config = request.app.state.config
    name = upload_name(upload.filename)
    try:
        with stored_upload(upload) as path:
            try:
                report = import_tips(db, path, submitted_by=user.name, default_source=source.strip() or "tip file",
                                     skip_bad=skip_bad, rejects_path=path.with_name("rejects.csv"),
                                     allow_private=config.allow_private, timezone=config.timezone)
                db.commit()
            except TipError as exc:
                db.rollback()
                return _refused(request, user, "tips", name, exc, path.parent)
    except UploadRefused as exc:
        return error(request, 400, f"{name}: {exc}", user)
    result = {"kind": "tips", "file": name, "ok": True, "rows": report.rows, "new": report.new,
              "known": report.known, "repeated": report.repeated, "encoding": report.encoding,
              "encoding_note": report.encoding_note, "rejected": _rows(report.rejected),
              "rejected_count": len(report.rejected)}
    return _answer(request, user, result, 201 if report.new else 200)


@router.post("/tips/import")
def tips_import_form(request: Request, db: DbSession, user: Monitor, file: UploadFile,
                     source: Annotated[str, Form(max_length=100)] = "tip file",
                     skip_bad: Annotated[str, Form(max_length=5)] = "") -> Response:
    return _import_tips(request, db, user, file, source, skip_bad == "yes")


@router.post("/api/tips/import")
def tips_import_json(request: Request, db: DbSession, user: Monitor, file: UploadFile,
                     source: Annotated[str, Form(max_length=100)] = "tip file",
                     skip_bad: Annotated[bool, Form()] = False) -> Response:
    """A tip file (CSV or XLSX; columns url and optionally source, reporter, note, submitted_at) as multipart
    `file`; all or nothing unless `skip_bad` (then the rejected rows are in the answer)."""
    return _import_tips(request, db, user, file, source, skip_bad)


# --- blacklist ------------------------------------------------------------------------------------------
def _import_blacklist(request: Request, db: Session, user: Principal, upload: UploadFile, source: str) -> Response:
    name = upload_name(upload.filename)
    if not source.strip():
        return error(request, 400, "say whose list it is (source): it is kept in every entry's reason", user)
    try:
        with stored_upload(upload) as path:
            try:
                added = import_entries(db, path, actor=user.name, source=source.strip())
                db.commit()
            except BlacklistError as exc:
                db.rollback()
                return _refused(request, user, "blacklist", name, exc, path.parent)
    except UploadRefused as exc:
        return error(request, 400, f"{name}: {exc}", user)
    result = {"kind": "blacklist", "file": name, "ok": True, "added": added, "rejected": [], "rejected_count": 0}
    return _answer(request, user, result, 201 if added else 200)


@router.post("/blacklist/import")
def blacklist_import_form(request: Request, db: DbSession, user: Supervisor, file: UploadFile,
                          source: Annotated[str, Form(max_length=200)] = "") -> Response:
    return _import_blacklist(request, db, user, file, source)


@router.post("/api/blacklist/import")
def blacklist_import_json(request: Request, db: DbSession, user: Supervisor, file: UploadFile,
                          source: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Another office's list (CSV or XLSX: kind, value, reason) as multipart `file`; all or nothing."""
    return _import_blacklist(request, db, user, file, source)
