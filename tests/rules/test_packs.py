"""The shipped packs: every embedded example passes, and every file follows the conventions.

Each test collects every offender before failing, so one run shows everything to fix.
"""

from __future__ import annotations

import re
from collections import Counter

from rules.engine import RuleSet
from rules.loader import BUNDLED_PACKS, DEPRECATED_DIR
from rules.model import CATEGORIES, RULE_KEYS
from rules.selftest import run_embedded_tests

FILE_NAME_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+\.yaml$")
ID_RE = re.compile(r"^pw-(zh|en)-[a-z0-9]+(?:-[a-z0-9]+)*-\d{3}$")
# "<law or measure> <article or part>", e.g. 广告法 第十六条, 药品网络销售禁止清单（第一版） 第二部分
LEGAL_BASIS_RE = re.compile(r"^\S*(法|办法|清单|规定|条例)\S* 第[一二三四五六七八九十百零]+(条|部分)$")


def test_every_embedded_example_passes(bundled: RuleSet) -> None:
    failures = run_embedded_tests(bundled)
    report = "\n".join(f"{f.path.name}: {f.rule_id} [{f.kind}] {f.sample!r}: {f.reason}" for f in failures)
    assert not failures, f"{len(failures)} embedded example(s) failed:\n{report}"


def test_pack_files_follow_the_conventions(bundled: RuleSet) -> None:
    offenders: list[str] = []
    files = sorted(p for p in BUNDLED_PACKS.rglob("*.yaml") if DEPRECATED_DIR not in p.parts)
    loaded = {rule.path.resolve(): rule for rule in bundled.rules}
    for path in files:
        rel = path.relative_to(BUNDLED_PACKS)
        rule = loaded.get(path.resolve())
        if rule is None:
            offenders.append(f"{rel}: not loaded")
            continue
        if len(rel.parts) != 2:
            offenders.append(f"{rel}: must be packs/<category>/<area>_<behaviour>.yaml")
        elif rel.parts[0] != rule.category:
            offenders.append(f"{rel}: folder {rel.parts[0]!r} but category {rule.category!r}")
        if not FILE_NAME_RE.match(path.name):
            offenders.append(f"{rel}: file name must be <area>_<behaviour>.yaml in lower case")
        if not ID_RE.match(rule.id):
            offenders.append(f"{rel}: id {rule.id!r} must be pw-<zh|en>-<area>-<behaviour>-NNN")
        order = [key for key in RULE_KEYS if key in rule.key_order]
        if rule.key_order != order:
            offenders.append(f"{rel}: keys must be in the order {', '.join(order)}")
        if not rule.legal_basis:
            offenders.append(f"{rel}: legal_basis is empty")
        for basis in rule.legal_basis:
            if not LEGAL_BASIS_RE.match(basis):
                offenders.append(f"{rel}: legal_basis {basis!r} must read '<law> 第…条' or '<list> 第…部分'")
        if len(rule.tests_match) < 2 or len(rule.tests_no_match) < 2:
            offenders.append(f"{rel}: needs at least 2 match and 2 no_match examples")
        if not rule.falsepositives:
            offenders.append(f"{rel}: list the known false positives")
        if not rule.references:
            offenders.append(f"{rel}: give at least one reference")
        if rule.category not in CATEGORIES:
            offenders.append(f"{rel}: unknown category {rule.category!r}")
    counts = Counter(rule.id for rule in bundled.rules)
    offenders += [f"duplicate id {rule_id}" for rule_id, n in counts.items() if n > 1]
    assert not offenders, "\n".join(offenders)


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
    } <= categories


def test_no_shipped_rule_runs_on_every_document(bundled: RuleSet) -> None:
    # Rules are evaluated only after one of their terms matched; a rule that could fire without
    # any term (e.g. a bare regex or signal test) would be evaluated on every page. Anchor regexes
    # to a term selection with `near` instead.
    always = [bundled.rules[i].id for i in bundled._always]
    assert always == []
