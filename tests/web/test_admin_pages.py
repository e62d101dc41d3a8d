"""The admin pages: schedules (the scheduler's jobs over the same functions as `pharmwatch schedule`),
registries (listing and importing a CSV as `pharmwatch registry import` does, bad rows shown by line) and
rule packs (versions, digests, counts, lint, the model's corpus); each change audited with the admin's name."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pharmwatch.config import load_settings
from pharmwatch.schedule_desk import SettingsScheduleDesk
from pharmwatch.schedule_runs import record_skip
from rules import load_ruleset
from rules.loader import BUNDLED_PACKS
from storage.models import AuditEvent, DrugApproval
from tests.web.world import HOSTILE_TEXT, World
from web.app import WebConfig


@pytest.fixture
def config(world: World, tmp_path: Path) -> WebConfig:
    settings = load_settings(environ={"PHARMWATCH_HOME": str(tmp_path / "home")})
    return WebConfig(blob_dir=world.blob_dir, schedules=SettingsScheduleDesk(settings))


def _audit(world: World, action: str) -> list[AuditEvent]:
    with world.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- schedules -----------------------------------------------------------------------------------------
def test_the_settings_jobs_are_listed_with_their_next_run_and_history(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    jobs = {job["name"]: job for job in client.get("/api/schedules").json()["data"]["jobs"]}
    assert {"nightly", "digest"} <= set(jobs)
    assert jobs["nightly"]["source"] == "settings" and jobs["nightly"]["next_run"].endswith("+08:00")
    record_skip(world.sessions, job_name="nightly", scheduled_for=datetime(2026, 1, 5, 18), reason="another scan ran")
    html = client.get("/schedules?job=nightly").text
    assert "another scan ran" in html and "0 2 * * *" in html
    [run] = client.get("/api/schedules?job=nightly").json()["data"]["history"]
    assert run["outcome"] == "skipped" and run["job"] == "nightly"


def test_an_admin_adds_pauses_resumes_and_removes_a_job_audited_in_their_name(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    response = client.post("/schedules", data={"name": "weekly-shops", "cron": "0 3 * * 1",
                                               "sites": "http://a.test/\nhttp://b.test/"}, follow_redirects=False)
    assert response.status_code == 303
    jobs = {job["name"]: job for job in client.get("/api/schedules").json()["data"]["jobs"]}
    assert jobs["weekly-shops"]["args"] == ["--no-search", "--no-watchlist", "--no-tips", "--site", "http://a.test/",
                                            "--site", "http://b.test/"]
    assert client.post("/schedules/weekly-shops/pause", follow_redirects=False).status_code == 303
    assert client.post("/api/schedules/weekly-shops/resume").json() == {"ok": True, "data": {"done": "resumed"}}
    assert client.post("/schedules/weekly-shops/remove", follow_redirects=False).status_code == 303
    assert "weekly-shops" not in {job["name"] for job in client.get("/api/schedules").json()["data"]["jobs"]}
    for action in ("schedule_job_added", "schedule_job_paused", "schedule_job_resumed", "schedule_job_removed"):
        assert [event.actor for event in _audit(world, action)] == ["ada"], action


def test_a_refused_change_says_why_as_the_cli_does(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    response = client.post("/api/schedules", json={"name": "x", "cron": "every day", "query_sets": ["queries"]})
    assert response.status_code == 400 and "is not a cron expression" in response.json()["error"]
    response = client.post("/schedules/nightly/remove")
    assert response.status_code == 400 and "来自设置文件" in response.text  # the CLI's refusal, in zh-CN
    assert client.post("/schedules/nightly/explode").status_code == 400  # not an action


def test_without_scheduler_settings_the_page_says_so(world: World, app, signed_in) -> None:  # type: ignore[no-untyped-def]
    app.state.config = WebConfig(blob_dir=world.blob_dir)
    client = signed_in("ada")
    assert client.get("/api/schedules").json()["data"]["available"] is False
    assert client.post("/api/schedules/nightly/pause").status_code == 503


# --- registries ----------------------------------------------------------------------------------------
GOOD = "国药准字H20051234"
CSV = f"number,product_name\n{GOOD},降糖胶囊\n{HOSTILE_TEXT},x\n".encode()


def test_a_file_with_a_bad_row_imports_nothing_and_shows_the_row(world: World,
                                                                  signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    response = client.post("/registries/drug_approval/import", files={"file": ("国家局.csv", CSV, "text/csv")})
    assert response.status_code == 400
    assert "国家局.csv" in response.text and "<td>3</td>" in response.text
    assert "<script>" not in response.text.split("<main>")[1]  # the cells are shown escaped
    with world.sessions() as session:
        assert session.scalar(select(DrugApproval)) is None
    assert _audit(world, "registry_imported") == []


def test_the_good_rows_are_imported_when_asked_and_counted(world: World,
                                                           signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("ada")
    response = client.post("/api/registries/drug_approval/import", files={"file": ("a.csv", CSV, "text/csv")},
                           data={"skip_bad": "true"})
    report = response.json()["data"]
    assert (report["imported"], report["inserted"], report["rejected_count"]) == (True, 1, 1)
    assert report["rejected"][0]["line"] == 3
    row = next(r for r in client.get("/api/registries").json()["data"] if r["kind"] == "drug_approval")
    assert row["rows"] == 1 and row["by_status"] == {"valid": 1} and row["last_import"]
    [event] = _audit(world, "registry_imported")
    assert event.actor == "ada" and event.subject == "registry:drug_approval" and event.details["inserted"] == 1


def test_a_file_with_the_wrong_columns_is_refused_whole(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("ada").post("/api/registries/device/import",
                                     files={"file": ("d.csv", b"licence,name\n1,2\n", "text/csv")})
    assert response.status_code == 400 and "d.csv" in response.json()["error"]
    assert "/tmp" not in response.json()["error"]  # the temporary folder is not shown


# --- rule packs ----------------------------------------------------------------------------------------
def test_the_bundled_packs_are_listed_with_their_digest_counts_lint_and_model(
        signed_in: Callable[[str], TestClient]) -> None:
    ruleset = load_ruleset()
    view = signed_in("ada").get("/api/rules").json()["data"]
    assert view["digest"] == ruleset.digest and view["rule_count"] == len(ruleset.rules)
    assert sum(len(pack["rules"]) for pack in view["packs"]) == len(ruleset.rules)
    names = {pack["name"] for pack in view["packs"]}
    assert names == {p.name for p in BUNDLED_PACKS.iterdir() if p.is_dir()}
    assert view["lint"] == [] and view["load_error"] is None
    assert view["model"]["matches"] is True and view["model"]["trained_on"] == view["model"]["corpus"]


def test_a_pack_breaking_the_conventions_is_shown_with_its_lint_problems(
        world: World, app, signed_in, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    packs = tmp_path / "packs"
    shutil.copytree(BUNDLED_PACKS / "disease_cure_claim", packs / "disease_cure_claim")
    rule = packs / "disease_cure_claim" / "diabetes_cure.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("legal_basis:", "legal_basis_typo:", 1), encoding="utf-8")
    app.state.config = WebConfig(blob_dir=world.blob_dir, rule_paths=(packs,))
    client = signed_in("ada")
    view = client.get("/api/rules").json()["data"]
    assert view["load_error"] and "diabetes_cure.yaml" in view["load_error"]
    assert any("diabetes_cure.yaml" in problem for problem in view["lint"])
    assert view["model"] is None and not view["bundled"]
    assert "diabetes_cure.yaml" in client.get("/rules").text
