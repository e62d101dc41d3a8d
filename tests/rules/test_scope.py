"""Claim scope (rules/scope.py): a claim that its clause denies, asks, reports or warns against is not a claim.

Each case names the claim word in the text; `scope_of` says which scope it sits in (None: the page's
own claim). The last tests check the wiring: rules of claim categories get the scope by default, a
rule can narrow or switch it off, the loader refuses a bad `claim_scope`, and the analysis says why
a claim was set aside.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import RuleSet, TextDocument, load_ruleset
from rules.model import RulePackError
from rules.normalise import normalise
from rules.scope import SCOPE_KINDS, ScopeCueError, ScopeReader, load_scope_cues, parse_scope_cues

ALL = frozenset(SCOPE_KINDS)


def scope_of(text: str, claim: str, occurrence: int = 0, kinds: frozenset[str] = ALL) -> str | None:
    """The scope kind of the `occurrence`-th `claim` in `text`, or None when it is a claim."""
    norm = normalise(text)
    needle = normalise(claim).text
    start = -1
    for _ in range(occurrence + 1):
        start = norm.text.index(needle, start + 1)
    verdict = ScopeReader(load_scope_cues(), norm).verdict((start, start + len(needle)), kinds)
    return verdict.kind if verdict else None


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("糖尿病目前没有根治的办法，需要长期管理。", "根治"),
        ("高血压是不能够根治的，需要终身服药。", "根治"),
        ("痛风没有特效药，要靠长期控制尿酸。", "特效药"),
        ("2型糖尿病尚无根治方法。", "根治"),
        ("根治糖尿病是不可能的。", "根治"),
        ("二型糖尿病是不可以根治的。", "可以根治"),  # the claim starts inside the cue 不可
        ("肝硬化很难逆转，更难彻底治愈。", "治愈"),
        ("There is no cure for type 1 diabetes.", "cure"),
        ("Type 2 diabetes cannot be cured, but it can be managed.", "cured"),
        ("Cinnamon doesn’t cure diabetes.", "cure"),
    ],
)
def test_a_denied_claim_is_in_negation_scope(text: str, claim: str) -> None:
    assert scope_of(text, claim) == "negation"


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("糖尿病能根治吗？", "根治"),
        ("糖尿病真的能根治嘛", "根治"),  # a title without a question mark
        ("Can type 2 diabetes be cured?", "cured"),
        ("If there truly is a cure for diabetes, why don't we hear about it?", "cure"),
    ],
)
def test_an_asked_claim_is_in_question_scope(text: str, claim: str) -> None:
    assert scope_of(text, claim) == "question"


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("该公司官网声称产品能根治糖尿病。", "根治"),
        ("所谓的根治都是骗局。", "根治"),
        ("监管部门发现广告中出现“三个月根治”等内容。", "根治"),
        ("推销员说这种茶能根治高血压。", "根治"),
        ("The site claims to cure diabetes in 30 days.", "cure"),
        ("So-called miracle pills that reverse diabetes are everywhere.", "reverse"),
    ],
)
def test_a_claim_someone_else_makes_is_in_reported_scope(text: str, claim: str) -> None:
    assert scope_of(text, claim) == "reported"


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("切勿轻信那些能根治糖尿病的神药。", "根治"),
        ("骗局五：三天根治糖尿病。", "根治"),
        ("三天根治糖尿病，这是彻头彻尾的骗局。", "根治"),
        ("Beware of products that cure diabetes overnight.", "cure"),
        ("Myth: cinnamon cures diabetes.", "cures"),
        ("Teas that cure diabetes are a scam.", "cure"),
    ],
)
def test_a_warned_or_debunked_claim_is_in_warning_scope(text: str, claim: str) -> None:
    assert scope_of(text, claim) == "warning"


@pytest.mark.parametrize(
    ("text", "claim", "occurrence"),
    [
        # A denial in another clause: the advert's own claim follows it.
        ("不是药物，胜似药物", "胜似药物", 0),
        ("别再吃药了，喝这个茶就能根治", "根治", 0),
        ("不打针、不吃药，三个月根治糖尿病", "根治", 0),
        ("No side effects, cures diabetes in 30 days.", "cures", 0),
        ("It is not a drug, but it cures diabetes.", "cures", 0),
        # Two denials cancel, and words that only contain a denial deny nothing.
        ("没有不能根治的糖尿病", "根治", 0),
        ("不仅能降糖，还能根治糖尿病", "根治", 0),
        ("没想到吃了三个月就根治了", "根治", 0),
        ("Not only lowers blood sugar, it reverses diabetes.", "reverses", 0),
        # A hook question, then the claim.
        ("想根治糖尿病吗？喝这个茶三个月就能根治。", "根治", 1),
        ("Want to cure your diabetes? This tea cures it in 30 days.", "cures", 0),
        # A question after the claim in another clause is the hook, not the claim.
        ("全球首个修复胰岛的药品，糖尿病反复怎么办？", "修复胰岛", 0),
        # A belief reaches its own clause only: the testimonial after it is a claim.
        ("我以为糖尿病治不好，没想到吃了三个月就根治了", "根治", 0),
        # A fraud word elsewhere in the sentence does not excuse the claim.
        ("别管那些骗局，本品根治糖尿病", "根治", 0),
        ("No.1 cure for diabetes", "cure", 0),
    ],
)
def test_an_advert_s_own_claim_stays_a_claim(text: str, claim: str, occurrence: int) -> None:
    assert scope_of(text, claim, occurrence) is None


def test_only_the_chosen_kinds_apply() -> None:
    assert scope_of("没有任何副作用", "副作用", kinds=frozenset({"question", "reported", "warning"})) is None
    assert scope_of("没有任何副作用", "副作用", kinds=frozenset({"negation"})) == "negation"


# -- wiring into the rule engine -----------------------------------------------------------------

DETECTION = """
cure:
  terms: [根治]
disease:
  terms: [糖尿病]
claim:
  near: {a: cure, b: disease, within: 20}
condition: claim
"""


def test_bundled_claim_rules_set_aside_denials_questions_reports_and_warnings(bundled: RuleSet) -> None:
    negatives = [
        "糖尿病目前没有根治的办法，需要长期规范治疗。",
        "高血压是不能够根治的，请遵医嘱服药。",
        "所谓的根治糖尿病都是骗局。",
        "There is no cure for diabetes yet.",
        "Beware of products that claim to cure diabetes.",
    ]
    for text in negatives:
        assert not bundled.analyse(TextDocument(text)).flagged, text
    positives = [
        "不是药物，胜似药物！喝这个茶就能根治糖尿病。",
        "别再吃药了，喝这个茶就能根治糖尿病",
        "No side effects, cures diabetes in 30 days.",
    ]
    for text in positives:
        assert bundled.analyse(TextDocument(text)).flagged, text


def test_a_claim_set_aside_by_scope_is_explained(write_rule) -> None:  # type: ignore[no-untyped-def]
    analysis = load_ruleset([write_rule(DETECTION)]).analyse(TextDocument("糖尿病目前没有根治的办法。"))
    assert not analysis.findings
    reasons = {(s.kind, s.cue) for s in analysis.scoped}
    assert ("negation", "没有") in reasons
    scoped = next(s for s in analysis.scoped if s.kind == "negation")
    assert "糖尿病目前没有根治的办法。"[slice(*scoped.span)] == "根治"
    assert scoped.why == "negation: '没有' before the claim"




def test_claim_rules_are_scoped_by_default_and_can_opt_out(write_rule) -> None:  # type: ignore[no-untyped-def]
    text = TextDocument("糖尿病目前没有根治的办法")
    scoped = load_ruleset([write_rule(DETECTION)])
    assert not scoped.analyse(text).findings
    off = load_ruleset([write_rule(DETECTION, claim_scope="off")])
    assert off.analyse(text).findings


def test_a_rule_chooses_kinds_and_selections(write_rule) -> None:  # type: ignore[no-untyped-def]
    only_questions = load_ruleset([write_rule(DETECTION, claim_scope="{kinds: [question]}")])
    assert only_questions.analyse(TextDocument("糖尿病目前没有根治的办法")).findings
    assert not only_questions.analyse(TextDocument("糖尿病能根治吗？")).findings
    # With the claim word named, a question about the disease keeps the disease word for a later claim.
    detection = DETECTION.replace("within: 20", "within: 40")
    text = TextDocument("想治好糖尿病吗？喝这个茶就能根治")
    assert not load_ruleset([write_rule(detection)]).analyse(text).findings
    narrowed = load_ruleset([write_rule(detection, claim_scope="{applies_to: [cure]}")])
    assert narrowed.analyse(text).findings


def test_other_categories_are_not_scoped_unless_they_opt_in(write_rule) -> None:  # type: ignore[no-untyped-def]
    text = TextDocument("糖尿病目前没有根治的办法")

    def additive_rule(**kwargs: str) -> Path:
        path: Path = write_rule(DETECTION, folder="illegal_additive", **kwargs)
        path.write_text(path.read_text("utf-8").replace("category: disease_cure_claim", "category: illegal_additive"))
        return path

    assert load_ruleset([additive_rule()]).analyse(text).findings
    assert not load_ruleset([additive_rule(claim_scope="{kinds: [negation]}")]).analyse(text).findings


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{kinds: [denial]}", "claim_scope.kinds must be a non-empty list"),
        ("{kinds: []}", "claim_scope.kinds must be a non-empty list"),
        ("{applies_to: [nothing]}", "not term/regex selections"),
        ("{applies_to: [claim]}", "not term/regex selections"),
        ("{reach: 3}", "claim_scope must be 'off' or a mapping"),
        ("sometimes", "claim_scope must be 'off' or a mapping"),
    ],
)
def test_the_loader_refuses_a_bad_claim_scope(write_rule, value: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RulePackError) as err:
        load_ruleset([write_rule(DETECTION, claim_scope=value)])
    assert reason in str(err.value)


def test_the_cue_file_is_validated(tmp_path: Path) -> None:
    good = load_scope_cues().raw.decode("utf-8")
    with pytest.raises(ScopeCueError, match="must be written normalised"):
        parse_scope_cues(good.replace("[没有, 没法,", "[沒有, 没法,").encode("utf-8"), tmp_path / "cues.yaml")
    with pytest.raises(ScopeCueError, match="kinds must define exactly"):
        parse_scope_cues(good.replace("  warning:\n", "  warnings:\n").encode("utf-8"), tmp_path / "cues.yaml")
    with pytest.raises(ScopeCueError, match="also listed in not_cues"):
        parse_scope_cues(good.replace("[不仅, 不但,", "[没有, 不仅, 不但,").encode("utf-8"), tmp_path / "cues.yaml")


def test_the_pack_digest_covers_the_cue_vocabulary(bundled: RuleSet) -> None:
    from rules.loader import discover, pack_digest

    files, _ = discover(None)
    assert bundled.digest == pack_digest(files)


def test_a_claim_the_reader_calls_undisputed_has_no_verdict_of_any_kind() -> None:
    """`undisputed` (a selection's matches at once) only skips claims `verdict` would leave in place."""
    from rules.corpus import load_items

    cues = load_scope_cues()
    checked = skipped = 0
    for item in load_items()[:400]:
        norm = normalise(item.text)
        reader = ScopeReader(cues, norm)
        spans = [(i, min(len(norm.text), i + 3)) for i in range(0, len(norm.text) - 1, 5)]
        for span, sure in zip(spans, reader.undisputed(spans), strict=True):
            checked += 1
            if sure:
                skipped += 1
                assert reader.verdict(span, ALL) is None, (item.id, span, norm.text[span[0] : span[1]])
    assert checked > 5_000 and 0 < skipped < checked
