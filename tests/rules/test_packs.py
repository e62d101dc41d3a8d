"""The shipped packs: every embedded example passes, and every file follows the conventions.

Each test collects every offender before failing, so one run shows everything to fix.
"""

from __future__ import annotations

from pathlib import Path

from rules.engine import RuleSet
from rules.lint import lint_packs
from rules.loader import BUNDLED_PACKS
from rules.selftest import run_embedded_tests


def test_every_embedded_example_passes(bundled: RuleSet) -> None:
    failures = run_embedded_tests(bundled)
    report = "\n".join(f"{f.path.name}: {f.rule_id} [{f.kind}] {f.sample!r}: {f.reason}" for f in failures)
    assert not failures, f"{len(failures)} embedded example(s) failed:\n{report}"


def test_pack_files_follow_the_conventions() -> None:
    problems = lint_packs()
    assert not problems, "\n".join(map(str, problems))


def test_lint_reports_every_broken_convention_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "packs" / "forbidden_ad_claim"
    folder.mkdir(parents=True)
    good = next(BUNDLED_PACKS.glob("disease_cure_claim/diabetes_cure.yaml")).read_text(encoding="utf-8")
    (folder / "Bad-Name.yaml").write_text(good.replace("广告法 第十六条", "广告法16条"), encoding="utf-8")
    (folder / "broken_rule.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    problems = lint_packs([tmp_path / "packs"])
    reasons = "\n".join(str(p) for p in problems)
    assert "file name must be <area>_<behaviour>.yaml" in reasons
    assert "folder 'forbidden_ad_claim' but category 'disease_cure_claim'" in reasons
    assert "legal_basis '广告法16条'" in reasons
    assert "broken_rule.yaml:2: invalid YAML" in reasons or "broken_rule.yaml:1: invalid YAML" in reasons
    legal = next(p for p in problems if "legal_basis" in p.reason)
    assert legal.line == next(i for i, line in enumerate(good.splitlines(), 1) if line.startswith("legal_basis"))


def test_lint_finds_duplicate_ids_and_rules_that_would_run_on_every_page(tmp_path: Path) -> None:
    good = (BUNDLED_PACKS / "disease_cure_claim" / "gout_cure.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "disease_cure_claim"
    folder.mkdir()
    (folder / "gout_cure.yaml").write_text(good, encoding="utf-8")
    (folder / "gout_copy.yaml").write_text(good, encoding="utf-8")
    always = good.replace("  condition: strong_cure_topic or", "  condition: time_boxed or strong_cure_topic or")
    (folder / "gout_always.yaml").write_text(always.replace("pw-zh-gout-cure-001", "pw-zh-gout-cure-002"),
                                             encoding="utf-8")
    reasons = [p.reason for p in lint_packs([tmp_path])]
    assert any(r.startswith("duplicate rule id 'pw-zh-gout-cure-001'") for r in reasons)
    assert any("would run on every page" in r for r in reasons)


def test_packs_cover_the_focus_diseases_and_categories(bundled: RuleSet) -> None:
    diseases = {d for rule in bundled.rules if rule.category == "disease_cure_claim" for d in rule.diseases}
    assert {"diabetes", "hypertension", "kidney", "rheumatism", "gout", "sexual_dysfunction"} <= diseases
    categories = {rule.category for rule in bundled.rules}
    assert {
        "disease_cure_claim",
        "forbidden_ad_claim",
        "non_drug_as_drug",
        "illegal_additive",
        "banned_online_sale",
        "prescription_without_rx",
        "unlicensed_sale",
        "rogue_pharmacy",
        "off_platform_sale",
        "counterfeit_brand",
        "forged_or_invalid_licence",
    } <= categories


def test_no_shipped_rule_runs_on_every_document(bundled: RuleSet) -> None:
    # Rules are evaluated only after one of their terms matched; a rule that could fire without
    # any term (e.g. a bare regex or signal test) would be evaluated on every page. Anchor regexes
    # to a term selection with `near` instead.
    always = [bundled.rules[i].id for i in bundled.compiled.always]
    assert always == []
