"""The blacklist (重点监管名单): sites and the identifiers of the operators behind them.

A supervisor adds an entry (a site's registrable domain, or an operator's phone, WeChat or QQ id,
e-mail, company, person or payment account), with a reason and, usually, the confirmed case it
comes from; entries are lifted with a reason, never deleted. Values are normalised as the
extractors write them (`rules.reference`), so the next scan's reference checks find a listed
operator on a new site (`crawler.registry_lookup.SqlBlacklist`, rule
pw-zh-blacklisted-operator-001). Every change is audited. Another office's list is imported
all-or-nothing with file:line errors (`storage.csv_import`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.lifecycle import CaseError, get_case
from crawler.domains import site_of
from rules.model import FLAGGING_SEVERITIES
from rules.reference.identifiers import extract_identifiers
from storage.audit import record_event
from storage.csv_import import CsvImportError, RejectedRow, RowRejected, header_key, read_rows, settle
from storage.models import BlacklistEntry, Capture, Finding, Site, utcnow

#: phone, wechat, qq and email are found on pages by the extractors, company names and payment accounts by
#: their text (`crawler.registry_lookup.SqlBlacklist.named_in`): the next scan flags a page showing one.
#: Persons are kept for referrals and the office's records only (a short name would flag strangers).
KINDS = ("site", "phone", "wechat", "qq", "email", "company", "person", "payment")
CSV_COLUMNS = ["kind", "value", "reason"]
#: Proving pages re-crawled per blacklisted site (the newest first).
RECHECK_PAGES = 5
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z0-9-]{2,}$")


class BlacklistError(Exception):
    """An entry that cannot be added or lifted as asked; the message says why (and, for a refused import,
    `rejected` holds every bad row with its cells)."""

    def __init__(self, message: str, rejected: Sequence[RejectedRow] = ()) -> None:
        super().__init__(message)
        self.rejected = list(rejected)


@dataclass(frozen=True)
class EntryRecord:
    id: int
    kind: str
    value: str
    reason: str
    case_id: int | None
    rules: list[str]
    added_by: str
    added_at: str
    lifted: bool
    lift_reason: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def normalise_value(kind: str, raw: str) -> str:
    """`raw` as the extractors write it: a site's registrable domain, the phone's digits, a lower-case id."""
    raw = raw.strip()
    if kind not in KINDS:
        raise BlacklistError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if kind == "site":
        host = site_of(raw if "://" in raw else f"http://{raw}")
        if not host or not _DOMAIN.match(host):
            raise BlacklistError(f"{raw!r} is not a domain name")
        return host
    if kind in ("company", "person", "payment"):
        value = " ".join(raw.split())
        if not value or len(value) > 200:
            raise BlacklistError(f"a {kind} entry needs a value of 1 to 200 characters")
        return value
    labelled = {"phone": "电话", "wechat": "微信", "qq": "QQ", "email": "邮箱"}[kind]
    found = [i for i in extract_identifiers(f"{labelled}：{raw}") if i.kind == kind]
    if not found:
        raise BlacklistError(f"{raw!r} is not a {kind} the extractors would recognise")
    return found[0].normalised


def add_entry(session: Session, kind: str, value: str, *, reason: str, actor: str,
              case_id: int | None = None) -> BlacklistEntry:
    reason = " ".join(reason.split())
    if not reason:
        raise BlacklistError("an entry needs a reason (--reason)")
    value = normalise_value(kind, value)
    rules: list[str] = []
    legal: list[str] = []
    if case_id is not None:
        try:
            case = get_case(session, case_id)
        except CaseError as exc:
            raise BlacklistError(str(exc)) from None
        if case.status not in ("confirmed", "closed"):
            raise BlacklistError(f"case {case_id} is {case.status}: only a confirmed case puts entries on the list")
        findings = session.scalars(select(Finding).where(Finding.site_id == case.site_id)).all()
        rules = sorted({f.rule_id for f in findings})
        legal = sorted({basis for f in findings for basis in f.legal_basis})
    active = session.scalar(select(BlacklistEntry).where(BlacklistEntry.kind == kind, BlacklistEntry.value == value,
                                                         BlacklistEntry.lifted_at.is_(None)))
    if active is not None:
        raise BlacklistError(f"{kind} {value} is already on the list (entry {active.id})")
    entry = BlacklistEntry(kind=kind, value=value, reason=reason, case_id=case_id, rules=rules, legal_basis=legal,
                           added_by=actor)
    session.add(entry)
    session.flush()
    record_event(session, actor=actor, action="blacklisted", subject=f"blacklist:{entry.id}",
                 details={"kind": kind, "value": value, "reason": reason, "case_id": case_id})
    return entry


def lift_entry(session: Session, entry_id: int, *, reason: str, actor: str) -> BlacklistEntry:
    entry = session.get(BlacklistEntry, entry_id)
    if entry is None:
        raise BlacklistError(f"no blacklist entry {entry_id}")
    if entry.lifted_at is not None:
        raise BlacklistError(f"entry {entry_id} was lifted already ({entry.lift_reason})")
    reason = " ".join(reason.split())
    if not reason:
        raise BlacklistError("lifting an entry needs a reason (--reason)")
    entry.lifted_at, entry.lifted_by, entry.lift_reason = utcnow(), actor, reason
    record_event(session, actor=actor, action="blacklist_lifted", subject=f"blacklist:{entry.id}",
                 details={"reason": reason})
    session.flush()
    return entry


def list_entries(session: Session, *, include_lifted: bool = False) -> list[EntryRecord]:
    query = select(BlacklistEntry).order_by(BlacklistEntry.id)
    if not include_lifted:
        query = query.where(BlacklistEntry.lifted_at.is_(None))
    return [EntryRecord(e.id, e.kind, e.value, e.reason, e.case_id, list(e.rules), e.added_by,
                        e.added_at.isoformat(timespec="seconds"), e.lifted_at is not None, e.lift_reason)
            for e in session.scalars(query)]


def import_entries(session: Session, path: Path, *, actor: str, source: str) -> int:
    """Another office's list (CSV: kind, value, reason), all or nothing: every bad row is named by
    file:line and nothing is imported. Values already on the list are skipped; returns how many were added."""
    def header(cells: list[str]) -> list[str]:
        keys = [header_key(cell) for cell in cells]
        missing = [c for c in CSV_COLUMNS if c not in keys]
        if missing:
            raise CsvImportError(f"{path}:1: missing column(s) {', '.join(missing)}; expected kind,value,reason")
        return keys

    def validate(_line: int, keys: list[str], row: list[str]) -> tuple[str, str, str]:
        cells = {key: (row[i] if i < len(row) else "") for i, key in enumerate(keys)}
        problems: list[tuple[str, str]] = []
        kind = cells.get("kind", "").strip().lower()
        value = ""
        try:
            value = normalise_value(kind, cells.get("value", ""))
        except BlacklistError as exc:
            problems.append(("value" if kind in KINDS else "kind", str(exc)))
        reason = " ".join(cells.get("reason", "").split())
        if not reason:
            problems.append(("reason", "missing"))
        if problems:
            raise RowRejected(problems, cells)
        return kind, value, reason

    try:
        read = read_rows(path, header=header, validate=validate, empty="expected a header row: kind,value,reason",
                         whole_row="row")
        settle(read, skip_bad=False, rejects_path=None, columns=CSV_COLUMNS, prefix="")
    except CsvImportError as exc:
        raise BlacklistError(str(exc), exc.rejected) from None
    added = 0
    for _line, (kind, value, reason) in read.accepted:
        listed = session.scalar(select(BlacklistEntry.id).where(
            BlacklistEntry.kind == kind, BlacklistEntry.value == value, BlacklistEntry.lifted_at.is_(None)))
        if listed is None:
            add_entry(session, kind, value, reason=f"{reason} (imported from {source})", actor=actor)
            added += 1
    return added


def recheck_urls(session: Session) -> list[str]:
    """Pages that show whether each blacklisted site is still at it (`pharmwatch scan --blacklisted`, the
    daily `blacklist-recheck` job): the pages of its flagging findings, else its last captured page, else
    its front page. A site that comes back under the same domain is found by the rules again."""
    urls: list[str] = []
    sites = session.scalars(select(BlacklistEntry.value).where(BlacklistEntry.kind == "site",
                                                               BlacklistEntry.lifted_at.is_(None))
                            .order_by(BlacklistEntry.id)).all()
    for domain in dict.fromkeys(sites):
        site_id = session.scalar(select(Site.id).where(Site.domain == domain))
        proving = session.scalars(
            select(Capture.url).join(Finding, Finding.capture_id == Capture.id)
            .where(Finding.site_id == site_id, Finding.severity.in_(FLAGGING_SEVERITIES))
            .group_by(Capture.url).order_by(func.max(Capture.id).desc()).limit(RECHECK_PAGES)).all()
        last = session.scalar(select(Capture.url).where(Capture.site_id == site_id)
                              .order_by(Capture.id.desc()).limit(1))
        urls.extend(proving or [last or f"http://{domain}/"])
    return list(dict.fromkeys(urls))
