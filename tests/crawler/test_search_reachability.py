"""Per-engine reachability: an engine's own proxy, its rate limit, and Chromium-rendered result pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from demo.server import DemoWeb
from storage.db import make_engine, session_factory
from storage.models import SearchQueryRun
from tests.conftest import run_cli
from tests.databases import database_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_engine_with_its_own_proxy_and_chromium_is_reached_through_that_proxy(tmp_path: Path) -> None:
    with DemoWeb() as egress, DemoWeb() as engine_proxy:
        config = tmp_path / "pharmwatch.toml"
        config.write_text(
            "[crawl]\nallow_private = [\"127.0.0.0/8\"]\n"
            "[search]\nengines = [\"mock\"]\npages_per_query = 1\nquery_sets = []\n"
            "queries = [\"降糖药\", \"痛风特效药\", \"壮阳药\"]\n"
            f"proxies = {{mock = \"{engine_proxy.url}\"}}\ndelays = {{mock = 0.3}}\nrender = [\"mock\"]\n",
            encoding="utf-8",
        )
        result = run_cli("scan", home=tmp_path / "home", proxy=egress.url, config=config)
        assert result.returncode == 0, result.stdout + result.stderr
        assert engine_proxy.hits("search.test") >= 3
        assert egress.hits("search.test") == 0
        # the result pages' landing sites were crawled through the general egress proxy
        assert engine_proxy.hits("tangan-cure.test") == 0 and egress.hits("tangan-cure.test") > 0
    with session_factory(make_engine(database_url(tmp_path / "home")))() as session:
        statuses = {q.query: q.status for q in session.scalars(select(SearchQueryRun))}
    assert statuses == {"降糖药": "ok", "痛风特效药": "ok", "壮阳药": "ok"}
