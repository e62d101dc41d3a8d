"""Building an evidence package: one WACZ 1.1.1 file a supervisor hands to police, telecom authority or court.

Takes plain inputs (the captures' WARC bytes, page entries, the case, findings and custody
events as dicts, screenshots by SHA-256, the installation key) and writes the ZIP: web archive,
CDXJ index, pages, report (HTML + PDF, Chinese), findings, custody chain, public key, the images
findings were read in (OCR: the original bytes, and a derived rendering with the matched lines
outlined), manifest with a SHA-256 for every file, and the signed digest with an optional RFC 3161 timestamp.
Which captures belong to a case is the caller's business (the database side); this module
never opens a database.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cases.evidence import manifest as m
from cases.evidence.custody import chain_events, custody_document, iso_utc, jsonable
from cases.evidence.keys import KeyPair
from cases.evidence.report import (
    CaptureRow,
    ReportContext,
    image_extension,
    ocr_regions,
    outlined_name,
    outlined_rendering,
    render_html,
    render_pdf,
    slice_screenshot,
)
from cases.evidence.timestamp import TimestampError, check_token, request_timestamp, token_certificates_pem
from cases.evidence.warcs import JoinedArchive, WarcSegment, join_warcs

FINDINGS_FORMAT = "pharmwatch-findings-1"
# ZIP cannot hold a member over 4 GiB without ZIP64, and a streamed member must declare it up front.
_ZIP64_THRESHOLD = 2**31


@dataclass(frozen=True)
class PageEntry:
    """One captured page of the package (a Capture row, as plain values)."""

    url: str
    fetched_at: datetime  # UTC; naive values are taken as UTC
    title: str | None = None
    final_url: str | None = None
    server_ip: str | None = None
    status_code: int | None = None
    rendered: bool = False
    capture_id: int | None = None
    warc_sha256: str | None = None  # Capture.warc_sha256: must be one of the WARCs handed in
    screenshot_sha256: str | None = None  # must be a key of `screenshots`


@dataclass(frozen=True)
class PackagedFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PackageSummary:
    path: Path
    size: int
    sha256: str  # of the whole .wacz file, for the hand-over receipt
    datapackage_sha256: str  # what the signature and the timestamp cover
    key_fingerprint: str
    files: list[PackagedFile]  # every member, in ZIP order
    pages: int
    findings: int
    warc_records: int
    timestamp: datetime | None  # the TSA's time, when a timestamp was requested


def build_package(
    out: Path,
    *,
    warcs: Sequence[bytes] | Sequence[Path],
    pages: Sequence[PageEntry],
    case: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    custody: Sequence[Mapping[str, Any]],
    screenshots: Mapping[str, bytes],
    keys: KeyPair,
    tsa_url: str | None = None,
    exported_by: str = "pharmwatch",
    created: datetime | None = None,
    timezone: str = "Asia/Shanghai",
    tsa_timeout: float = 30.0,
    tsa_proxy: str | None = None,
    search: Sequence[Mapping[str, Any]] = (),
    result_pages: Mapping[str, bytes] | None = None,
    ocr_images: Mapping[str, bytes] | None = None,
) -> PackageSummary:
    """Write the evidence package to `out` (atomically: a failed export leaves no file behind).

    `search`: the search results and ads that led to the site (engine, query, page, rank, is_ad,
    advertiser, title, snippet, url, observed_at, result_page_sha256); `result_pages`: the result
    pages they were read from, by SHA-256, kept as `search/<sha256>.html`. `ocr_images`: the images
    findings were read in (their `ocr` entries name them by SHA-256), kept as `report/image-<sha256>.<ext>`
    beside a rendering with the matched lines outlined.

    `case`: id, site (domain), status, risk, categories, opened_at, plus anything worth showing.
    `findings`: Finding rows as dicts (rule_id, title, category, severity, legal_basis, excerpt,
    capture_id, ...) plus optional `matches` (the matched strings, see `highlights_from_spans`).
    `custody`: audit events (at, actor, action, subject, details, hash, prev_hash), oldest first;
    the export itself is appended. Raises ValueError when inputs contradict each other (a page
    naming a WARC or screenshot not handed in, a screenshot whose bytes do not match its hash).
    """
    moment = _utc(created or datetime.now(UTC)).replace(microsecond=0)
    created_text = m.wacz_time(moment)
    _check_inputs(pages, screenshots)
    result_pages = dict(result_pages or {})
    for sha, data in result_pages.items():
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"result page {sha}: its bytes do not hash to it")
    ocr_images = dict(ocr_images or {})
    for sha, data in ocr_images.items():
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"image {sha}: its bytes do not hash to it; the blob store copy has changed")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        summary = _write(tmp, out, moment, created_text, warcs=warcs, pages=pages, case=case, findings=findings,
                         custody=custody, screenshots=screenshots, keys=keys, tsa_url=tsa_url,
                         exported_by=exported_by, timezone=timezone, tsa_timeout=tsa_timeout, tsa_proxy=tsa_proxy,
                         search=search, result_pages=result_pages, ocr_images=ocr_images)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return summary


def _check_inputs(pages: Sequence[PageEntry], screenshots: Mapping[str, bytes]) -> None:
    for sha, data in screenshots.items():
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"screenshot {sha}: its bytes hash to {hashlib.sha256(data).hexdigest()}; "
                             "the blob store copy has changed or the wrong file was read")
    for page in pages:
        if page.screenshot_sha256 and page.screenshot_sha256 not in screenshots:
            raise ValueError(f"page {page.url}: screenshot {page.screenshot_sha256} was not handed in")


class _Writer:
    """Members are added in order and their size and SHA-256 remembered for the manifest."""

    def __init__(self, zf: zipfile.ZipFile, moment: datetime) -> None:
        self.zf = zf
        self.date_time = moment.timetuple()[:6]
        self.files: list[PackagedFile] = []

    def info(self, path: str, *, stored: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self.date_time)
        # WACZ: already-compressed members (gzip WARC, PNG, PDF) are STORED so readers can seek into them.
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def add(self, path: str, data: bytes, *, stored: bool = False) -> PackagedFile:
        self.zf.writestr(self.info(path, stored=stored), data)
        entry = PackagedFile(path, len(data), hashlib.sha256(data).hexdigest())
        self.files.append(entry)
        return entry


def _write(tmp: Path, out: Path, moment: datetime, created_text: str, *, warcs: Sequence[bytes] | Sequence[Path],
           pages: Sequence[PageEntry], case: Mapping[str, Any], findings: Sequence[Mapping[str, Any]],
           custody: Sequence[Mapping[str, Any]], screenshots: Mapping[str, bytes], keys: KeyPair,
           tsa_url: str | None, exported_by: str, timezone: str, tsa_timeout: float,
           tsa_proxy: str | None, search: Sequence[Mapping[str, Any]],
           result_pages: Mapping[str, bytes], ocr_images: Mapping[str, bytes]) -> PackageSummary:
    total = sum(w.stat().st_size if isinstance(w, Path) else len(w) for w in warcs)
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        writer = _Writer(zf, moment)
        with zf.open(writer.info(m.ARCHIVE, stored=True), "w", force_zip64=total > _ZIP64_THRESHOLD) as member:
            joined = join_warcs(list(warcs), member, filename=m.ARCHIVE.rsplit("/", 1)[1])
        writer.files.append(PackagedFile(m.ARCHIVE, joined.size, joined.sha256))
        writer.add(m.INDEX, ("\n".join(joined.cdxj_lines) + "\n").encode("utf-8"))

        rows = _capture_rows(pages, joined)
        writer.add(m.PAGES, _pages_jsonl(case, pages, rows))
        shot_names = {sha: m.screenshot_member(sha) for sha in screenshots}
        enriched = _enrich_findings(findings, pages)
        findings_file = writer.add(m.FINDINGS, m.dumps({
            "format": FINDINGS_FORMAT, "case": jsonable(case),
            "captures": [_capture_json(row, page, shot_names) for row, page in zip(rows, pages, strict=True)],
            "findings": jsonable(enriched),
            "search": jsonable([{**entry, "result_page": m.result_page_member(entry["result_page_sha256"])
                                 if entry.get("result_page_sha256") in result_pages else None} for entry in search]),
        }))
        for sha in sorted(result_pages):
            writer.add(m.result_page_member(sha), result_pages[sha])
        for sha in sorted(screenshots):
            writer.add(shot_names[sha], screenshots[sha], stored=True)
        image_names = {sha: m.ocr_image_member(sha, image_extension(data)) for sha, data in ocr_images.items()}
        for sha in sorted(ocr_images):
            writer.add(image_names[sha], ocr_images[sha], stored=True)
        outlined = _outlined(enriched, ocr_images)
        for name in sorted(outlined):
            writer.add(m.outlined_member(name), outlined[name], stored=True)
        key_file = writer.add(m.PUBLIC_KEY, keys.public_pem())
        by_path = {f.path: f for f in writer.files}
        export_event = {
            "at": moment, "actor": exported_by, "action": "exported", "subject": f"case:{case.get('id', '')}",
            "details": {
                "output": out.name, "software": m.software(), "key_fingerprint": keys.fingerprint,
                "archive_sha256": joined.sha256, "index_sha256": by_path[m.INDEX].sha256,
                "pages_sha256": by_path[m.PAGES].sha256, "findings_sha256": findings_file.sha256,
                "public_key_sha256": key_file.sha256,
                "warc_sha256": [s.sha256 for s in joined.segments], "screenshot_sha256": sorted(screenshots),
                "timestamp_authority": tsa_url,
            },
        }
        entries = chain_events([*custody, export_event])
        writer.add(m.CUSTODY, m.dumps(custody_document(entries)))

        context = ReportContext(
            case=case, exported_at=moment, exported_by=exported_by, software=m.software(),
            key_fingerprint=keys.fingerprint, captures=rows, findings=enriched, custody=entries, search=list(search),
            files=[(f.path, f.size, f.sha256) for f in writer.files],
            screenshot_names={sha: name.rsplit("/", 1)[1] for sha, name in shot_names.items()},
            tsa_url=tsa_url, timezone=timezone,
            ocr_image_names={sha: name.rsplit("/", 1)[1] for sha, name in image_names.items()},
        )
        _add_report(writer, context, screenshots, outlined)

        site = str(case.get("site") or case.get("domain") or "")
        first = min(pages, key=lambda p: _utc(p.fetched_at)) if pages else None
        datapackage = m.datapackage(
            [m.resource(f.path, f.size, f.sha256) for f in writer.files],
            created=created_text,
            title=f"案件 {case.get('id', '')} 电子数据证据包 — {site}",
            description=(f"PharmWatch 证据包：网站 {site}，{len(pages)} 个采集页面，{len(findings)} 条发现。"
                         "报告见 report/report.pdf；校验：`pharmwatch evidence verify`。"),
            main_page=(first.url, iso_utc(_utc(first.fetched_at))) if first else None,
            extra={"pharmwatch": {"format": "pharmwatch-evidence-1", "case": jsonable(case.get("id")), "site": site,
                                  "custody_head": entries[-1]["hash"], "key_fingerprint": keys.fingerprint,
                                  # Declared under the signature, so stripping the token is noticed.
                                  "timestamp_authority": tsa_url}},
        )
        signed = m.sign_digest(datapackage, keys=keys, created=created_text)
        timestamp, gen_time = (_timestamp(tsa_url, datapackage, moment, timeout=tsa_timeout, proxy=tsa_proxy)
                               if tsa_url else (None, None))
        zf.writestr(writer.info(m.DATAPACKAGE, stored=False), datapackage)
        zf.writestr(writer.info(m.DIGEST, stored=False), m.digest_document(datapackage, signed, timestamp))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
        whole = hashlib.file_digest(handle, "sha256").hexdigest()
    return PackageSummary(
        path=out, size=tmp.stat().st_size, sha256=whole, datapackage_sha256=hashlib.sha256(datapackage).hexdigest(),
        key_fingerprint=keys.fingerprint, files=[*writer.files,
                                                 PackagedFile(m.DATAPACKAGE, len(datapackage),
                                                              hashlib.sha256(datapackage).hexdigest())],
        pages=len(pages), findings=len(findings), warc_records=sum(s.records for s in joined.segments),
        timestamp=gen_time,
    )


def _outlined(findings: Sequence[Mapping[str, Any]], ocr_images: Mapping[str, bytes]) -> dict[str, bytes]:
    """Each image a finding was read in, with that finding's matched lines outlined (file name -> PNG)."""
    out: dict[str, bytes] = {}
    for finding in findings:
        for sha, boxes in ocr_regions(finding).items():
            name = outlined_name(sha, boxes)
            if sha in ocr_images and name not in out:
                out[name] = outlined_rendering(ocr_images[sha], boxes)
    return out


def _add_report(writer: _Writer, context: ReportContext, screenshots: Mapping[str, bytes],
                outlined: Mapping[str, bytes]) -> None:
    """report.html shows each screenshot whole; report.pdf shows page-sized slices of it."""
    writer.add(m.REPORT_HTML, render_html(context).encode("utf-8"))
    images: dict[str, bytes] = dict(outlined)
    parts: dict[str, list[str]] = {}
    for sha in screenshots:
        slices = slice_screenshot(screenshots[sha])
        parts[sha] = [f"slice-{sha[:16]}-{n}.png" for n in range(1, len(slices) + 1)]
        images.update(zip(parts[sha], slices, strict=True))
    writer.add(m.REPORT_PDF, render_pdf(render_html(context, screenshot_parts=parts), images), stored=True)


def _timestamp(tsa_url: str, datapackage: bytes, moment: datetime, *, timeout: float,
               proxy: str | None) -> tuple[dict[str, str], datetime]:
    data_hash = hashlib.sha256(datapackage).digest()
    token = request_timestamp(tsa_url, data_hash, timeout=timeout, proxy=proxy)
    gen_time = check_token(token, data_hash).gen_time
    # Verifiers reject a timestamp far from `created` (WACZ signing spec: 10 minutes), so a package
    # that would fail verification is never written.
    if gen_time is None or abs(gen_time - moment) > m.MAX_TIMESTAMP_SKEW:
        raise TimestampError(f"timestamp authority {tsa_url} says {gen_time}, this machine says "
                             f"{m.wacz_time(moment)}: fix the system clock (NTP) and export again")
    return m.timestamp_object(token, token_certificates_pem(token)), gen_time


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _capture_rows(pages: Sequence[PageEntry], joined: JoinedArchive) -> list[CaptureRow]:
    segments: dict[str, WarcSegment] = {s.sha256: s for s in joined.segments}
    rows = []
    for page in pages:
        segment = None
        if page.warc_sha256:
            segment = segments.get(page.warc_sha256)
            if segment is None:
                raise ValueError(f"page {page.url}: WARC {page.warc_sha256} was not handed in (or its bytes changed)")
        how = next((meta for meta in segment.metadata if isinstance(meta, dict)), {}) if segment else {}
        rows.append(CaptureRow(
            url=page.url, fetched_at=_utc(page.fetched_at), final_url=page.final_url, title=page.title,
            server_ip=page.server_ip or how.get("server_ip"), status_code=page.status_code, rendered=page.rendered,
            warc_sha256=page.warc_sha256, warc_offset=segment.offset if segment else None,
            warc_length=segment.length if segment else None, screenshot_sha256=page.screenshot_sha256,
            how={k: how.get(k) for k in ("crawler", "user_agent", "egress_proxy", "tls") if how.get(k)},
        ))
    return rows


def _capture_json(row: CaptureRow, page: PageEntry, shot_names: Mapping[str, str]) -> dict[str, Any]:
    return jsonable({
        "capture_id": page.capture_id, "url": row.url, "final_url": row.final_url, "title": row.title,
        "fetched_at": row.fetched_at, "server_ip": row.server_ip, "status_code": row.status_code,
        "rendered": row.rendered, "how": row.how,
        "warc": {"sha256": row.warc_sha256, "member": m.ARCHIVE, "offset": row.warc_offset, "length": row.warc_length}
        if row.warc_sha256 else None,
        "screenshot": {"sha256": row.screenshot_sha256, "member": shot_names[row.screenshot_sha256]}
        if row.screenshot_sha256 else None,
    })


def _pages_jsonl(case: Mapping[str, Any], pages: Sequence[PageEntry], rows: list[CaptureRow]) -> bytes:
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": f"案件 {case.get('id', '')} 采集页面"}]
    for number, (page, row) in enumerate(zip(pages, rows, strict=True), start=1):
        entry: dict[str, Any] = {
            "id": f"capture-{page.capture_id}" if page.capture_id is not None else f"page-{number}",
            "url": page.final_url or page.url, "ts": iso_utc(row.fetched_at),
        }
        if page.title:
            entry["title"] = page.title
        entry.update({k: v for k, v in {"server_ip": row.server_ip, "status": page.status_code,
                                        "rendered": page.rendered, "warc_sha256": page.warc_sha256}.items()
                      if v is not None})
        lines.append(entry)
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def _enrich_findings(findings: Sequence[Mapping[str, Any]], pages: Sequence[PageEntry]) -> list[dict[str, Any]]:
    """Findings with their page's URL and capture time, so each stands on its own in the report."""
    by_capture = {p.capture_id: p for p in pages if p.capture_id is not None}
    out = []
    for finding in findings:
        item = dict(finding)
        capture_id = item.get("capture_id")
        page = by_capture.get(capture_id) if isinstance(capture_id, int) else None
        if page is not None:
            item.setdefault("url", page.final_url or page.url)
            item.setdefault("fetched_at", iso_utc(_utc(page.fetched_at)))
        out.append(item)
    return out
