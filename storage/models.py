"""The database schema: typed SQLAlchemy 2 models for sites, scans, captures, findings, cases, tips,
the scheduler's jobs, runs and claim, the alert outbox, the web UI's accounts, sessions and API tokens,
and the reference registries.

Evidence bytes (bodies, text, screenshots) never live in rows: rows hold their SHA-256 and the
blob store (`storage.blobs`) holds the bytes. Times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    """A website (by host name) the system has seen, from search results, the watchlist or tips."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    risk: Mapped[str] = mapped_column(String(16), default="none")  # latest capture's risk

    @classmethod
    def named(cls, session: Session, domain: str) -> Site:
        """The row for this domain, created (and flushed, so it has an id) when first met."""
        site = session.scalar(select(cls).where(cls.domain == domain))
        if site is None:
            site = cls(domain=domain)
            session.add(site)
            session.flush()
        return site


class ScanRun(Base):
    """One scan (search monitoring + site crawl) with what it did and met."""

    __tablename__ = "scan_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|finished|failed
    #: storage.scans.RUN_KINDS: only a "scan" run is resumed by the next `pharmwatch scan`.
    kind: Mapped[str] = mapped_column(String(16), default="scan", server_default="scan")
    rules_digest: Mapped[str] = mapped_column(String(64), default="")
    queries: Mapped[int] = mapped_column(default=0)
    results: Mapped[int] = mapped_column(default=0)
    ads: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    findings: Mapped[int] = mapped_column(default=0)
    flagged_sites: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SearchQueryRun(Base):
    """One result page requested from one engine for one query: ok, blocked or failed, and why."""

    __tablename__ = "search_query_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("scan_run.id"), index=True)
    engine: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(String(200))
    page: Mapped[int]
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # ok|no_results|blocked|parse_error|failed
    reason: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("scan_run_id", "engine", "query", "page"),)


class SerpObservation(Base):
    """One organic result or paid ad seen on a result page, with its rank."""

    __tablename__ = "serp_observation"
    id: Mapped[int] = mapped_column(primary_key=True)
    query_run_id: Mapped[int] = mapped_column(ForeignKey("search_query_run.id"), index=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("scan_run.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    engine: Mapped[str] = mapped_column(String(32))
    query: Mapped[str] = mapped_column(String(200))
    page: Mapped[int]
    rank: Mapped[int]
    is_ad: Mapped[bool]
    ad_label: Mapped[str | None] = mapped_column(String(32))
    advertiser: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    snippet: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    displayed_url: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    query_run: Mapped[SearchQueryRun] = relationship()  # the result page it was read from


class Capture(Base):
    """One fetch of one page: what came back (by hash), how it was fetched, or why it failed."""

    __tablename__ = "capture"
    id: Mapped[int] = mapped_column(primary_key=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("scan_run.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    rendered: Mapped[bool] = mapped_column(default=False)  # fetched through Chromium
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(200))
    server_ip: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64))
    warc_sha256: Mapped[str | None] = mapped_column(String(64))  # the capture's WARC records (.warc.gz)
    truncated: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)  # why the fetch failed; None when it worked
    risk: Mapped[str] = mapped_column(String(16), default="none")
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Images read by OCR (issue #20): one block per image tried, as `check --json`'s `ocr` (image URL,
    # sha256 of the bytes kept in the blob store as `<sha256>.img`, engine, lines with boxes); None: OCR off.
    ocr: Mapped[list[Any] | None] = mapped_column(JSON)
    findings: Mapped[list[Finding]] = relationship(back_populates="capture")
    __table_args__ = (UniqueConstraint("scan_run_id", "url", "rendered"),)


class Finding(Base):
    """One rule hit on a captured page or on a search ad's text, with what shows and justifies it."""

    __tablename__ = "finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"), index=True)
    serp_observation_id: Mapped[int | None] = mapped_column(ForeignKey("serp_observation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    scan_run_id: Mapped[int] = mapped_column(ForeignKey("scan_run.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[int]
    rule_sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    legal_basis: Mapped[list[Any]] = mapped_column(default=list)
    spans: Mapped[list[Any]] = mapped_column(default=list)
    # The image lines (sha256, line, box) its matches were read in, when they were read in images.
    ocr: Mapped[list[Any] | None] = mapped_column(JSON)
    excerpt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    capture: Mapped[Capture | None] = relationship(back_populates="findings")
    __table_args__ = (
        UniqueConstraint("capture_id", "rule_id"),
        UniqueConstraint("serp_observation_id", "rule_id"),
        # The daily list ranks and filters a day's flagged sites from this index alone (migration 0015).
        Index("ix_finding_day", "created_at", "site_id", "severity", "category"),
        CheckConstraint("(capture_id IS NULL) <> (serp_observation_id IS NULL)", name="finding_has_one_source"),
    )


class Case(Base):
    """A flagged site under review: what supervisors decide, refer and export evidence for."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # cases.lifecycle.STATUSES
    risk: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[Any]] = mapped_column(default=list)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_scan_id: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id"))
    assignee: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock: two people acting at once, one wins
    site: Mapped[Site] = relationship()

    __mapper_args__ = {"version_id_col": version}


class CaseDecision(Base):
    """One step of a case's lifecycle: who moved it from what to what, and why (append-only)."""

    __tablename__ = "case_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))  # review|confirm|dismiss|reopen|close|assign
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")


class BlacklistEntry(Base):
    """A site or an operator identifier on the office's blacklist (重点监管名单); lifted, never deleted."""

    __tablename__ = "blacklist_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # cases.blacklist.KINDS
    value: Mapped[str] = mapped_column(String(253), index=True)  # normalised as the extractors write it
    reason: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    rules: Mapped[list[Any]] = mapped_column(default=list)
    legal_basis: Mapped[list[Any]] = mapped_column(default=list)
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)


class Referral(Base):
    """A case referred to another authority (police, telecom authority, ...): draft → sent → acknowledged → closed."""

    __tablename__ = "referral"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    authority: Mapped[str] = mapped_column(String(32))  # cases.referrals.AUTHORITIES
    status: Mapped[str] = mapped_column(String(16), default="draft")
    why: Mapped[str] = mapped_column(Text, default="")  # why this authority (suggested from the findings)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    their_reference: Mapped[str | None] = mapped_column(String(200))
    package_sha256: Mapped[str | None] = mapped_column(String(64))  # the evidence package it travels with
    network_id: Mapped[int | None] = mapped_column(ForeignKey("operator_network.id"))  # a whole network referred


class CorrectionOrder(Base):
    """An order to correct (责令改正) or to suspend sales of a product, with a deadline; ends in a re-check."""

    __tablename__ = "correction_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # correct | suspend_sales
    product: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | complied | not_complied
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)  # the re-check that decided it


class RuleVerdict(Base):
    """A reviewer's verdict on one rule's findings in a case: what `rules stats` counts per rule."""

    __tablename__ = "rule_verdict"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # confirmed|dismissed
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log: who did what to which thing, when.

    `hash` = SHA-256 over the previous entry's hash and this entry's canonical JSON, so changing or
    removing any past entry breaks every later hash (see storage.audit).
    """

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # a user name, or "crawler", "scheduler"
    action: Mapped[str] = mapped_column(String(50))  # captured, exported, case_opened, ...
    subject: Mapped[str] = mapped_column(String(100), index=True)  # e.g. "capture:12", "case:3"
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Tip(Base):
    """A suspicious URL reported by a monitor or the public (hotline, e-mail); the next scan crawls it.

    One tip per (url, source, submitted_day): entering or importing the same report again on the same
    day finds the existing tip instead of adding one (see cases.tips). `submitted_day` is the local day
    (report timezone) of `submitted_at`, stored because a day cannot be indexed portably otherwise.
    """

    __tablename__ = "tip"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))  # normalised http(s) URL (cases.tips.normalise_url)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)  # the URL's registrable domain
    source: Mapped[str] = mapped_column(String(100))  # e.g. "12315 hotline", "public email"
    reporter: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_day: Mapped[date]
    submitted_by: Mapped[str] = mapped_column(String(100))  # who entered it
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|scanned
    scan_run_id: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id"), index=True)  # the scan that crawled it
    site: Mapped[Site] = relationship()
    __table_args__ = (
        UniqueConstraint("url", "source", "submitted_day", name="uq_tip_url_source_day"),
        CheckConstraint("status IN ('pending', 'scanned')", name="tip_status"),
    )


class ScheduleJob(Base):
    """A scheduled job: from the settings file (nightly scan, per query set, digest, re-checks) or added by an
    admin (a scan of query sets or sites).

    `last_fire_at` is the newest fire time the scheduler has dealt with (run or skipped, UTC): a fire
    time after it that has passed is due, so a run missed while no scheduler was up is known.
    """

    __tablename__ = "schedule_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # settings | admin
    command: Mapped[str] = mapped_column(String(32), default="scan", server_default="scan")  # scheduler.COMMANDS
    cron: Mapped[str] = mapped_column(String(100))  # 5 fields (or 6, seconds first), [report] timezone
    args: Mapped[list[Any]] = mapped_column(default=list)  # arguments of the command
    paused: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    last_fire_at: Mapped[datetime | None]
    __table_args__ = (CheckConstraint("source IN ('settings', 'admin')", name="schedule_job_source"),)


class ScheduleRun(Base):
    """One run of a scheduled job (or its skip): when, how it ended and why, and what its scan did.

    One row per (job, fire time) at most: the unique key is what makes a missed run happen once.
    Manual runs (`schedule run-now`) have no fire time.
    """

    __tablename__ = "schedule_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(String(100), index=True)  # not a foreign key: history outlives jobs
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | catch_up | manual
    scheduled_for: Mapped[datetime | None]  # the fire time (UTC)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # running|finished|partial|failed|skipped
    reason: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    exit_status: Mapped[int | None]
    scan_run_id: Mapped[int | None] = mapped_column(ForeignKey("scan_run.id"))
    pages: Mapped[int | None]
    findings: Mapped[int | None]
    __table_args__ = (
        UniqueConstraint("job_name", "scheduled_for", name="uq_schedule_run_job_fire"),
        CheckConstraint("outcome IN ('running', 'finished', 'partial', 'failed', 'skipped')",
                        name="schedule_run_outcome"),
    )


class SchedulerClaim(Base):
    """The one scheduler allowed per database: who holds the claim and its last sign of life."""

    __tablename__ = "scheduler_claim"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: one row, one scheduler
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    since: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    __table_args__ = (CheckConstraint("id = 1", name="scheduler_claim_single"),)


class AlertMessage(Base):
    """A message of the alert outbox (a digest, an alert, a test), stored before anything is sent.

    `message_key` makes enqueueing idempotent: the same key (e.g. one day's digest) stores one message.
    """

    __tablename__ = "alert_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # alerts.channels.MESSAGE_KINDS
    message_key: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deliveries: Mapped[list[AlertDelivery]] = relationship(back_populates="message", order_by="AlertDelivery.id")


class AlertDelivery(Base):
    """One message on one channel: pending → sending → sent, or back to pending with a back-off, or failed.

    `next_attempt_at` is when a pending delivery is due, and for one in `sending` the end of its lease:
    a `sending` row past it was left by a process that died mid-send and is sent again (alerts.outbox).
    """

    __tablename__ = "alert_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("alert_message.id"), index=True)
    channel: Mapped[str] = mapped_column(String(100))  # the [[alerts.channels]] name
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    message: Mapped[AlertMessage] = relationship(back_populates="deliveries")
    __table_args__ = (
        UniqueConstraint("message_id", "channel", name="uq_alert_delivery_message_channel"),
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="alert_delivery_state"),
        Index("ix_alert_delivery_due", "state", "next_attempt_at"),
    )


Index("ix_capture_fetched_at", Capture.fetched_at)


# ---------------------------------------------------------------------------------------------------
# Reference registries (licences, approval numbers): one table per kind, keyed by the normalised number.
# Their CSV layout and queries: storage.registry; importing and validating files: cases.registries.


class SiteIdentifier(Base):
    """An operator identifier seen on a site's pages (contact, tracking id, licence number, server address):
    the index the operator networks are built from (cases.networks), filled scan by scan."""

    __tablename__ = "site_identifier"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # cases.networks.STRENGTH
    value: Mapped[str] = mapped_column(String(255))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("site_id", "kind", "value", name="uq_site_identifier"),
                      Index("ix_site_identifier_value", "kind", "value"))


class OperatorNetwork(Base):
    """Flagged sites run by the same people (串并案), linked by shared identifiers. Its id stays as it grows;
    when two networks join, the older one absorbs the other (`merged_into`)."""

    __tablename__ = "operator_network"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("operator_network.id"))


class NetworkMember(Base):
    """A site's place in a network (a site belongs to one network at most)."""

    __tablename__ = "network_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("operator_network.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), unique=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class RegistryRow:
    """Columns every registry table has: the normalised number (unique), a status, when it changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InfoServiceCertificate(RegistryRow, Base):
    """互联网药品信息服务资格证书: who holds it, for which domains, from when to when."""

    __tablename__ = "registry_info_service_cert"
    holder: Mapped[str] = mapped_column(String(200))
    cert_type: Mapped[str] = mapped_column(String(8))  # 经营性 | 非经营性
    domains: Mapped[list[Any]] = mapped_column(default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class TradingCertificate(RegistryRow, Base):
    """A legacy 互联网药品交易服务资格证书 (国A / 省B / 省C), abolished in 2017; kept for look-ups."""

    __tablename__ = "registry_trading_cert"
    holder: Mapped[str] = mapped_column(String(200))
    cert_class: Mapped[str] = mapped_column(String(1))  # A | B | C
    domains: Mapped[list[Any]] = mapped_column(default=list)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class DrugApproval(RegistryRow, Base):
    """A drug approval number (国药准字…, 进口药品注册证 H…, 医药产品注册证 HC…) and its product."""

    __tablename__ = "registry_drug_approval"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    rx_otc: Mapped[str] = mapped_column(String(8), default="")  # rx | otc | "" (unknown)
    dosage_form: Mapped[str] = mapped_column(String(50), default="")
    valid_to: Mapped[date | None] = mapped_column(Date)


class HealthFoodRegistration(RegistryRow, Base):
    """A health-food registration or filing (国食健注, 食健备, 国食健字, 卫食健字) and its product."""

    __tablename__ = "registry_health_food"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    functions: Mapped[str] = mapped_column(Text, default="")  # the approved health functions
    valid_to: Mapped[date | None] = mapped_column(Date)


class DeviceRegistration(RegistryRow, Base):
    """A medical-device registration (械注准/进/许) or class I filing (械备) and its product."""

    __tablename__ = "registry_device"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    device_class: Mapped[str] = mapped_column(String(4), default="")  # 1 | 2 | 3
    valid_to: Mapped[date | None] = mapped_column(Date)


class AdApproval(RegistryRow, Base):
    """An advertisement approval number (药/械/食健/特医食 广审) and the product it was granted for."""

    __tablename__ = "registry_ad_approval"
    product_name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(8), default="")  # 药 | 械 | 食健 | 特医食
    media: Mapped[str] = mapped_column(String(4), default="")  # 视 | 声 | 文
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


ROLES = ("monitor", "supervisor", "admin")  # each role can do what the ones before it can (web.auth)


class UserAccount(Base):
    """A person who signs in to the web UI: name, role, argon2 password hash; disabled, never deleted
    (the audit log names them)."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (CheckConstraint("role IN ('monitor', 'supervisor', 'admin')", name="user_account_role"),)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the row only its SHA-256, so a copy of the
    database signs nobody in. Logging out, expiry or disabling the user ends it (`revoked_at`)."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user: Mapped[UserAccount] = relationship()


class ApiToken(Base):
    """A named API token of a user (`Authorization: Bearer`), stored as its SHA-256; shown once, revocable."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user: Mapped[UserAccount] = relationship()
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_token_user_name"),)


class LoginAttempt(Base):
    """One sign-in attempt, kept to throttle guessing (failures per name and per address in a window)."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
