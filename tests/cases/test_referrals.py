"""Referrals: a confirmed case goes to the authority its findings point to, with a letter that escapes
what sellers wrote; a case closes only when its referrals are closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pharmwatch.cli import cli
from storage import db
from storage.models import Finding
from tests.cases.builders import scan_with, the_case


@pytest.fixture
def run(home: Path):  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})
    return invoke


def test_a_confirmed_case_is_referred_letter_written_and_closed_when_resolved(
        sessions, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = str(the_case(sessions).id)
    with db.transaction(sessions) as session:  # what a seller wrote, as the finding keeps it
        session.query(Finding).update({"excerpt": "<script>alert(1)</script>根治糖尿病",
                                       "legal_basis": ["广告法 第十六条"]})

    early = run("referral", "create", "--case", case_id)
    assert early.exit_code == 2 and "only a confirmed case is referred" in early.stderr
    run("case", "review", case_id)
    run("case", "confirm", case_id)
    package = tmp_path / "case.wacz"
    package.write_bytes(b"a package")
    created = run("referral", "create", "--case", case_id, "--package", str(package), "--by", "科长")
    assert created.exit_code == 0 and "→ telecom (a domestic site" in created.stdout, created.output

    refused = run("case", "close", case_id, "--reason", "已移送")
    assert refused.exit_code == 2 and "referral 1 (draft)" in refused.stderr

    letter = tmp_path / "letter.html"
    assert run("referral", "letter", "1", "-o", str(letter)).exit_code == 0
    text = letter.read_text(encoding="utf-8")
    assert "通信管理部门" in text and "tangan-cure.test" in text and "广告法 第十六条" in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    import hashlib
    assert hashlib.sha256(b"a package").hexdigest() in text
    pdf = tmp_path / "letter.pdf"
    assert run("referral", "letter", "1", "-o", str(pdf)).exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")

    bad_step = run("referral", "update", "1", "--status", "acknowledged")
    assert bad_step.exit_code == 2 and "is draft" in bad_step.stderr
    for status in ("sent", "acknowledged", "closed"):
        assert run("referral", "update", "1", "--status", status, "--their-ref", "通管〔2026〕12号").exit_code == 0
    (referral,) = json.loads(run("referral", "list", "--case", case_id, "--format", "json").stdout)
    assert (referral["status"], referral["their_reference"]) == ("closed", "通管〔2026〕12号")
    shown = json.loads(run("referral", "show", "1", "--format", "json").stdout)
    assert shown["site"] == "tangan-cure.test" and shown["authority_name"] == "通信管理部门"
    assert [step["action"] for step in shown["steps"]] == ["created", "sent", "acknowledged", "closed"]
    assert "  sent" in run("referral", "show", "1").stdout
    missing = run("referral", "show", "9")
    assert missing.exit_code == 2 and "no referral 9" in missing.stderr
    assert run("case", "close", case_id, "--reason", "已移送并办结").exit_code == 0


def test_a_draft_gets_its_package_later_and_a_sent_one_keeps_it(sessions, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    scan_with(sessions, {"pw-cure": "high"})
    case_id = str(the_case(sessions).id)
    run("case", "review", case_id)
    run("case", "confirm", case_id)
    assert run("referral", "create", "--case", case_id).exit_code == 0
    package = tmp_path / "case.wacz"
    package.write_bytes(b"exported after the draft")
    attached = run("referral", "attach", "1", "--package", str(package), "--by", "科长")
    assert attached.exit_code == 0, attached.output
    digest = hashlib.sha256(b"exported after the draft").hexdigest()
    assert attached.stdout.strip() == f"referral 1: package sha256 {digest}"
    assert json.loads(run("referral", "show", "1", "--format", "json").stdout)["package_sha256"] == digest
    letter = tmp_path / "letter.html"
    assert run("referral", "letter", "1", "-o", str(letter)).exit_code == 0 and digest in letter.read_text("utf-8")
    assert run("referral", "update", "1", "--status", "sent").exit_code == 0
    refused = run("referral", "attach", "1", "--package", str(package))
    assert refused.exit_code == 2 and "referral 1 is sent: a package is attached while it is a draft" in refused.stderr
    assert run("referral", "attach", "9", "--package", str(package)).exit_code == 2


def test_the_office_can_edit_the_letter_without_touching_code(sessions, run, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan_with(sessions, {"pw-cure": "high"})
    case_id = str(the_case(sessions).id)
    run("case", "review", case_id)
    run("case", "confirm", case_id)
    run("referral", "create", "--case", case_id, "--to", "police")
    (home / "templates").mkdir()
    (home / "templates" / "referral_letter.html").write_text("<p>本局专用格式：{{ site }} → {{ authority }}</p>",
                                                              encoding="utf-8")
    letter = tmp_path / "letter.html"
    assert run("referral", "letter", "1", "-o", str(letter)).exit_code == 0
    assert letter.read_text(encoding="utf-8") == "<p>本局专用格式：tangan-cure.test → 公安机关</p>"
