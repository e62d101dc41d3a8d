"""The rule engine: rule packs as YAML data, normalised one-pass matching, findings with evidence.

Public API (other layers import only these names): `TextDocument`, `Section`, `RuleSet`,
`RuleHit`, `Analysis`, `RulePackError`, `load_ruleset`, `page_signals`. For the CLI:
`rules.selftest.run_embedded_tests` (rules test), `rules.lint.lint_packs` (rules lint), and
`load_ruleset().rules` (rules list; attributes documented on `rules.model.Rule`).
"""

from rules.document import Section, TextDocument
from rules.engine import RuleSet, load_ruleset
from rules.model import Analysis, RuleHit, RulePackError
from rules.signals import page_signals

__all__ = [
    "Analysis",
    "RuleHit",
    "RulePackError",
    "RuleSet",
    "Section",
    "TextDocument",
    "load_ruleset",
    "page_signals",
]
