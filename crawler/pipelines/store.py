"""Storage step: writes result pages, captures and findings to the database and blob store.

`store(items)` writes items in one transaction (one item per call here; several per call from the writer
thread of `crawler.pipelines.batched_store`), so a killed scan never leaves a capture without its findings,
its WARC record or its audit event ("captured", chained in the audit log).
Rows are keyed by (scan run, URL, rendered) and (scan run, engine, query, page): storing the
same thing twice in one scan updates nothing and duplicates nothing.
A page's site row is found by domain once per crawl (its id kept, known only once committed) and then
updated by id in one statement (last seen, latest risk): the per-page SELECT of the site was a tenth of
the store step's time (bench/static_crawl.py --profile).
"""

from __future__ import annotations

import ctypes
from datetime import UTC
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crawler.domains import site_of
from crawler.items import CaptureItem, SerpPageItem
from crawler.ocr import read_in
from crawler.warc import capture_warc
from storage.audit import AuditAppender
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory, transaction
from storage.models import Capture, Finding, SearchQueryRun, SerpObservation, Site, utcnow


class StorePipeline:
    def __init__(self, database_url: str, blob_dir: Path, scan_run_id: int, user_agent: str = "",
                 proxy: str = "") -> None:
        self.engine = make_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.blobs = BlobStore(blob_dir)
        self.scan_run_id = scan_run_id
        self.user_agent = user_agent
        self.proxy = proxy
        self.stored = 0
        self.site_ids: dict[str, int] = {}  # domain → Site.id, committed rows only
        self._new_site_ids: dict[str, int] = {}  # met in the transaction under way

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        if not settings.get("STORE_DATABASE_URL") or not settings.getint("STORE_SCAN_RUN_ID"):
            raise NotConfigured("STORE_DATABASE_URL and STORE_SCAN_RUN_ID are set by `pharmwatch scan`")
        return cls(settings["STORE_DATABASE_URL"], Path(settings["STORE_BLOB_DIR"]),
                   settings.getint("STORE_SCAN_RUN_ID"), settings.get("USER_AGENT", ""),
                   settings.get("EGRESS_PROXY", ""))

    def close_spider(self, spider=None) -> None:  # type: ignore[no-untyped-def]
        self.engine.dispose()

    def process_item(self, item: object, spider=None) -> object:  # type: ignore[no-untyped-def]
        self.store([item])
        return item

    def store(self, items: list[object]) -> None:
        """Store `items` in one transaction: all of them, or (on any error, raised) none.

        Per batch, not per page: one "already stored?" query, one INSERT of the captures, one read of the
        audit log's newest hash, one UPDATE per site, one commit (`crawler.pipelines.batched_store`)."""
        self._new_site_ids = {}
        with transaction(self.sessions) as session:
            for item in items:
                if isinstance(item, SerpPageItem):
                    self._store_serp_page(session, item)
            self._store_captures(session, [item for item in items if isinstance(item, CaptureItem)])
        if len(self.site_ids) > 100_000:  # a bounded memory: a long crawl meets sites without end
            self.site_ids.clear()
        self.site_ids.update(self._new_site_ids)
        before, self.stored = self.stored, self.stored + len(items)
        if self.stored // TRIM_EVERY_PAGES > before // TRIM_EVERY_PAGES:
            _trim_heap()

    def _site(self, session: Session, domain: str) -> Site:
        site = Site.named(session, domain)
        site.last_seen = utcnow()
        return site

    def _site_id(self, session: Session, domain: str) -> int:
        """The site's id; its row is created (with `last_seen` now) when first met."""
        site_id = self.site_ids.get(domain) or self._new_site_ids.get(domain)
        if site_id is None:
            site_id = self._site(session, domain).id
            self._new_site_ids[domain] = site_id
        return site_id

    def _store_serp_page(self, session: Session, item: SerpPageItem) -> None:
        key = (SearchQueryRun.scan_run_id == self.scan_run_id, SearchQueryRun.engine == item.engine,
               SearchQueryRun.query == item.query, SearchQueryRun.page == item.page)
        if session.scalar(select(SearchQueryRun.id).where(*key)) is not None:
            return
        query_run = SearchQueryRun(
            scan_run_id=self.scan_run_id, engine=item.engine, query=item.query, page=item.page,
            url=item.url, status=item.status, reason=item.reason,
            body_sha256=self.blobs.put(item.body, ".html") if item.body else None,
        )
        session.add(query_run)
        session.flush()
        for index, result in enumerate(item.results):
            domain = site_of(result.url)
            site = self._site(session, domain) if domain else None
            observation = SerpObservation(
                query_run_id=query_run.id, scan_run_id=self.scan_run_id,
                site_id=site.id if site else None,
                engine=item.engine, query=item.query, page=item.page, rank=result.rank,
                is_ad=result.is_ad, ad_label=result.ad_label, advertiser=result.advertiser,
                title=result.title, snippet=result.snippet, url=result.url,
                displayed_url=result.displayed_url,
            )
            session.add(observation)
            analysis = item.ad_analyses.get(index)
            if analysis and analysis.findings and site:
                session.flush()
                for hit in analysis.findings:
                    session.add(_finding(hit, site_id=site.id, scan_run_id=self.scan_run_id,
                                         serp_observation_id=observation.id))

    def _store_captures(self, session: Session, items: list[CaptureItem]) -> None:
        if not items:
            return
        stored = set(session.execute(
            select(Capture.url, Capture.rendered).where(Capture.scan_run_id == self.scan_run_id,
                                                        Capture.url.in_({item.url for item in items}))).all())
        fresh = []
        for item in items:
            if (item.url, item.rendered) in stored:  # stored by a killed crawl of this run, or twice in a batch
                continue
            stored.add((item.url, item.rendered))
            fresh.append(item)
        for item in fresh:  # the sites first: a site met for the first time is flushed for its id
            self._site_id(session, item.site)
        new: list[tuple[CaptureItem, Capture]] = []
        for item in fresh:
            capture = self._capture_row(session, item)
            session.add(capture)
            new.append((item, capture))
        session.flush()  # the captures' ids, in one INSERT
        seen = utcnow()
        sites: dict[int, dict[str, Any]] = {}  # site id → its last sighting and latest risk, in page order
        audit = AuditAppender(session)
        for item, capture in new:
            analysis = item.analysis
            for hit in analysis.findings if analysis else []:
                finding = _finding(hit, site_id=capture.site_id, scan_run_id=self.scan_run_id, capture_id=capture.id)
                finding.ocr = read_in(list(hit.spans), item.ocr_spans) or None
                session.add(finding)
            sites.setdefault(capture.site_id, {}).update(last_seen=seen,
                                                         **({"risk": analysis.risk} if analysis else {}))
            audit.record(actor="crawler", action="captured", subject=f"capture:{capture.id}", details={
                "url": item.url, "final_url": item.final_url, "server_ip": item.server_ip,
                "fetched_at": capture.fetched_at.isoformat(), "error": item.error, "body_sha256": capture.body_sha256,
                "text_sha256": capture.text_sha256, "screenshot_sha256": capture.screenshot_sha256,
                "warc_sha256": capture.warc_sha256,
                **({"ocr_image_sha256": sorted(item.ocr_images)} if item.ocr_images else {}),
            })
        # Each site's last sighting and latest risk, in one statement by id.
        for site_id, values in sites.items():
            session.execute(update(Site).where(Site.id == site_id).values(**values))
        session.flush()

    def _capture_row(self, session: Session, item: CaptureItem) -> Capture:
        """The capture's row (not yet added), its blobs written: body, text, screenshot, WARC, images read."""
        analysis = item.analysis
        warc = capture_warc(item, user_agent=self.user_agent, proxy=self.proxy)
        capture = Capture(
            scan_run_id=self.scan_run_id, site_id=self._site_id(session, item.site), url=item.url,
            final_url=item.final_url,
            rendered=item.rendered, status_code=item.status_code, content_type=item.content_type,
            server_ip=item.server_ip, title=item.title, truncated=item.truncated, error=item.error,
            body_sha256=self.blobs.put(item.body, ".html") if item.body else None,
            text_sha256=self.blobs.put(item.text.encode("utf-8"), ".txt") if item.text else None,
            screenshot_sha256=self.blobs.put(item.screenshot, ".png") if item.screenshot else None,
            warc_sha256=self.blobs.put(warc, ".warc.gz") if warc else None,
            fetched_at=item.fetched_at.astimezone(UTC).replace(tzinfo=None),
            risk=analysis.risk if analysis else "none",
            signals={**(_jsonable(analysis.signals) if analysis else {}), **_certificate(item.tls),
                     **({"redirect_hops": item.redirect_hops} if item.redirect_hops else {}),
                     **({"favicon": item.favicon} if item.favicon else {})},
            ocr=item.ocr_blocks,
        )
        for image in item.ocr_images.values():  # what a finding read in an image is evidence too
            self.blobs.put(image, ".img")
        if item.favicon_image:  # the icon that ties the site to others (cases.networks), by its SHA-256
            self.blobs.put(item.favicon_image, ".img")
        return capture


#: Pages between two returns of freed heap memory to the system (`_trim_heap`).
TRIM_EVERY_PAGES = 500


def _trim_heap() -> None:
    """Give glibc's free heap pages back to the system. Pages of 30-100 KB (bodies, decoded text, WARC
    buffers) are freed after this step, but the holes they leave in the heap stay in the process's RSS:
    on a 5,000-page scan the crawl's RSS grew ~20 MB per 1,000 pages while its Python heap stayed flat
    (bench/static_crawl.py --trace-memory). Not glibc (musl, macOS): nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _certificate(tls: dict[str, Any] | None) -> dict[str, Any]:
    """The TLS certificate's fingerprint and names as a capture signal (the operator networks link sites
    served with one certificate); the full summary stays in the WARC metadata record."""
    if not tls or "sha256" not in tls:
        return {}
    return {"tls_certificate": {"sha256": tls["sha256"], "dns_names": list(tls.get("dns_names") or [])}}


def _finding(hit, **where: int) -> Finding:  # type: ignore[no-untyped-def]
    return Finding(
        **where, rule_id=hit.rule_id, rule_version=hit.rule_version, rule_sha256=hit.rule_sha256,
        title=hit.title_zh, category=hit.category, severity=hit.severity, legal_basis=list(hit.legal_basis),
        spans=[list(span) for span in hit.spans], excerpt=hit.excerpt,
    )


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
