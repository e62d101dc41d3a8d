"""The site crawl through the demo web: budgets, domain bounds, and failures recorded, never fatal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import make_engine, session_factory
from storage.models import Capture, ScanRun
from tests.conftest import ROOT, run_cli
from tests.databases import database_url


@pytest.mark.slow
def test_scrapy_list_shows_the_spiders() -> None:
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["search", "site"]


@pytest.mark.browser
@pytest.mark.slow
def test_a_site_crawl_keeps_its_budget_and_records_every_failure_with_its_reason(
        demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text(
        'watchlist = ["http://kangjian-pharmacy.test/", "http://kangjian-pharmacy.test/no-such-page",\n'
        '             "http://10.0.0.1/admin", "http://unknown-host.test/"]\n'
        "[crawl]\nallow_private = [\"127.0.0.0/8\"]\nmax_pages_per_site = 3\nrender_first_page = false\n",
        encoding="utf-8",
    )
    result = run_cli("scan", home=tmp_path / "home", proxy=demo_web, config=config)
    # Three of the five pages fail by design: the scan finishes, and says it captured too little (exit 5).
    assert result.returncode == 5, result.stdout + result.stderr
    assert "captured too little: captured 2 of 5 pages, below [scan] min_captured_share = 0.5" in result.stderr
    assert "not captured: http://10.0.0.1/admin: AddressRefused: refused: 10.0.0.1 is a private" in result.stdout

    with session_factory(make_engine(database_url(tmp_path / "home")))() as session:
        captures = session.scalars(select(Capture)).all()
        run = session.scalars(select(ScanRun)).one()
    by_url = {c.url: c for c in captures}
    kangjian = [c for c in captures if c.url.startswith("http://kangjian-pharmacy.test/")]
    assert len(kangjian) == 3  # the page budget, including the failing page
    assert by_url["http://kangjian-pharmacy.test/no-such-page"].error == "HTTP 404"
    assert by_url["http://unknown-host.test/"].error == "HTTP 404"
    assert by_url["http://10.0.0.1/admin"].error.startswith("AddressRefused")
    assert run.status == "finished" and run.failures == 3 and run.pages == 2
