"""Loading rule packs: a broken file is refused with file, line and reason, and nothing loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import RulePackError, load_ruleset

GOOD_DETECTION = """
claim:
  terms: [根治糖尿病]
condition: claim
"""


def load_error(*paths: Path) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        load_ruleset(list(paths))
    return info.value


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_valid_rule_loads(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION)
    ruleset = load_ruleset([path])
    (rule,) = ruleset.rules
    assert rule.id == "pw-zh-test-rule-001"
    assert rule.path == path
    assert len(ruleset.digest) == 64


def test_a_folder_is_searched_recursively_and_deprecated_rules_are_skipped(write_rule, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_rule(GOOD_DETECTION)
    write_rule(GOOD_DETECTION, folder="disease_cure_claim/deprecated", rule_id="pw-zh-old-rule-001")
    ruleset = load_ruleset([tmp_path / "packs"])
    assert [r.id for r in ruleset.rules] == ["pw-zh-test-rule-001"]


def test_error_message_format_is_path_line_reason(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION, severity="urgent")
    err = load_error(path)
    assert err.path == path
    assert err.line == line_of(path, "severity:")
    assert "severity 'urgent' is not one of" in err.reason
    assert str(err) == f"{path}:{err.line}: {err.reason}"
    assert err.errors == [err] or len(err.errors) == 1


@pytest.mark.parametrize(
    ("change", "needle", "reason"),
    [
        ({"severity": "urgent"}, "severity:", "severity 'urgent'"),
        ({"folder_key": "colour: red"}, "colour:", "unknown key 'colour'"),
        (
            {"detection": "claim:\n  terms: [根治]\ncondition: claim and disease"},
            "condition:",
            "undefined selection 'disease'",
        ),
        ({"detection": "claim:\n  regex: ['(根治']\ncondition: claim"}, "(根治", "bad regex"),
        ({"detection": "claim:\n  regex: ['根治|']\ncondition: claim"}, "根治|", "matches empty text"),
        ({"detection": "claim:\n  regex: ['根治，糖尿病']\ncondition: claim"}, "根治，", "half-width"),
        ({"detection": "claim:\n  terms: [根治]\n  fuzzy: true\ncondition: claim"}, "claim:", "unknown key"),
        ({"detection": "claim:\n  terms: [根治]\nunused:\n  terms: [糖]\ncondition: claim"}, "unused:", "never used"),
        (
            {"detection": "claim:\n  near: {a: claim, b: other, within: 5}\ncondition: claim"},
            "near:",
            "undefined selection 'other'",
        ),
        ({"match": "[只有一个]"}, "match:", "at least 2 samples"),
        ({"no_match": "[]"}, "no_match:", "at least 2 samples"),
    ],
)
def test_broken_rules_are_refused_with_the_line_of_the_problem(  # type: ignore[no-untyped-def]
    write_rule, change: dict[str, str], needle: str, reason: str
) -> None:
    kwargs: dict[str, str] = {}
    detection = change.get("detection", GOOD_DETECTION)
    if "severity" in change:
        kwargs["severity"] = change["severity"]
    if "match" in change:
        kwargs["match"] = change["match"]
    if "no_match" in change:
        kwargs["no_match"] = change["no_match"]
    path = write_rule(detection, **kwargs)
    if "folder_key" in change:
        path.write_text(
            path.read_text(encoding="utf-8").replace("scope:", change["folder_key"] + "\nscope:"), encoding="utf-8"
        )
    err = load_error(path)
    assert any(reason in e.reason and e.line == line_of(path, needle) for e in err.errors), [str(e) for e in err.errors]


def test_invalid_yaml_reports_the_line(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule("", raw="title:\n  zh: 测试\n  en: [unclosed\nid: pw-zh-x-001\n")
    err = load_error(path)
    assert "invalid YAML" in err.reason
    assert err.line >= 3


def test_duplicate_keys_are_errors(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION)
    text = path.read_text(encoding="utf-8").replace("version: 1\n", "version: 1\nversion: 2\n")
    path.write_text(text, encoding="utf-8")
    err = load_error(path)
    assert any("duplicate key 'version'" in e.reason and e.line == 6 for e in err.errors)


def test_all_errors_of_all_files_are_reported_at_once(write_rule) -> None:  # type: ignore[no-untyped-def]
    first = write_rule(
        GOOD_DETECTION, name="a_one.yaml", rule_id="pw-zh-test-a-001", severity="urgent", match="[只有一个]"
    )
    second = write_rule(
        "claim:\n  terms: [根治]\ncondition: claim or nothing", name="b_two.yaml", rule_id="pw-zh-test-b-001"
    )
    good = write_rule(GOOD_DETECTION, name="c_three.yaml", rule_id="pw-zh-test-c-001")
    err = load_error(first, second, good)
    assert {e.path for e in err.errors} == {first, second}
    assert len(err.errors) == 3
    # The message lists every problem, one per line, each as path:line: reason.
    lines = str(err).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{e.path}:{e.line}: ") for line, e in zip(lines, err.errors, strict=True))


def test_duplicate_rule_ids_are_refused(write_rule) -> None:  # type: ignore[no-untyped-def]
    first = write_rule(GOOD_DETECTION, name="a_one.yaml")
    second = write_rule(GOOD_DETECTION, name="b_two.yaml")
    err = load_error(first, second)
    assert err.path == second
    assert "duplicate rule id 'pw-zh-test-rule-001'" in err.reason
    assert err.line == line_of(second, "id:")


def test_missing_paths_and_empty_folders_are_errors(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nowhere")
    assert "no such file" in err.reason
    (tmp_path / "empty").mkdir()
    err = load_error(tmp_path / "empty")
    assert "no rule files" in err.reason


def test_yml_files_are_refused_rather_than_silently_ignored(write_rule, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_rule(GOOD_DETECTION)
    (tmp_path / "packs" / "stray.yml").write_text("title: x\n", encoding="utf-8")
    err = load_error(tmp_path / "packs")
    assert "must end in .yaml" in err.reason


def test_digest_changes_when_a_pack_file_changes(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION)
    before = load_ruleset([path]).digest
    assert load_ruleset([path]).digest == before
    path.write_text(path.read_text(encoding="utf-8").replace("A rule used", "A rule still used"), encoding="utf-8")
    after = load_ruleset([path]).digest
    assert after != before
    (rule,) = load_ruleset([path]).rules
    import hashlib

    assert rule.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bundled_packs_load_by_default(bundled) -> None:  # type: ignore[no-untyped-def]
    assert len(bundled.rules) >= 20
    assert all(
        rule.path.is_relative_to(Path(__file__).resolve().parents[2] / "rules" / "packs") for rule in bundled.rules
    )


def test_unknown_category_scope_and_disease_are_each_reported(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION)
    text = path.read_text(encoding="utf-8")
    text = text.replace("category: disease_cure_claim", "category: fake_news")
    text = text.replace("scope: [body, title]", "scope: [body, footer]")
    text = text.replace("diseases: [diabetes]", "diseases: [diabetis]")
    path.write_text(text, encoding="utf-8")
    err = load_error(path)
    found = {(e.line, e.reason.split(" is not one of")[0]) for e in err.errors}
    assert found == {
        (line_of(path, "category:"), "category 'fake_news'"),
        (line_of(path, "scope:"), "scope[1] 'footer'"),
        (line_of(path, "diseases:"), "diseases[0] 'diabetis'"),
    }


def test_exceptions_are_validated_too(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(
        GOOD_DETECTION,
        exceptions="""
        claim:
          terms: [切勿轻信]
        page:
          signals: {warning_context: true}
          within: 10
        sided:
          terms: [宣称]
          side: left
        """,
    )
    reasons = [e.reason for e in load_error(path).errors]
    assert any("same name as a detection selection" in r for r in reasons)
    assert any("signals exception applies to the whole page" in r for r in reasons)
    assert any("side 'left'" in r for r in reasons)


def test_applies_to_must_name_term_selections_of_the_rule(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(
        """
        cure:
          terms: [根治]
        disease:
          terms: [糖尿病]
        claim:
          near: {a: cure, b: disease, within: 10}
        condition: claim
        """,
        exceptions="""
        warning:
          terms: [虚假]
          applies_to: [claim, nosuch]
        """,
    )
    with pytest.raises(RulePackError) as err:
        load_ruleset([path])
    assert "applies_to names ['claim', 'nosuch']" in str(err.value)


SIGNAL_TYPO = """
claim:
  terms: [根治糖尿病]
seller:
  signals: {sell_drugs: true}
condition: claim and seller
"""


def test_a_rule_naming_an_unknown_signal_is_refused_with_the_closest_name(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(SIGNAL_TYPO)
    err = load_error(path)
    assert err.line == line_of(path, "sell_drugs")
    assert "unknown signal 'sell_drugs' (did you mean 'sells_drugs'?)" in err.reason
    assert "known signals: " in err.reason and "licence_valid" in err.reason and "warning_context" in err.reason


def test_an_exception_naming_an_unknown_signal_is_refused(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION, exceptions="""
        news:
          signals: {warning_contex: true}
        """)
    err = load_error(path)
    assert "unknown signal 'warning_contex' (did you mean 'warning_context'?)" in err.reason
    assert err.line == line_of(path, "warning_contex")


def test_a_signal_set_after_the_rules_run_cannot_be_tested(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(SIGNAL_TYPO.replace("sell_drugs: true", "model_score: 0.9"))
    assert "signal 'model_score' is set after the rules have run" in load_error(path).reason


def test_a_sample_naming_an_unknown_signal_is_refused(write_rule) -> None:  # type: ignore[no-untyped-def]
    path = write_rule(GOOD_DETECTION, match="[根治糖尿病, {text: 糖尿病可以根治, signals: {licence_vaild: false}}]")
    err = load_error(path)
    assert "unknown signal 'licence_vaild' (did you mean 'licence_valid'?)" in err.reason
    assert err.line == line_of(path, "licence_vaild")


def test_every_shipped_rule_names_only_known_signals() -> None:
    from rules.signal_names import KNOWN_SIGNALS

    named = {key for rule in load_ruleset().rules for sel in rule.selections.values()
             for key in getattr(sel, "expected", {})}
    assert named and named <= KNOWN_SIGNALS
