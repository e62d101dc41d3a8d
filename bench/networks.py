"""What operator networks cost at a province's scale: a scan's network update against 100,000 flagged sites
and 1,000,000 indexed identifiers, beside the bare SQL it cannot avoid, measured in one run.

A synthetic index in SQLite (the embedded default): every site flagged, ten identifiers each — most seen
on one site only, a quarter shared inside small operator groups (2–6 sites), a few on hundreds of sites (a
platform's id, a shared host), which must link nothing. Then:
- **incremental** (what each scan does): `build_networks(site_ids=…)` for the sites of one scan (1% of
  them), beside the bare query of those sites' identifiers and every flagged site sharing one;
- **full rebuild** (`pharmwatch network build`): `build_networks()` over everything, beside reading the
  whole index once.
Peak memory (max RSS) is printed at the end. Figures are seconds, best of `--rounds`.

Run: `.venv/bin/python bench/networks.py [--sites 100000] [--per-site 10] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from cases.networks import build_networks  # noqa: E402
from storage import db  # noqa: E402
from storage.models import Capture, Finding, ScanRun, Site, SiteIdentifier, utcnow  # noqa: E402


def populate(sessions, sites: int, per_site: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    now = utcnow()
    with db.transaction(sessions) as session:
        session.add(ScanRun(id=1, status="finished"))
        session.flush()
        session.execute(insert(Site), [{"id": i, "domain": f"site{i}.test", "first_seen": now}
                                       for i in range(1, sites + 1)])
        session.execute(insert(Capture), [{"id": i, "scan_run_id": 1, "site_id": i, "url": f"http://site{i}.test/",
                                           "fetched_at": now, "signals": {}} for i in range(1, sites + 1)])
        session.execute(insert(Finding), [
            {"capture_id": i, "site_id": i, "scan_run_id": 1, "rule_id": "pw-cure", "rule_version": 1,
             "rule_sha256": "0" * 64, "title": "t", "category": "disease_cure_claim", "severity": "high",
             "excerpt": "根治糖尿病",
             "legal_basis": [], "spans": [], "created_at": now} for i in range(1, sites + 1)])
        rows: list[dict] = []  # type: ignore[type-arg]
        groups = [rng.sample(range(1, sites + 1), rng.randint(2, 6)) for _ in range(sites * per_site // 16)]
        popular = [rng.sample(range(1, sites + 1), rng.randint(100, 500)) for _ in range(sites // 2000)]
        for n, members in enumerate(groups):
            kind = rng.choice(["wechat", "phone", "baidu_tongji", "ip"])
            value = f"47.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" if kind == "ip" else f"g{n}"
            rows += [{"site_id": s, "kind": kind, "value": value, "first_seen": now, "last_seen": now}
                     for s in members]
        for n, members in enumerate(popular):
            rows += [{"site_id": s, "kind": "google_tag", "value": f"p{n}", "first_seen": now, "last_seen": now}
                     for s in members]
        unique = sites * per_site - len(rows)
        rows += [{"site_id": rng.randint(1, sites), "kind": "email", "value": f"u{n}@x.test", "first_seen": now,
                  "last_seen": now} for n in range(max(unique, 0))]
        seen: set[tuple[int, str, str]] = set()
        deduped = []
        for row in rows:
            key = (row["site_id"], row["kind"], row["value"])
            if key not in seen:
                seen.add(key)
                deduped.append(row)
        for start in range(0, len(deduped), 50_000):
            session.execute(insert(SiteIdentifier), deduped[start:start + 50_000])
    print(f"index: {sites:,} flagged sites, {len(deduped):,} identifiers "
          f"({len(groups):,} operator groups, {len(popular):,} popular ids)")


def best(rounds: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--per-site", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        db.upgrade(url)
        sessions = db.session_factory(db.make_engine(url))
        start = time.perf_counter()
        populate(sessions, args.sites, args.per_site)
        print(f"(built in {time.perf_counter() - start:.0f} s)")
        touched = random.Random(1).sample(range(1, args.sites + 1), max(args.sites // 100, 1))

        def bare_incremental() -> None:
            other = aliased(SiteIdentifier)
            with sessions() as session:
                same = (other.kind == SiteIdentifier.kind) & (other.value == SiteIdentifier.value)
                session.execute(select(SiteIdentifier.kind, SiteIdentifier.value, SiteIdentifier.site_id)
                                .join(other, same).where(other.site_id.in_(touched))).all()

        def incremental() -> None:
            with sessions() as session:
                build_networks(session, site_ids=touched)
                session.rollback()

        def bare_full() -> None:
            with sessions() as session:
                session.execute(select(SiteIdentifier.kind, SiteIdentifier.value, SiteIdentifier.site_id)).all()

        def full() -> None:
            with sessions() as session:
                build_networks(session)
                session.rollback()

        rows = [("one scan's update", f"{len(touched):,} sites", bare_incremental, incremental),
                ("full rebuild", f"{args.sites:,} sites", bare_full, full)]
        print(f"{'':<20} {'scope':>16} {'bare SQL s':>11} {'networks s':>11} {'ratio':>7}")
        for name, scope, bare, ours in rows:
            base, mine = best(args.rounds, bare), best(args.rounds, ours)
            print(f"{name:<20} {scope:>16} {base:>11.2f} {mine:>11.2f} {mine / base:>6.1f}x")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
