"""The package's web archive: captures' WARC files joined byte for byte, indexed as CDXJ.

Each capture's WARC (a series of gzip members, one per record) is copied unchanged, so its
SHA-256 (`Capture.warc_sha256`) can be recomputed from its byte range inside
`archive/data.warc.gz`. Owns the join, the CDXJ index lines and reading the `metadata` records.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

INDEXED_RECORD_TYPES = ("response", "resource", "revisit")


@dataclass
class WarcSegment:
    """One capture's WARC inside the joined archive."""

    sha256: str
    offset: int
    length: int
    records: int
    metadata: list[dict[str, Any]] = field(default_factory=list)  # the JSON of its `metadata` records


@dataclass
class JoinedArchive:
    segments: list[WarcSegment]
    cdxj_lines: list[str]
    sha256: str
    size: int


def join_warcs(warcs: Iterable[bytes | Path], out: IO[bytes], *, filename: str = "data.warc.gz") -> JoinedArchive:
    """Copy every WARC into `out` unchanged, indexing each record at its offset in the joined file."""
    segments: list[WarcSegment] = []
    lines: list[str] = []
    whole = hashlib.sha256()
    offset = 0
    for number, warc in enumerate(warcs, start=1):
        data = warc.read_bytes() if isinstance(warc, Path) else bytes(warc)
        name = str(warc) if isinstance(warc, Path) else f"WARC #{number}"
        if not data.startswith(b"\x1f\x8b"):
            raise ValueError(f"{name}: not a gzipped WARC (WARC/1.1 records written with gzip=True expected)")
        segment = WarcSegment(sha256=hashlib.sha256(data).hexdigest(), offset=offset, length=len(data), records=0)
        try:
            _index_segment(data, segment, lines, filename)
        except (ArchiveLoadFailed, ValueError) as exc:
            raise ValueError(f"{name}: not a readable WARC: {exc}") from exc
        out.write(data)
        whole.update(data)
        offset += len(data)
        segments.append(segment)
    # CDXJ is searched by binary search on the sorted key, so the lines must be sorted bytewise.
    lines.sort(key=lambda line: line.encode("utf-8"))
    return JoinedArchive(segments=segments, cdxj_lines=lines, sha256=whole.hexdigest(), size=offset)


def _index_segment(data: bytes, segment: WarcSegment, lines: list[str], filename: str) -> None:
    # Digests are checked on the way: a capture whose bytes no longer match its own WARC-Block-Digest
    # must stop the export rather than be handed over.
    iterator = ArchiveIterator(io.BytesIO(data), check_digests="raise")
    for record in iterator:
        rec_type = record.rec_type
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        payload = record.content_stream().read()
        if rec_type == "metadata":
            try:
                segment.metadata.append(json.loads(payload.decode("utf-8")))
            except (UnicodeDecodeError, json.JSONDecodeError):
                segment.metadata.append({"unparsed": payload.decode("utf-8", "replace")})
        offset = iterator.get_record_offset()
        length = iterator.get_record_length()
        segment.records += 1
        if rec_type not in INDEXED_RECORD_TYPES or not url:
            continue
        entry: dict[str, Any] = {"url": url}
        if record.http_headers is not None and rec_type != "resource":
            entry["mime"] = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip()
            entry["status"] = record.http_headers.get_statuscode()
        else:
            entry["mime"] = (headers.get_header("Content-Type") or "").split(";")[0].strip()
            entry["status"] = "200"
        entry["digest"] = headers.get_header("WARC-Payload-Digest") or \
            "sha256:" + hashlib.sha256(payload).hexdigest()
        entry.update({"length": length, "offset": segment.offset + offset, "filename": filename,
                      "recordType": rec_type})
        lines.append(f"{surt(url)} {cdx_timestamp(headers.get_header('WARC-Date') or '')} "
                     f"{json.dumps(entry, ensure_ascii=False, separators=(', ', ': '))}")


def surt(url: str) -> str:
    """Sort-friendly URI Reordering Transform, as pywb writes CDXJ keys: `com,example)/path?a=1`.

    Non-HTTP URIs (the crawler's `urn:pharmwatch:screenshot:...`) are kept as they are.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url.strip().lower()
    host = parts.hostname.lower().strip(".")
    if host.startswith("www."):
        host = host[4:]
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    key = ",".join(reversed(host.split("."))) + ")" + (parts.path or "/").lower()
    if parts.query:
        key += "?" + urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True))).lower()
    return key


def cdx_timestamp(warc_date: str) -> str:
    """`2026-05-01T10:00:00.123456Z` → `20260501100000` (CDXJ's 14-digit timestamp)."""
    moment = parse_time(warc_date) if warc_date else datetime.now(UTC)
    return moment.strftime("%Y%m%d%H%M%S")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
