"""What follows every crawl of pages (a scan, a tip checked now), in one transaction: the tips whose URL the
run captured are marked scanned, a case is opened for each flagged site, the pages' operator identifiers are
indexed and the operator networks of the sites it captured are brought up to date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from cases.networks import NetworkChange, build_networks, captured_sites, index_captures
from cases.opening import open_cases_for_scan
from cases.tips import mark_tips_scanned
from storage.models import Case


@dataclass
class Settled:
    tips_scanned: list[int]
    cases: list[Case]
    networks: NetworkChange


def settle_run(session: Session, run_id: int, tip_ids: Iterable[int], *, blob_dir: Path,
               actor: str = "crawler") -> Settled:
    scanned = mark_tips_scanned(session, run_id, tip_ids, actor=actor)
    cases = open_cases_for_scan(session, run_id)
    index_captures(session, blob_dir, scan_run_id=run_id)
    networks = build_networks(session, site_ids=captured_sites(session, run_id))
    return Settled(scanned, cases, networks)
