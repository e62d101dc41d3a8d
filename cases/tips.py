"""Tips: suspicious URLs that monitors or the public report (hotline, e-mail, a link pasted from chat).

Owns what a tip URL means (`normalise_url`: pasted text → one canonical http(s) URL, or `TipURLError`
saying why not), adding one tip, importing a tip CSV (every bad value named by file:line and field;
all-or-nothing unless `skip_bad`), listing tips, and the two calls a scan makes: `pending_tips` (crawl
targets) and `mark_tips_scanned` (after the crawl). A tip is unique per (url, source, submitted_day), so
entering or importing the same report again finds the existing tip instead of adding one.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import timezone as fixed_offset
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import idna
from sqlalchemy import select
from sqlalchemy.orm import Session
from w3lib.url import canonicalize_url, safe_url_string

from crawler.addresses import AddressPolicy
from crawler.domains import site_of
from storage.audit import record_event
from storage.csv_import import CsvImportError, RejectedRow, RowRejected, header_key, read_rows, settle
from storage.models import Capture, Site, Tip, utcnow

MAX_URL_LENGTH: Final = 2048
TIP_STATUSES: Final = ("pending", "scanned")
#: CSV columns: `url` is required; the others are optional (source falls back to the import's default).
COLUMNS: Final = ("url", "source", "reporter", "note", "submitted_at")
#: Header names monitors' spreadsheets use for the same columns.
COLUMN_ALIASES: Final = {
    "网址": "url", "链接": "url", "link": "url", "来源": "source", "举报人": "reporter", "备注": "note",
    "举报时间": "submitted_at", "提交时间": "submitted_at",
}  # fmt: skip
#: Columns of a rejects file (`--skip-bad`) that a later import ignores, so a fixed rejects file imports as is.
REJECTS_PREFIX: Final = "rejected_"
_LIMITS: Final = {"source": 100, "reporter": 200, "note": 4000}

_INVISIBLE: Final = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_WRAPPERS: Final = ("<>", '""', "''", "“”", "‘’", "「」", "『』", "《》", "()", "[]", "【】", "〈〉")
_SCHEME_RE: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOST_PORT_RE: Final = re.compile(r"\d+(?:[/?#]|$)")
_LEGACY_IPV4_RE: Final = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")
_LABEL_RE: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_WHEN_RE: Final = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*(?:[:：]|分)\s*(\d{1,2})(?:\.\d{1,6})?\s*秒?|\s*分)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


class TipURLError(ValueError):
    """Text that is not a URL a tip can point at; the message says why (without naming the field)."""


class TipError(CsvImportError):
    """A tip or tip file refused as a whole: unreadable file, wrong columns, bad rows (each with file:line)."""


# ---------------------------------------------------------------------------------------------------
# What a pasted URL means


def normalise_url(text: str, allow_private: Sequence[str] = ()) -> str:
    """The canonical http(s) URL `text` stands for, or `TipURLError` with the reason.

    Accepts what monitors paste: surrounding whitespace and quotes, full-width characters (NFKC), no
    scheme (`example.com/shop` → `http://example.com/shop`), IDN hosts (punycoded), non-ASCII paths
    (percent-encoded). Lower-cases scheme and host, drops the default port and the fragment, gives an
    empty path `/`. Refuses other schemes, hosts that are not domain names or IP addresses, private,
    loopback and reserved addresses (as the crawler's address guard does) unless in `allow_private`,
    inner spaces and control characters, and URLs over 2048 characters.
    """
    if not isinstance(text, str):
        raise TipURLError(f"not text: {type(text).__name__}")
    if len(text) > 4 * MAX_URL_LENGTH:
        raise TipURLError(f"longer than {MAX_URL_LENGTH} characters ({len(text)})")
    value = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()
    value = _unwrap(value).rstrip("。、")
    if not value:
        raise TipURLError("empty")
    if len(value) > MAX_URL_LENGTH:
        raise TipURLError(f"longer than {MAX_URL_LENGTH} characters ({len(value)})")
    if any(c.isspace() for c in value):
        raise TipURLError("contains spaces: give the address alone, without other text")
    bad = next((c for c in value if unicodedata.category(c).startswith("C")), None)
    if bad is not None:
        raise TipURLError(f"contains the control or unassigned character U+{ord(bad):04X}")
    value = _with_scheme(value)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise TipURLError(f"cannot be read as a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TipURLError(f"scheme {scheme!r} is refused: only http and https")
    host = _host(parts.hostname or "")
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc = f"{netloc}:{port}"
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    try:
        url = safe_url_string(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")))
    except (ValueError, UnicodeError) as exc:
        raise TipURLError(f"cannot be read as a URL ({exc})") from None
    if len(url) > MAX_URL_LENGTH:
        raise TipURLError(f"longer than {MAX_URL_LENGTH} characters once encoded ({len(url)})")
    if _guard(tuple(allow_private)).refusal(url):
        raise TipURLError(f"host {host} is a private, loopback or reserved address; tips must point at public "
                          "sites (allow networks with [crawl] allow_private)")
    return url


def _unwrap(value: str) -> str:
    for _ in range(3):
        pair = next((p for p in _WRAPPERS if len(value) >= 2 and value[0] == p[0] and value[-1] == p[1]), None)
        if pair is None:
            break
        value = value[1:-1].strip()
    return value


def _with_scheme(value: str) -> str:
    if value.startswith("//"):
        return "http:" + value
    m = _SCHEME_RE.match(value)
    if m is None:
        return "http://" + value
    name, rest = m.group(1), value[m.end():]
    if ("." in name or name.lower() == "localhost") and _HOST_PORT_RE.match(rest):
        return "http://" + value  # example.com:8080/shop is a host and port, not a scheme
    if name.lower() not in ("http", "https"):
        raise TipURLError(f"scheme {name.lower()!r} is refused: only http and https")
    if not rest.startswith("//"):
        raise TipURLError(f"no host: expected {name.lower()}://host/...")
    return value


def _host(raw: str) -> str:
    """The host in canonical form: an IP address as written by `ipaddress`, else a lower-case ASCII name."""
    host = raw.replace("。", ".").rstrip(".")
    if not host:
        raise TipURLError("no host")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if _LEGACY_IPV4_RE.fullmatch(host):  # 2130706433, 0x7f.1: resolvers read these as IPv4 addresses
        try:
            return str(ipaddress.IPv4Address(socket.inet_aton(host)))
        except OSError:
            raise TipURLError(f"host {host!r} is not a valid IPv4 address") from None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise TipURLError(f"host {raw!r} is not a valid domain name ({exc})") from None
    labels = host.split(".")
    if host == "localhost" or labels[-1] == "localhost":
        return host
    if len(labels) < 2:
        raise TipURLError(f"host {host!r} has no domain (expected a name like example.com)")
    if len(host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise TipURLError(f"host {raw!r} is not a valid domain name")
    return host


@lru_cache(maxsize=32)
def _guard(allow: tuple[str, ...]) -> AddressPolicy:
    # The crawler's own policy, judging literal addresses and localhost only: a tip is refused exactly
    # when the crawl would refuse it (names are resolved at crawl time, not when the tip is entered).
    return AddressPolicy(allow, resolve_names=False)


# ---------------------------------------------------------------------------------------------------
# Storing tips


@dataclass
class TipRecord:
    """A tip as listed (`tip list`): JSON-ready, times in ISO 8601 UTC."""

    id: int
    url: str
    site: str
    source: str
    reporter: str | None
    note: str | None
    submitted_at: str
    submitted_by: str
    status: str
    scan_run_id: int | None
    outcome: str | None = None  # what the scan found at the URL: "HTTP 200, risk high", "failed: HTTP 404", ...

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _record(tip: Tip, outcome: str | None = None) -> TipRecord:
    return TipRecord(id=tip.id, url=tip.url, site=tip.site.domain, source=tip.source, reporter=tip.reporter,
                     note=tip.note, submitted_at=tip.submitted_at.replace(tzinfo=UTC).isoformat(timespec="seconds"),
                     submitted_by=tip.submitted_by, status=tip.status, scan_run_id=tip.scan_run_id, outcome=outcome)


def tip_outcome(session: Session, tip: Tip) -> str | None:
    """What the scan that crawled the tip found at its URL (its first capture there), in one phrase:
    a monitor must see "failed: HTTP 404" or "failed: DNS lookup failed", not just "scanned"."""
    if tip.scan_run_id is None:
        return None
    wanted = canonicalize_url(tip.url)
    captures = session.scalars(select(Capture).where(Capture.scan_run_id == tip.scan_run_id,
                                                     Capture.site_id == tip.site_id).order_by(Capture.id))
    capture = next((c for c in captures if canonicalize_url(c.url) == wanted), None)
    if capture is None:
        return "not captured by its scan"
    if capture.error:
        return f"failed: {capture.error}"
    return f"HTTP {capture.status_code}, risk {capture.risk}"


def _local_day(moment: datetime, timezone: str) -> date:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).date()


def _check_submitter(submitted_by: str) -> str:
    name = " ".join(submitted_by.split())
    if not name or len(name) > 100:
        raise TipError(f"who submits (--by) must be a name of 1 to 100 characters, not {submitted_by!r}")
    return name


def _existing(session: Session, url: str, source: str, day: date) -> Tip | None:
    return session.scalar(select(Tip).where(Tip.url == url, Tip.source == source, Tip.submitted_day == day))


def _store(session: Session, values: dict[str, Any], *, submitted_by: str, timezone: str,
           origin: str) -> tuple[Tip, bool]:
    submitted_at = values.get("submitted_at") or utcnow()
    day = _local_day(submitted_at, timezone)
    tip = _existing(session, values["url"], values["source"], day)
    if tip is not None:
        return tip, False
    tip = Tip(url=values["url"], site_id=Site.named(session, site_of(values["url"])).id, source=values["source"],
              reporter=values.get("reporter"), note=values.get("note"), submitted_at=submitted_at,
              submitted_day=day, submitted_by=submitted_by, status="pending")
    session.add(tip)
    session.flush()
    # Reporter and note stay in the tip row only (a complainant's identity is personal data).
    record_event(session, actor=submitted_by, action="tip_submitted", subject=f"tip:{tip.id}", details={
        "url": tip.url, "site": site_of(tip.url), "source": tip.source,
        "submitted_at": submitted_at.isoformat(), "from": origin,
    })
    return tip, True


def add_tip(session: Session, url: str, *, source: str, submitted_by: str, reporter: str | None = None,
            note: str | None = None, allow_private: Sequence[str] = (), timezone: str = "Asia/Shanghai",
            ) -> tuple[TipRecord, bool]:
    """Record one tip (flushed, not committed); returns it and whether it is new.

    `TipError` names the bad field. The same URL from the same source on the same local day (in
    `timezone`) is the tip already recorded, returned with `False`.
    """
    submitted_by = _check_submitter(submitted_by)
    cells = {"url": url, "source": source, "reporter": reporter or "", "note": note or ""}
    values, problems = _validate(cells, default_source=source, allow_private=allow_private, timezone=timezone)
    if problems:
        raise TipError("; ".join(f"{column}: {reason}" for column, reason in problems))
    tip, created = _store(session, values, submitted_by=submitted_by, timezone=timezone,
                          origin="pharmwatch tip add")
    return _record(tip), created


# ---------------------------------------------------------------------------------------------------
# Importing a tip file


@dataclass
class TipImportReport:
    """What `import_tips` did. `encoding_note` is set when the file was not UTF-8 (GBK, UTF-16, ...)."""

    path: Path
    encoding: str
    encoding_note: str | None = None
    rows: int = 0
    new: list[int] = field(default_factory=list)  # ids of the tips added
    known: int = 0  # rows that are tips already recorded
    repeated: int = 0  # rows repeating an earlier row of the same file
    rejected: list[RejectedRow] = field(default_factory=list)
    rejects_path: Path | None = None

    def summary(self) -> str:
        text = (f"{self.path}: {self.rows} rows, {len(self.new)} new tips, {self.known} already recorded, "
                f"{self.repeated} repeated in the file, {len(self.rejected)} rejected")
        if self.rejects_path and self.rejected:
            text += f" (written to {self.rejects_path})"
        if self.encoding_note:
            text += f"; {self.encoding_note}"
        return text


def _check_header(header: list[str], path: Path) -> list[str]:
    """Canonical column names of `header`: aliases resolved, rejects-file columns and unnamed columns kept
    (their cells are ignored; an unnamed column must stay empty, which `import_tips` checks per row)."""
    keys = [COLUMN_ALIASES.get(header_key(h), header_key(h)) for h in header]
    problems = []
    for name, key in zip(header, keys, strict=True):
        if not key or key in COLUMNS or key.startswith(REJECTS_PREFIX):
            continue
        guess = difflib.get_close_matches(key, [*COLUMNS, *COLUMN_ALIASES], n=1, cutoff=0.6)
        hint = f" (did you mean {COLUMN_ALIASES.get(guess[0], guess[0])!r}?)" if guess else ""
        problems.append(f"unknown column {name.strip()!r}{hint}")
    if "url" not in keys:
        problems.append("missing the required column 'url'")
    duplicated = sorted({k for k in keys if k in COLUMNS and keys.count(k) > 1})
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    if problems:
        raise TipError(f"{path}:1: {'; '.join(problems)}. Columns: url (required), "
                       f"{', '.join(COLUMNS[1:])} (optional)")
    return keys


def _text(cells: dict[str, str], column: str, problems: list[tuple[str, str]]) -> str | None:
    value = " ".join(cells.get(column, "").split())
    if len(value) > _LIMITS[column]:
        problems.append((column, f"longer than {_LIMITS[column]} characters ({len(value)})"))
    return value or None


def parse_when(value: str, timezone: str) -> datetime:
    """A day or a time as spreadsheets write it → naive UTC. Local (`timezone`) unless it gives its offset."""
    m = _WHEN_RE.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"bad date {value!r} (use YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    y, mo, d, h, mi, s, offset = m.groups()
    zone: tzinfo = ZoneInfo(timezone)
    if offset == "Z":
        zone = UTC
    elif offset:
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        try:
            zone = fixed_offset(delta if offset[0] == "+" else -delta)
        except ValueError:
            raise ValueError(f"bad date {value!r}: offset {offset} is out of range") from None
    try:
        moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=zone)
        return moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise ValueError(f"bad date {value!r}: not a day and time of the calendar") from None


def _validate(cells: dict[str, str], *, default_source: str, allow_private: Sequence[str], timezone: str,
              ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The tip's values and every (column, reason) that is wrong with them (empty when the row is good)."""
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    raw = cells.get("url", "")
    try:
        values["url"] = normalise_url(raw, allow_private)
    except TipURLError as exc:
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        problems.append(("url", f"{shown!r}: {exc}" if raw.strip() else "empty"))
    values["source"] = _text({"source": cells.get("source", "").strip() or default_source}, "source", problems)
    if not values["source"]:
        problems.append(("source", "empty (give one, e.g. '12315 hotline')"))
    values["reporter"] = _text(cells, "reporter", problems)
    values["note"] = _text(cells, "note", problems)
    when = cells.get("submitted_at", "").strip()
    if when:
        try:
            values["submitted_at"] = parse_when(when, timezone)
        except ValueError as exc:
            problems.append(("submitted_at", str(exc)))
        else:
            if values["submitted_at"] > utcnow() + timedelta(days=1):
                problems.append(("submitted_at", f"{when!r} is in the future"))
    return values, problems


def import_tips(session: Session, path: str | Path, *, submitted_by: str, default_source: str = "tip file",
                skip_bad: bool = False, rejects_path: str | Path | None = None, allow_private: Sequence[str] = (),
                timezone: str = "Asia/Shanghai") -> TipImportReport:
    """Import the tips of the CSV file `path` into `session` (flushed, not committed).

    Every row is validated first; any bad value (reported as file:line: column: reason) refuses the whole
    file with `TipError`, unless `skip_bad`: then the good rows are imported and the bad ones written to
    `rejects_path` (default `<file>.rejects.csv`; its extra columns are ignored when it is imported again).
    Rows that are tips already recorded (same url, source and local day) and rows repeating an earlier
    row are counted, not added: importing a file twice adds nothing. Encodings: as registry imports
    (UTF-8 with or without BOM, GBK/GB18030, UTF-16 with BOM). `default_source` fills an empty source.
    """
    path, submitted_by = Path(path), _check_submitter(submitted_by)

    def validate(line: int, keys: list[str], row: list[str]) -> dict[str, Any]:
        cells = {k: v for k, v in zip(keys, row, strict=False) if k in COLUMNS}
        stray = [i + 1 for i, cell in enumerate(row) if cell.strip() and (i >= len(keys) or not keys[i])]
        if stray:
            raise RowRejected([("row", f"a value in column {stray[0]}, which the header does not name")], cells)
        values, problems = _validate(cells, default_source=default_source, allow_private=allow_private,
                                     timezone=timezone)
        if problems:
            raise RowRejected(problems, cells)
        return values

    read = read_rows(path, header=lambda header: _check_header(header, path), validate=validate,
                     empty="expected a header row with at least: url", error=TipError, whole_row="row")
    # The rejects file keeps the tip columns the file had, in its order, after `rejected_line`, `rejected_reason`.
    settle(read, skip_bad=skip_bad, rejects_path=rejects_path, columns=[k for k in dict.fromkeys(read.keys)
           if k in COLUMNS], prefix=REJECTS_PREFIX, error=TipError)
    report = TipImportReport(path=path, encoding=read.encoding, encoding_note=read.encoding_note,
                             rows=read.rows + read.unparsable, rejected=read.rejected, rejects_path=read.rejects_path)
    seen: set[int] = set()
    for row_line, values in read.accepted:
        tip, created = _store(session, values, submitted_by=submitted_by, timezone=timezone,
                              origin=f"{path.name}:{row_line}")
        if created:
            report.new.append(tip.id)
        elif tip.id in seen:
            report.repeated += 1
        else:
            report.known += 1
        seen.add(tip.id)
    record_event(session, actor=submitted_by, action="tips_imported", subject=f"file:{path.name}"[:100], details={
        "path": str(path), "sha256": hashlib.sha256(read.data).hexdigest(), "rows": report.rows, "new": report.new,
        "known": report.known, "repeated": report.repeated, "rejected": [r.line for r in report.rejected],
    })
    return report


# ---------------------------------------------------------------------------------------------------
# Listing, and what a scan asks


def list_tips(session: Session, *, status: str | None = None) -> list[TipRecord]:
    """Tips, oldest first; only those with `status` (pending | scanned) when given."""
    query = select(Tip).order_by(Tip.id)
    if status is not None:
        if status not in TIP_STATUSES:
            raise TipError(f"unknown tip status {status!r}; expected one of {', '.join(TIP_STATUSES)}")
        query = query.where(Tip.status == status)
    return [_record(tip, tip_outcome(session, tip)) for tip in session.scalars(query)]


def pending_tips(session: Session) -> list[tuple[int, str]]:
    """(id, url) of every tip no scan has crawled yet, oldest first: a scan adds the URLs to its targets."""
    return [(tip_id, url) for tip_id, url in
            session.execute(select(Tip.id, Tip.url).where(Tip.status == "pending").order_by(Tip.id))]


def mark_tips_scanned(session: Session, scan_run_id: int, tip_ids: Iterable[int], *,
                      actor: str = "crawler") -> list[int]:
    """Mark `scanned` (with the run) those of `tip_ids` whose URL the run captured (a page or a failure with
    its reason); returns their ids. A tip the run did not reach (the site's page budget ran out, the scan
    stopped) stays pending for the next scan."""
    tips = session.scalars(select(Tip).where(Tip.id.in_(list(tip_ids)), Tip.status == "pending")
                           .order_by(Tip.id)).all()
    if not tips:
        return []
    captured: dict[str, int] = {}
    rows = session.execute(select(Capture.id, Capture.url).where(
        Capture.scan_run_id == scan_run_id, Capture.site_id.in_({tip.site_id for tip in tips})).order_by(Capture.id))
    for capture_id, url in rows:
        captured.setdefault(canonicalize_url(url), capture_id)
    marked = []
    for tip in tips:
        capture_id = captured.get(canonicalize_url(tip.url))
        if capture_id is None:
            continue
        tip.status, tip.scan_run_id = "scanned", scan_run_id
        record_event(session, actor=actor, action="tip_scanned", subject=f"tip:{tip.id}",
                     details={"scan_run_id": scan_run_id, "capture_id": capture_id})
        marked.append(tip.id)
    session.flush()
    return marked

