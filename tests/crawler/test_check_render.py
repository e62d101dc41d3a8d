"""`check` output in every format shows what a page says without obeying it."""

from __future__ import annotations

import csv
import io

from crawler.check_render import render_checks

RESULT = {"target": "page\x1b[2J.html", "flagged": True, "risk": "high", "signals": {},
          "findings": [{"rule_id": "pw-zh-diabetes-cure-001", "category": "disease_cure_claim", "severity": "high",
                        "excerpt": "+cmd|' /C calc'!A0 根治糖尿病\x1b]0;x\x07", "spans": [[0, 5]]}]}


def render(fmt: str) -> str:
    out = io.StringIO()
    render_checks([RESULT], fmt, out)
    return out.getvalue()


def test_the_table_carries_no_escape_sequences() -> None:
    table = render("table")
    assert "\x1b" not in table and "\x07" not in table and "根治糖尿病" in table and "[high]" in table


def test_csv_cells_are_inert() -> None:
    row = list(csv.reader(io.StringIO(render("csv"))))[1]
    assert row[7].startswith("'+cmd")


def test_a_finding_the_model_disputed_shows_what_the_rule_said() -> None:
    disputed = {**RESULT, "flagged": False, "risk": "low",
                "findings": [{**RESULT["findings"][0], "severity": "low"}],  # type: ignore[index]
                "signals": {"model_disputed": {"pw-zh-diabetes-cure-001": "high"}}}
    out = io.StringIO()
    render_checks([disputed], "table", out)
    assert "[low, rule said high; the model reads ordinary text]" in out.getvalue()
