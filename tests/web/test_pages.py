"""What the pages show: the day's list and its filters (HTML and its JSON twin alike), the case page,
the languages (every message of the UI translated into Chinese; English on request)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.world import World
from web.i18n import translations

WEB = Path(__file__).resolve().parents[2] / "web"


def _sites(client: TestClient, world: World, **filters: str) -> list[str]:
    query = "&".join(f"{k}={v}" for k, v in {"date": str(world.day), **filters}.items())
    data = client.get(f"/api/daily?{query}").json()["data"]
    html = client.get(f"/daily?{query}").text
    domains = [row["site"]["domain"] for row in data["rows"]]
    assert [d for d in ("evil.test", "tangan-cure.test") if f'<td class="site">{d}' in html] == sorted(domains)
    return domains


def test_the_daily_list_and_its_filters(world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    assert _sites(mona, world) == ["evil.test", "tangan-cure.test"]  # most severe first
    assert _sites(mona, world, severity="critical") == ["evil.test"]
    assert _sites(mona, world, ads="true") == ["evil.test"]
    assert _sites(mona, world, area="diabetes") == ["evil.test", "tangan-cure.test"]
    assert _sites(mona, world, area="gout") == []
    assert _sites(mona, world, category="disease_cure_claim") == ["evil.test", "tangan-cure.test"]
    assert _sites(mona, world, novelty="new") == ["evil.test", "tangan-cure.test"]
    assert _sites(mona, world, novelty="recurring") == []
    assert _sites(mona, world, status="open") == ["evil.test", "tangan-cure.test"]
    mona.post(f"/cases/{world.case_id}/review")
    assert _sites(mona, world, status="under_review") == ["tangan-cure.test"]
    data = mona.get(f"/api/daily?date={world.day}&page_no=9").json()["data"]
    assert data["page"] == 1 and data["pages"] == 1 and data["total"] == 2 and data["flagged"] == 2
    assert mona.get("/api/daily?area=leprosy").status_code == 400


def test_a_day_without_scans_says_so(world: World, signed_in: Callable[[str], TestClient]) -> None:
    html = signed_in("mona").get("/daily?date=2020-01-01").text
    assert "当天没有运行扫描" in html


def test_the_case_page_and_its_twin(world: World, signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    html = sam.get(f"/cases/{world.case_id}").text
    assert "tangan-cure.test" in html and "广告法 第十七条" in html and "<mark>根治糖尿病</mark>" in html
    assert f'action="/cases/{world.case_id}/review"' in html
    assert f'<a href="/networks/{world.network_id}">' in html  # its operator network
    data = sam.get(f"/api/cases/{world.case_id}").json()["data"]
    assert data["case"]["site"] == "tangan-cure.test" and data["your_actions"] == ["review", "assign"]
    assert data["network_id"] == world.network_id
    assert sam.get("/api/cases/999").status_code == 404
    listed = sam.get("/api/cases?status=open").json()["data"]
    assert {c["site"] for c in listed["cases"]} == {"evil.test", "tangan-cure.test"}
    assert (listed["total"], listed["page"], listed["pages"]) == (2, 1, 1)
    assert sam.get("/api/cases?status=nonsense").status_code == 400


def _message_ids() -> set[str]:
    ids: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.rglob("*.py")]:
        ids |= set(re.findall(r"""(?:\b_|gettext)\(\s*["']([^"']+)["']\s*\)""", path.read_text(encoding="utf-8")))
    return ids


@pytest.mark.parametrize("message", sorted(_message_ids()))
def test_every_message_has_a_chinese_translation(message: str) -> None:
    assert translations("zh").gettext(message) != message


def test_chinese_by_default_english_on_request(world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    html = mona.get("/cases").text
    assert '<html lang="zh-CN">' in html and "案件" in html
    mona.get("/lang/en?next=/cases")
    html = mona.get("/cases").text
    assert '<html lang="en">' in html and "<h1>Cases</h1>" in html


def test_every_shown_value_has_a_chinese_label() -> None:
    from cases.lifecycle import STATUSES
    from rules.model import SEVERITY_RANK
    from storage.models import ROLES
    from web.routes.cases import ACTION_ROLES

    for value in (*STATUSES, *SEVERITY_RANK, *ROLES, *ACTION_ROLES, "running", "finished", "failed", "added"):
        assert translations("zh").gettext(value) != value, value


def test_the_dashboard_shows_the_statistics_reports_figures_with_charts(world: World,
                                                                       signed_in: Callable[[str], TestClient]) -> None:
    from cases.stats import TOTAL, period_stats

    mona = signed_in("mona")
    day = world.day.isoformat()
    data = mona.get(f"/api/dashboard?from={day}&to={day}").json()["data"]
    with world.sessions() as session:  # the same figures as `pharmwatch report stats`, from the same queries
        expected = period_stats(session, world.day, world.day, "Asia/Shanghai", "day", {})
    assert data["tables"]["checks"] == expected.to_json()["tables"]["checks"]
    assert expected.table("checks").value(TOTAL, "flagged_sites") == 2
    assert data["charts"]["flagged_per_period"] == [{"label": day, "value": 2, "width": 100.0}]
    assert {bar["label"] for bar in data["charts"]["by_disease"]} == {"diabetes"}
    html = mona.get(f"/dashboard?from={day}&to={day}").text
    assert "<svg" in html and "各时段标记网站数" in html and "糖尿病" in html
    assert mona.get("/api/dashboard?from=2026-12-07&to=2026-12-01").status_code == 400
