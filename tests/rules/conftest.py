"""Shared fixtures for the rule-engine tests: the bundled rule set and a writer for small packs."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from rules import RuleSet, load_ruleset

MINIMAL_RULE = """\
title:
  zh: 测试规则
  en: Test rule
id: {id}
version: 1
status: test
description: A rule used by the tests.
category: disease_cure_claim
severity: {severity}
diseases: [diabetes]
legal_basis: [广告法 第十六条]
scope: [body, title]
detection:
{detection}
{claim_scope}{exceptions}tests:
  match: {match}
  no_match: {no_match}
"""


@pytest.fixture(scope="session")
def bundled() -> RuleSet:
    """The rule packs shipped in rules/packs/, loaded once."""
    return load_ruleset()


RuleWriter = Callable[..., Path]


@pytest.fixture
def write_rule(tmp_path: Path) -> RuleWriter:
    """Write one rule file built from MINIMAL_RULE and return its path.

    `detection` and `exceptions` are YAML snippets indented by the caller's choice; they are
    dedented and re-indented under their keys. `claim_scope` is the value of that key (e.g. "off",
    "{kinds: [negation]}"); without it the rule, a disease_cure_claim, gets every scope kind.
    """

    def write(
        detection: str,
        *,
        name: str = "area_behaviour.yaml",
        rule_id: str = "pw-zh-test-rule-001",
        severity: str = "high",
        exceptions: str = "",
        claim_scope: str = "",
        match: str = "[根治糖尿病, 糖尿病可以根治]",
        no_match: str = "[天气很好, 今天下雨]",
        folder: str = "disease_cure_claim",
        raw: str | None = None,
    ) -> Path:
        path = tmp_path / "packs" / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_text(textwrap.dedent(raw), encoding="utf-8")
            return path
        exc = ""
        if exceptions:
            exc = "exceptions:\n" + textwrap.indent(textwrap.dedent(exceptions).strip("\n"), "  ") + "\n"
        text = MINIMAL_RULE.format(
            id=rule_id,
            severity=severity,
            detection=textwrap.indent(textwrap.dedent(detection).strip("\n"), "  "),
            exceptions=exc,
            claim_scope=f"claim_scope: {claim_scope}\n" if claim_scope else "",
            match=match,
            no_match=no_match,
        )
        path.write_text(text, encoding="utf-8")
        return path

    return write
