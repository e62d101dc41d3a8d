"""A re-check crawls the proving page again through the crawl entry point, and tells the four outcomes
apart on a demo site that is corrected, closes, or moves to a new domain; a due order is decided by one."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from cases.casebook import case_detail
from cases.lifecycle import CaseError
from cases.recheck import recheck_case
from pharmwatch.config import Settings
from rules import load_ruleset
from tests.cases.builders import scan_with, the_case
from tests.conftest import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class ShopCase:
    """A data folder whose scan flagged recheck-shop.test; `serve` switches what the shop serves."""

    case_id: str
    pharmwatch: Callable[..., CompletedProcess[str]]
    serve: Callable[[str], None]


@pytest.fixture
def shop_case(demo_web: str, tmp_path: Path) -> ShopCase:
    control = urllib.request.build_opener(urllib.request.ProxyHandler({"http": demo_web}))

    def serve(state: str) -> None:
        control.open(f"http://control.test/state?host=recheck-shop.test&set={state}").read()

    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_depth = 0\n',
                      encoding="utf-8")

    def pharmwatch(*args: str) -> CompletedProcess[str]:
        return run_cli(*args, home=tmp_path / "home", proxy=demo_web, config=config)

    serve("violating")
    scanned = pharmwatch("scan", "--no-search", "--site", "http://recheck-shop.test/")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    (case,) = json.loads(pharmwatch("case", "list", "--format", "json").stdout)
    return ShopCase(str(case["id"]), pharmwatch, serve)


def test_a_recheck_says_whether_the_violation_is_gone_present_closed_or_moved(shop_case: ShopCase) -> None:
    outcomes = {}
    for state in ("violating", "corrected", "closed", "moved"):
        shop_case.serve(state)
        checked = shop_case.pharmwatch("case", "recheck", shop_case.case_id, "--format", "json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        outcomes[state] = json.loads(checked.stdout)
    assert {state: result["outcome"] for state, result in outcomes.items()} == {
        "violating": "still_present", "corrected": "violation_gone", "closed": "unreachable", "moved": "moved"}
    assert "pw-zh-diabetes-cure" in outcomes["violating"]["pages"][0]["detail"]
    assert "HTTP 410" in outcomes["closed"]["pages"][0]["detail"]
    assert "recheck-shop-new.test" in outcomes["moved"]["pages"][0]["detail"]
    shown = json.loads(shop_case.pharmwatch("case", "show", shop_case.case_id, "--format", "json").stdout)
    assert [d["action"] for d in shown["decisions"]] == ["recheck"] * 4
    assert shown["case"]["status"] == "open"  # a re-check informs; people decide


def test_an_order_past_its_deadline_is_decided_by_a_recheck(shop_case: ShopCase) -> None:
    pharmwatch, case_id = shop_case.pharmwatch, shop_case.case_id
    pharmwatch("case", "review", case_id)
    pharmwatch("case", "confirm", case_id)
    past = pharmwatch("order", "create", "--case", case_id, "--kind", "correct", "--deadline", "2020-01-01")
    assert past.returncode == 2 and "is not after today" in past.stderr
    created = pharmwatch("order", "create", "--case", case_id, "--kind", "suspend_sales", "--product", "降糖神丸",
                         "--deadline", "2099-01-01")
    assert created.returncode == 0, created.stderr
    refused = pharmwatch("case", "close", case_id, "--reason", "done")
    assert refused.returncode == 2 and "order 1 (due 2099-01-01)" in refused.stderr

    assert "0 due order(s)" in pharmwatch("order", "check-due").stdout  # not due yet
    shop_case.serve("corrected")
    checked = pharmwatch("order", "check-due", "--today", "2099-01-02")
    assert checked.returncode == 0 and "order 1: complied (case" in checked.stdout, checked.stdout + checked.stderr
    (order,) = json.loads(pharmwatch("order", "list", "--format", "json").stdout)
    assert order["status"] == "complied" and "violation_gone" in order["resolution"]
    assert pharmwatch("case", "close", case_id, "--reason", "已整改").returncode == 0


def test_a_recheck_whose_crawl_fails_records_nothing(sessions, home) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = the_case(sessions).id
    settings = Settings(home=home)
    broken = {**settings.crawl_overrides(), "RULES_PATHS": [str(home / "no-such-pack")]}  # the child cannot start
    with pytest.raises(CaseError, match="did not finish.*nothing recorded"):
        recheck_case(sessions, case_id, broken, actor="x", ruleset=load_ruleset())
    with sessions() as session:
        assert case_detail(session, case_id).decisions == []  # "unreachable" would have blamed the site
