"""The regex-literal parser gives the hints CPython's own (private) regex parser led to.

`rules.regex_literals` replaced an analysis of `re._parser` trees. The reference below is that
analysis, kept only here as an oracle: where the private module still exists, every shipped regex
and a set of tricky constructs must get the same hint from both.
"""

from __future__ import annotations

import random
import re

import pytest

from rules import load_ruleset
from rules.regex_literals import (
    UNBOUNDED_REPEAT,
    RegexHint,
    anchored_matches,
    lead_starts,
    parse,
    regex_hint,
    regex_leads,
)

sre_parser = pytest.importorskip("re._parser")
sre = pytest.importorskip("re._constants")


def _reference_literals(items: list) -> list[frozenset[str]]:  # type: ignore[type-arg]
    found: list[frozenset[str]] = []
    run = ""
    for op, av in items:
        if op is sre.LITERAL:
            run += chr(av)
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        if op is sre.SUBPATTERN:
            found += _reference_literals(list(av[3]))
        elif op is sre.BRANCH:
            alternatives = [_reference_literals(list(alt)) for alt in av[1]]
            if alternatives and all(alternatives):
                found.append(frozenset().union(*(max(alt, key=_selectivity) for alt in alternatives)))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            found += _reference_literals(list(av[2]))
    if run:
        found.append(frozenset({run}))
    return found


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    return (min(map(len, literals)), -len(literals))


def _reference_width(items: list) -> int | None:  # type: ignore[type-arg]
    total = 0
    for op, av in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            total += 1
        elif op is sre.SUBPATTERN:
            inner = _reference_width(list(av[3]))
            if inner is None:
                return None
            total += inner
        elif op is sre.BRANCH:
            widths = [_reference_width(list(alt)) for alt in av[1]]
            if any(w is None for w in widths):
                return None
            total += max(w for w in widths if w is not None)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            inner = _reference_width(list(av[2]))
            if inner is None:
                return None
            total += inner * (UNBOUNDED_REPEAT if av[1] is sre.MAXREPEAT else av[1])
        elif op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        else:
            return None
    return total


def _reference_hint(pattern: re.Pattern[str]) -> RegexHint | None:
    parsed = sre_parser.parse(pattern.pattern, pattern.flags)
    options = [s for s in _reference_literals(list(parsed)) if s and all(s)]
    if not options:
        return None
    width = _reference_width(list(parsed))
    if width is not None and width > 400:
        width = None
    return RegexHint(frozenset(lit.lower() for lit in max(options, key=_selectivity)), width)


TRICKY = [
    "(?:ab|ac)d", "(?:a|b)cd", "x(?i:abc)y", "(?i)abc", "ab*+c", "(?>ab)c", "(covid|covid-19|covid19)\\s+x",
    "[:]xy", "[^:]xy", "\\bfda\\b(?![- ](a|b))", "(?<!evaluated by )fda", "a\\u4e00b\\x41", "\\N{BULLET}xx",
    "[a-]bb", "[\\d]x|[\\d]y", "\\d+x|\\d+y", "(ab)+cd", "(?:ab)+cd", "(?:ab){2}cd", "ab(?#c)d", "(?P<n>ab)cd",
    "[\\]a]bc", "[]a]bc", "a{}b", "a{,3}b", "a{2,}bc", "q{3,2x", "a|b|cd", "(x|y)|(z)", "(?x) a b # c\n d",
]


def test_every_shipped_regex_gets_the_hint_the_private_parser_gave() -> None:
    patterns = {
        p
        for rule in load_ruleset().rules
        for sel in [*rule.selections.values(), *(e.selection for e in rule.exceptions.values())]
        for p in getattr(sel, "regex", ())
    }
    patterns |= {re.compile(p, re.IGNORECASE) for p in TRICKY}
    assert len(patterns) > 100
    for pattern in patterns:
        assert regex_hint(pattern) == _reference_hint(pattern), pattern.pattern


def random_regex(rng: random.Random, atoms: list[str], cuts: tuple[float, float, float], quantifiers: list[str],
                 depth: int = 0) -> str:
    """A random pattern of atoms, groups, lookarounds and quantifiers (`cuts`: where an atom, a group and a
    lookaround stop being chosen); it may not compile."""
    out = ""
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < cuts[0] or depth > 3:
            out += rng.choice(atoms)
        elif r < cuts[1]:
            out += rng.choice(["(", "(?:"]) + "|".join(
                random_regex(rng, atoms, cuts, quantifiers, depth + 1) for _ in range(rng.randint(1, 3))) + ")"
        elif r < cuts[2]:
            out += rng.choice(["(?=", "(?!", "(?<!"]) + rng.choice(["a", "ab", "\\d"]) + ")"
        else:
            out += "(?:" + random_regex(rng, atoms, cuts, quantifiers, depth + 1) + ")"
        if rng.random() < 0.3 and out[-1] not in "^$b{":
            out += rng.choice(quantifiers)
    return out


def test_random_patterns_get_the_hint_the_private_parser_gave() -> None:
    atoms = ["a", "b", "ab", "药", "\\d", "\\s", "\\.", "[ab]", "[^a]", "[a-c]", "[:]", ".", "\\b", "^", "$", "{"]
    rng = random.Random(5)

    def gen() -> str:
        return random_regex(rng, atoms, (0.5, 0.7, 0.8), ["*", "+", "?", "{2}", "{1,3}", "{,2}", "{0,4}?", "*?"])

    checked = 0
    for _ in range(3000):
        try:
            pattern = re.compile(gen(), re.IGNORECASE)
        except re.error:
            continue
        checked += 1
        assert regex_hint(pattern) == _reference_hint(pattern), pattern.pattern
    assert checked > 1000


def test_constructs_outside_the_subset_get_no_hint() -> None:
    # A back reference or a conditional group: the regex is then searched in the whole text.
    assert regex_hint(re.compile(r"(ab)\1cd")) is None
    assert regex_hint(re.compile(r"(a)?(?(1)bc|de)")) is None
    assert parse("ab")  # the subset itself parses


# -- leads: the literals every match starts with ------------------------------------------------------


def test_leads_are_what_every_match_starts_with() -> None:
    assert regex_leads(re.compile("(服用|服了|吃了?)[^,。]{0,8}见效")) == {"服用", "服了", "吃"}
    assert regex_leads(re.compile("(?<![a-z])(v|vx|wx)\\s*:", re.IGNORECASE)) == {"v", "wx"}
    assert regex_leads(re.compile("(胰岛素)?降糖药")) == {"胰岛素", "降糖药"}
    assert regex_leads(re.compile("[一二三]+个月")) == {"一", "二", "三"}
    assert regex_leads(re.compile("Viagra", re.IGNORECASE)) == {"viagra"}
    # A category, a negated class or any character may start a match anywhere: no leads.
    assert regex_leads(re.compile("(\\d+|[一二]+)天")) is None
    assert regex_leads(re.compile("[^a]b")) is None
    assert regex_leads(re.compile("a?")) is None


def _texts(rng: random.Random, alphabet: str, count: int) -> list[str]:
    # Short texts: a random pattern may nest repeats, which backtrack exponentially in `re` itself.
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(count)]


def test_a_regex_tried_only_at_its_leads_finds_what_finditer_finds() -> None:
    """On random patterns and texts, and on every shipped regex over texts made of its own pieces."""
    atoms = ["a", "b", "ab", "药", "\\d", "\\s", "[ab]", "[^a]", "[a-c]", ".", "\\b", "^", "$"]
    rng = random.Random(7)

    def gen() -> str:
        return random_regex(rng, atoms, (0.55, 0.75, 0.85), ["*", "+", "?", "{2}", "{1,3}", "{0,4}?", "*?"])

    checked = 0
    for _ in range(1000):
        try:
            pattern = re.compile(gen(), re.IGNORECASE)
        except re.error:
            continue
        leads = regex_leads(pattern)
        if leads is None:
            continue
        checked += 1
        for text in _texts(rng, "aab药1 b.", 10):
            expected = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            assert anchored_matches(pattern, text, lead_starts(text, leads)) == expected, (pattern.pattern, text)
    assert checked > 150
    shipped = {
        p
        for rule in load_ruleset().rules
        for sel in [*rule.selections.values(), *(e.selection for e in rule.exceptions.values())]
        for p in getattr(sel, "regex", ())
    }
    with_leads = [(p, leads) for p in shipped if (leads := regex_leads(p)) is not None]
    assert len(with_leads) > 150
    for pattern, leads in with_leads:
        # Pieces of the pattern's own source make texts on which it often matches.
        pieces = [w for w in re.split(r"[()|?*+\[\]{}\\^$]", pattern.pattern) if w] + ["1", "。", " ", "的"]
        for _ in range(10):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))).lower()
            expected = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            assert anchored_matches(pattern, text, lead_starts(text, leads)) == expected, (pattern.pattern, text)
