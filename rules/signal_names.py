"""The signal names a rule may test (`signals:` selections and samples), built from their single sources.

Owns `KNOWN_SIGNALS` and `unknown_signal()`, which the loader uses to refuse a rule naming any other
signal: a typo would otherwise make the selection silently false, so the rule never fires. Sources:
the page signals (`rules.signals.PAGE_SIGNAL_KEYS`, computed for every document) and the reference
signals (`rules.reference.checks.SIGNAL_KEYS`), which the crawler's analysis pipeline and `check` pass
to `RuleSet.analyse`; nothing else adds signals before the rules run. Signals set after the rules have
run are not testable: the second opinion's `model_*` and the long-document bookkeeping.
"""

from __future__ import annotations

import difflib
from typing import Final

from rules.reference.checks import SIGNAL_KEYS as REFERENCE_SIGNAL_KEYS
from rules.signals import PAGE_SIGNAL_KEYS

#: Every signal a rule may test.
KNOWN_SIGNALS: Final[frozenset[str]] = frozenset(PAGE_SIGNAL_KEYS) | frozenset(REFERENCE_SIGNAL_KEYS)
#: Signals added to an analysis after the rules ran (`rules.evaluate` for long documents).
AFTER_RULES_SIGNALS: Final[frozenset[str]] = frozenset({"analysed_windows", "text_cut_at", "analysis_stopped"})


def unknown_signal(name: str) -> str:
    """Why `name` cannot be tested, with the closest known name and the list of known ones."""
    if name.startswith("model_") or name in AFTER_RULES_SIGNALS:
        why = f"signal {name!r} is set after the rules have run (second opinion or long-document bookkeeping)"
    else:
        why = f"unknown signal {name!r}"
        close = difflib.get_close_matches(name, KNOWN_SIGNALS, n=1)
        if close:
            why += f" (did you mean {close[0]!r}?)"
    return f"{why}; known signals: {', '.join(sorted(KNOWN_SIGNALS))}"


__all__ = ["AFTER_RULES_SIGNALS", "KNOWN_SIGNALS", "unknown_signal"]
