"""A re-check crawls the proving page again through the crawl entry point, and tells the four outcomes
apart on a demo site that is corrected, closes, or moves to a new domain."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_recheck_says_whether_the_violation_is_gone_present_closed_or_moved(demo_web: str, tmp_path: Path) -> None:
    control = urllib.request.build_opener(urllib.request.ProxyHandler({"http": demo_web}))

    def serve(state: str) -> None:
        control.open(f"http://control.test/state?host=recheck-shop.test&set={state}").read()

    home = tmp_path / "home"
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_depth = 0\n',
                      encoding="utf-8")

    def pharmwatch(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(*args, home=home, proxy=demo_web, config=config)

    serve("violating")
    scanned = pharmwatch("scan", "--no-search", "--site", "http://recheck-shop.test/")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    (case,) = json.loads(pharmwatch("case", "list", "--format", "json").stdout)

    outcomes = {}
    for state in ("violating", "corrected", "closed", "moved"):
        serve(state)
        checked = pharmwatch("case", "recheck", str(case["id"]), "--format", "json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        outcomes[state] = json.loads(checked.stdout)
    assert {state: result["outcome"] for state, result in outcomes.items()} == {
        "violating": "still_present", "corrected": "violation_gone", "closed": "unreachable", "moved": "moved"}
    assert "pw-zh-diabetes-cure" in outcomes["violating"]["pages"][0]["detail"]
    assert "HTTP 410" in outcomes["closed"]["pages"][0]["detail"]
    assert "recheck-shop-new.test" in outcomes["moved"]["pages"][0]["detail"]
    shown = json.loads(pharmwatch("case", "show", str(case["id"]), "--format", "json").stdout)
    assert [d["action"] for d in shown["decisions"]] == ["recheck"] * 4
    assert shown["case"]["status"] == "open"  # a re-check informs; people decide


def test_an_order_past_its_deadline_is_decided_by_a_recheck(demo_web: str, tmp_path: Path) -> None:
    control = urllib.request.build_opener(urllib.request.ProxyHandler({"http": demo_web}))
    control.open("http://control.test/state?host=recheck-shop.test&set=violating").read()
    home = tmp_path / "home"
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_depth = 0\n',
                      encoding="utf-8")

    def pharmwatch(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(*args, home=home, proxy=demo_web, config=config)

    assert pharmwatch("scan", "--no-search", "--site", "http://recheck-shop.test/").returncode == 0
    case_id = str(json.loads(pharmwatch("case", "list", "--format", "json").stdout)[0]["id"])
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
    control.open("http://control.test/state?host=recheck-shop.test&set=corrected").read()
    checked = pharmwatch("order", "check-due", "--today", "2099-01-02")
    assert checked.returncode == 0 and "order 1: complied (case" in checked.stdout, checked.stdout + checked.stderr
    (order,) = json.loads(pharmwatch("order", "list", "--format", "json").stdout)
    assert order["status"] == "complied" and "violation_gone" in order["resolution"]
    assert pharmwatch("case", "close", case_id, "--reason", "已整改").returncode == 0
