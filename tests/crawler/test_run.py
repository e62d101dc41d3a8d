"""`crawler.run.crawl`: one entry point, callable again and again from one process, returning the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.run import CrawlTargets, crawl, scrapy_settings
from pharmwatch.config import Settings
from rules import load_ruleset
from storage.db import make_engine, session_factory, upgrade
from storage.models import Capture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def overrides(demo_web: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    settings = Settings(home=tmp_path)
    settings.crawl.proxy = demo_web
    settings.crawl.allow_private = ["127.0.0.0/8"]
    settings.crawl.render_first_page = False
    settings.crawl.max_pages_per_site = 2
    upgrade(settings.db_url)
    return settings.crawl_overrides()


def test_crawl_runs_twice_in_one_process_and_returns_each_finished_run(overrides: dict) -> None:  # type: ignore[type-arg]
    ruleset = load_ruleset()
    first = crawl(CrawlTargets(urls=["http://tongfeng-ling.test/"]), overrides, ruleset=ruleset)
    second = crawl(CrawlTargets(urls=["http://kangjian-pharmacy.test/"]), overrides, ruleset=ruleset)
    assert first.id != second.id
    assert (first.status, second.status) == ("finished", "finished")
    assert first.pages == 2 and second.pages == 2 and first.flagged_sites == 1 and second.flagged_sites == 0
    assert first.rules_digest == ruleset.digest
    with session_factory(make_engine(overrides["STORE_DATABASE_URL"]))() as session:
        sites = {run: {c.url.split("/")[2] for c in session.scalars(select(Capture).where(Capture.scan_run_id == run))}
                 for run in (first.id, second.id)}
    assert sites == {first.id: {"tongfeng-ling.test"}, second.id: {"kangjian-pharmacy.test"}}


def test_a_crawl_that_fails_returns_its_run_marked_failed_with_the_reason(
        overrides: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    # The caller's packs are fine, the child's are missing: the child fails, the run says why.
    broken = {**overrides, "RULES_PATHS": [str(tmp_path / "no-such-pack")]}
    run = crawl(CrawlTargets(urls=["http://tongfeng-ling.test/"]), broken, ruleset=load_ruleset())
    assert run.status == "failed"
    assert "RulePackError" in (run.error or "") and "no such file or folder" in (run.error or "")


def test_settings_overrides_derive_chromium_and_per_engine_settings(overrides: dict) -> None:  # type: ignore[type-arg]
    settings = scrapy_settings({**overrides, "SERP_DELAYS": {"baidu": 5.0}, "DOWNLOAD_TIMEOUT": 12})
    launch = settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS")
    assert launch["executable_path"] == "/usr/bin/chromium"
    assert launch["proxy"]["server"] == overrides["EGRESS_PROXY"]
    assert settings.getint("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") == 12_000
    assert settings.getdict("DOWNLOAD_SLOTS")["serp-baidu"]["delay"] == 5.0
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 4


def test_the_crawl_child_loads_its_packs_through_the_home_s_automaton_cache(overrides: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    # `pharmwatch` points RULES_CACHE_DIR at <home>/rules-cache; the scan's own load fills it ...
    cache = Path(overrides["RULES_CACHE_DIR"])
    assert cache == tmp_path / "rules-cache"
    ruleset = load_ruleset(cache_dir=cache)
    target = max(cache.glob("*.hsdb"), key=lambda p: p.stat().st_size)
    intact = target.read_bytes()
    # ... and the crawl child reads it: a file damaged in between is compiled again and rewritten by the child
    # (the caller handed its loaded packs over, so only the child loads here).
    target.write_bytes(intact[: len(intact) // 2])
    run = crawl(CrawlTargets(urls=["http://tongfeng-ling.test/"]), overrides, ruleset=ruleset)
    assert (run.status, run.pages, run.flagged_sites) == ("finished", 2, 1)
    assert target.read_bytes() == intact
