"""A case moves open → under_review → confirmed | dismissed → closed / reopened: each step named,
reasoned and audited; a step that is not allowed changes nothing and says what is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cases.casebook import case_detail, list_cases, rule_stats
from cases.lifecycle import CaseError, act, assign
from pharmwatch.cli import cli
from storage import db
from storage.audit import verify_chain
from storage.models import Case
from tests.cases.builders import scan_with, the_case


def test_the_lifecycle_in_order_with_every_step_audited(sessions) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high", "pw-low": "low"})
    case_id = the_case(sessions).id
    with db.transaction(sessions) as session:
        assign(session, case_id, "监测员小王", actor="科长")
        act(session, case_id, "review", actor="监测员小王")
        act(session, case_id, "confirm", actor="监测员小王", reason="页面宣称根治糖尿病")
        act(session, case_id, "close", actor="科长", reason="已移送并整改")
    with sessions() as session:
        detail = case_detail(session, case_id)
        assert detail.case.status == "closed" and detail.case.assignee == "监测员小王"
        assert [d["action"] for d in detail.decisions] == ["assign", "review", "confirm", "close"]
        assert [e["action"] for e in detail.audit] == ["case_assign", "case_review", "case_confirm", "case_close"]
        assert detail.allowed_actions == ["reopen", "assign"]
        assert not verify_chain(session)
        (record,) = rule_stats(session)  # only the flagging rule gets a verdict
        assert (record.rule_id, record.confirmed, record.dismissed) == ("pw-cure", 1, 0)


def test_a_step_that_is_not_allowed_changes_nothing_and_names_what_is(sessions) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = the_case(sessions).id
    with pytest.raises(CaseError, match="case .* is open: cannot confirm it .*from open: review"):
        with db.transaction(sessions) as session:
            act(session, case_id, "confirm", actor="x")
    with pytest.raises(CaseError, match="dismiss needs a reason"):
        with db.transaction(sessions) as session:
            act(session, case_id, "review", actor="x")
            act(session, case_id, "dismiss", actor="x")
    assert the_case(sessions).status == "open"  # the whole transaction was refused
    with pytest.raises(CaseError, match="no flagging finding of pw-other"):
        with db.transaction(sessions) as session:
            act(session, case_id, "review", actor="x")
            act(session, case_id, "dismiss", actor="x", reason="误报", rules=["pw-other"])
    with pytest.raises(CaseError, match="no case 999"):
        with db.transaction(sessions) as session:
            act(session, 999, "review", actor="x")


def test_dismissed_findings_do_not_reopen_a_case_and_a_new_rule_does(sessions) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = the_case(sessions).id
    with db.transaction(sessions) as session:
        act(session, case_id, "review", actor="x")
        act(session, case_id, "dismiss", actor="x", reason="医院科普文章，非广告")
    scan_with(sessions, {"pw-cure": "high"})  # the same false alarm again
    assert the_case(sessions).status == "dismissed" and the_case(sessions).id == case_id
    scan_with(sessions, {"pw-cure": "high", "pw-rx": "critical"})  # a new kind of violation
    case = the_case(sessions)
    assert (case.id, case.status) == (case_id, "open")
    with sessions() as session:
        reopened = case_detail(session, case_id).decisions[-1]
        assert reopened["actor"] == "scan" and "pw-rx" in reopened["reason"]
        (record,) = rule_stats(session)
        assert (record.rule_id, record.dismissed, record.dismissal_rate) == ("pw-cure", 1, 1.0)
        assert [c.id for c in list_cases(session, status="open")] == [case_id]
        assert list_cases(session, through_ads=True) == []  # no paid ad led to this site


@pytest.fixture
def pg_sessions(postgres_url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(postgres_url)
    return db.session_factory(db.make_engine(postgres_url))


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_two_people_acting_at_once_one_wins(database: str, request: pytest.FixtureRequest) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    sessions = request.getfixturevalue("sessions" if database == "sqlite" else "pg_sessions")
    scan_with(sessions, {"pw-cure": "high"})
    case_id = the_case(sessions).id
    first, second = sessions(), sessions()
    seen = first.get(Case, case_id), second.get(Case, case_id)  # both have read version 1 (and keep it)
    act(first, case_id, "review", actor="a")
    first.commit()
    with pytest.raises(StaleDataError):
        assign(second, case_id, "b", actor="b")
    second.rollback()
    assert seen[1].version == 2  # the loser sees the winner's change once it looks again
    assert the_case(sessions).status == "under_review" and the_case(sessions).assignee is None


def test_the_cli_is_a_thin_layer_with_exit_status_2_for_a_refused_step(sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = str(the_case(sessions).id)
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})

    refused = run("case", "confirm", case_id, "--by", "x")
    assert refused.exit_code == 2 and "from open: review" in refused.stderr
    assert run("case", "review", case_id, "--by", "x").stdout.strip() == f"case {case_id}: open → under_review"
    assert run("case", "dismiss", case_id, "--reason", "误报", "--rule", "pw-cure", "--by", "x").exit_code == 0
    listed = json.loads(run("case", "list", "--status", "dismissed", "--format", "json").stdout)
    assert [(c["id"], c["diseases"]) for c in listed] == [(int(case_id), ["diabetes"])]  # its excerpt: 根治糖尿病
    assert [c["id"] for c in json.loads(run("case", "list", "--disease", "diabetes", "--format", "json").stdout)] == [
        int(case_id)]
    assert json.loads(run("case", "list", "--disease", "gout", "--format", "json").stdout) == []
    unknown = run("case", "list", "--disease", "gout-ish")
    assert unknown.exit_code == 2 and "unknown disease area 'gout-ish'" in unknown.stderr
    shown = json.loads(run("case", "show", case_id, "--format", "json").stdout)
    assert shown["case"]["status"] == "dismissed" and shown["decisions"][-1]["reason"] == "误报"
    stats = json.loads(run("rules", "stats", "--format", "json").stdout)
    assert stats == [{"rule_id": "pw-cure", "confirmed": 0, "dismissed": 1, "dismissal_rate": 1.0}]
    audit = run("audit", "verify")
    assert audit.exit_code == 0 and "OK" in audit.stdout
    events = json.loads(run("audit", "list", "--subject", f"case:{case_id}", "--format", "json").stdout)
    assert [e["action"] for e in events] == ["case_review", "case_dismiss"]

