"""Every CSV the tool writes from typed or crawled text is inert in a spreadsheet, and the files our
importers read back (registry export, blacklist export, rejects) import as they were written."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.blacklist import add_entry, import_entries, list_entries
from cases.registries import RegistryImportError, import_csv
from storage import db
from storage.models import DrugApproval
from storage.registry import export_csv
from tests.databases import database_url

HOSTILE = ['=HYPERLINK("http://x")', "-5", "+cmd|' /C calc'!A0", "@SUM(1+1)"]


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = database_url(tmp_path)
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_registry_export_is_inert_and_imports_back_as_it_was(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "drugs.csv"
    source.write_text("number,product_name,holder,rx_otc,dosage_form,status\n" + "".join(
        f'国药准字H1090008{i},"{name.replace(chr(34), chr(34) * 2)}",{i},otc,片剂,valid\n'
        for i, name in enumerate(HOSTILE)), encoding="utf-8")
    with db.transaction(sessions) as session:
        assert import_csv(session, "drug_approval", source).inserted == 4
    exported = tmp_path / "export.csv"
    with sessions() as session:
        export_csv(session, "drug_approval", exported)
    rows = cells(exported.read_text(encoding="utf-8-sig"))
    assert sorted(row[1] for row in rows[1:]) == sorted("'" + name for name in HOSTILE)  # no cell starts a formula
    with db.transaction(sessions) as session:
        session.query(DrugApproval).delete()
    with db.transaction(sessions) as session:
        assert import_csv(session, "drug_approval", exported).inserted == 4
    with sessions() as session:
        assert sorted(session.scalars(select(DrugApproval.product_name))) == sorted(HOSTILE)


def test_the_rejects_file_is_inert(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "bad.csv"
    source.write_text('number,product_name,holder,rx_otc,dosage_form,status\nnot-a-number,"=HYPERLINK(""http://x"")"'
                      ",,otc,片剂,valid\n", encoding="utf-8")
    with db.transaction(sessions) as session, pytest.raises(RegistryImportError):
        import_csv(session, "drug_approval", source)
    with db.transaction(sessions) as session:
        report = import_csv(session, "drug_approval", source, skip_bad=True)
    assert report.rejects_path is not None
    rows = cells(report.rejects_path.read_text(encoding="utf-8-sig"))
    assert "'=HYPERLINK(\"http://x\")" in rows[1] and not any(c.startswith("=") for c in rows[1])


def test_a_blacklist_export_imports_back_with_its_reasons(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from outputs import SafeCsvWriter

    with db.transaction(sessions) as session:
        add_entry(session, "company", "=HYPERLINK(\"http://x\")", reason="-5 fake ltd", actor="t")
        entries = list_entries(session)
    out = io.StringIO()
    writer = SafeCsvWriter(out)  # what `blacklist list --format csv` (the export) writes
    writer.writerow(["kind", "value", "reason"])
    writer.writerows([e.kind, e.value, e.reason] for e in entries)
    assert "'=HYPERLINK" in out.getvalue() and "'-5 fake ltd" in out.getvalue()
    other = database_url(tmp_path / "other")  # another office's database
    db.upgrade(other)
    others = db.session_factory(db.make_engine(other))
    (tmp_path / "list.csv").write_text(out.getvalue(), encoding="utf-8")
    with db.transaction(others) as session:
        assert import_entries(session, tmp_path / "list.csv", actor="t", source="office B") == 1
        (entry,) = list_entries(session)
    assert entry.value == '=HYPERLINK("http://x")' and entry.reason.startswith("-5 fake ltd")


def test_schedule_and_rules_csv_are_inert() -> None:
    from pharmwatch.rules_render import render_rules
    from pharmwatch.schedule_render import render_schedule
    from pharmwatch.scheduler import ScheduledJob
    from rules import load_ruleset

    out = io.StringIO()
    render_schedule([(ScheduledJob("=HYPERLINK(\"http://x\")", "0 3 * * *", ["--site", "@SUM(1+1)"]),
                      datetime(2026, 3, 1, 3, 0))], "csv", out)
    row = cells(out.getvalue())[1]
    assert row[0] == "'=HYPERLINK(\"http://x\")" and row[3] == "'--site @SUM(1+1)"  # a leading "-" too
    ruleset = load_ruleset()
    rule = ruleset.rules[0]
    original = rule.title_zh
    try:
        object.__setattr__(rule, "title_zh", "+cmd|' /C calc'!A0")
        out = io.StringIO()
        render_rules(ruleset, "csv", out)
    finally:
        object.__setattr__(rule, "title_zh", original)
    assert cells(out.getvalue())[1][5] == "'+cmd|' /C calc'!A0"
