"""The web tests' stored world: users of each role, a scan of today with flagged sites and their cases,
one of them hostile (its title, excerpt and page try to run script), built as a scan would write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from cases.networks import build_networks
from cases.opening import open_cases_for_scan
from storage import db, models
from storage.blobs import BlobStore
from storage.models import Capture, Case, Finding, SearchQueryRun, SerpObservation, Site, SiteIdentifier, utcnow
from storage.scans import start_scan_run
from tests.databases import database_url
from web import auth

PASSWORD = "correct horse battery"
USERS = {"mona": "monitor", "sam": "supervisor", "ada": "admin"}
HOSTILE = ["<script>alert(1)</script>", '" onerror=alert(1) x="', "{{7*7}}"]
HOSTILE_TEXT = "".join(HOSTILE)
HOSTILE_PAGE = (b"<!doctype html><html><head><title>evil</title><script>alert('page')</script></head>"
                b"<body onload=\"alert('onload')\"><img src=x onerror=\"alert('img')\">"
                b"<p>\xe4\xb8\x89\xe4\xb8\xaa\xe7\x96\x97\xe7\xa8\x8b\xe6\xa0\xb9\xe6\xb2\xbb\xe7\xb3\x96\xe5\xb0\xbf\xe7\x97\x85</p>"
                b"<img src=\"http://tracker.test/pixel.png\"></body></html>")
# A 1x1 PNG.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass
class World:
    sessions: sessionmaker[Session]
    blob_dir: Path
    case_id: int  # the plain case: tangan-cure.test
    hostile_case_id: int  # evil.test: hostile title, excerpt and page
    capture_id: int  # evil.test's capture, with screenshot and body
    day: date  # the local day (Asia/Shanghai) the findings were made: the daily list to ask for
    network_id: int = 0  # tangan-cure.test and evil.test: one QR code whose target is hostile text
    referral_id: int = 0  # a draft referral of evil.test's case (its letter carries the hostile text)


def build(home: Path) -> World:
    url = database_url(home)
    home.mkdir(parents=True, exist_ok=True)
    db.upgrade(url)
    sessions = db.session_factory(db.make_engine(url))
    blobs = BlobStore(home / "blobs")
    with db.transaction(sessions) as session:
        for name, role in USERS.items():
            auth.add_user(session, name, role, PASSWORD, actor="test")
        run = start_scan_run(session, "web")
        _flag(session, run.id, blobs, "tangan-cure.test", "三个疗程根治糖尿病，无需处方", [(4, 9)],
              title="宣称治愈糖尿病", severity="high")
        evil_capture = _flag(session, run.id, blobs, "evil.test", f"根治糖尿病{HOSTILE_TEXT}", [(0, 5)],
                             title=f"标题{HOSTILE_TEXT}", severity="critical", body=HOSTILE_PAGE, png=PNG)
        serp = SearchQueryRun(scan_run_id=run.id, engine="demo", query="根治糖尿病", page=1,
                              url="http://search.test/?q=x", status="ok")
        session.add(serp)
        session.flush()
        session.add(SerpObservation(query_run_id=serp.id, scan_run_id=run.id, engine="demo", query="根治糖尿病",
                                    page=1, rank=1, is_ad=True, url="http://evil.test/", displayed_url="evil.test",
                                    site_id=evil_capture.site_id, title="ad", snippet="", advertiser="某公司"))
        session.flush()
        open_cases_for_scan(session, run.id)
        for site_id in {c.site_id for c in session.query(Capture)}:
            session.add(SiteIdentifier(site_id=site_id, kind="qr", value=f"javascript:{HOSTILE_TEXT}"))
        session.flush()
        [network_id] = build_networks(session).created
        case_ids = {c.site.domain: c.id for c in session.query(Case)}
        # Stored as a draft directly (the case stays open for the other tests; referring needs a confirmed one).
        referral = models.Referral(case_id=case_ids["evil.test"], authority="police", why="illegal additives",
                            created_by="sam")
        session.add(referral)
        session.flush()
        referral_id = referral.id
        made = session.query(Finding).first().created_at  # type: ignore[union-attr]
    day = made.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    return World(sessions, home / "blobs", case_ids["tangan-cure.test"], case_ids["evil.test"], evil_capture.id, day,
                 network_id, referral_id)


def _flag(session: Session, run_id: int, blobs: BlobStore, domain: str, text: str, spans: list[tuple[int, int]], *,
          title: str, severity: str, body: bytes | None = None, png: bytes | None = None) -> Capture:
    site = Site(domain=domain, first_seen=utcnow())
    session.add(site)
    session.flush()
    capture = Capture(scan_run_id=run_id, site_id=site.id, url=f"http://{domain}/", status_code=200,
                      title=title, text_sha256=blobs.put(text.encode(), ".txt"),
                      body_sha256=blobs.put(body, ".html") if body else None,
                      screenshot_sha256=blobs.put(png, ".png") if png else None)
    session.add(capture)
    session.flush()
    session.add(Finding(capture_id=capture.id, site_id=site.id, scan_run_id=run_id, rule_id=f"pw-{domain}",
                        rule_version=1, rule_sha256="0" * 64, title=title, category="disease_cure_claim",
                        severity=severity, legal_basis=["广告法 第十七条"], spans=[list(s) for s in spans],
                        excerpt=text))
    session.flush()
    return capture


def cheap_hasher() -> PasswordHasher:
    """Argon2 at its cheapest: the tests sign in many times; the algorithm is the same."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
