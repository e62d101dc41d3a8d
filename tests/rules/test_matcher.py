"""The matcher backends (Hyperscan, pyahocorasick) find exactly the same occurrences, and regex literals
left out of the automaton are found where the automaton would have found them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.matcher import AhoCorasickBackend, HyperscanBackend, TermMatcher, available_backends

KEYS = ["糖尿病", "糖尿", "尿病", "根治", "一", "丁", "cure", "7天", "mg", "药", "\u4e00\u4e01", "𠀀", "ā"]
ALPHABET = st.sampled_from(list("糖尿病根治一丁cure7天mg药 17x，。ā𠀀\u0100\u0101"))


def _matcher(backend: str) -> TermMatcher:
    matcher = TermMatcher(backend)
    for i, key in enumerate(KEYS):
        matcher.add(key, i, 0)
    matcher.add("cure*", 99, 0)
    matcher.build()
    return matcher


@pytest.mark.skipif(len(available_backends()) < 2, reason="hyperscan is not installed")
@given(st.text(alphabet=ALPHABET, max_size=80))
@settings(max_examples=300, deadline=None)  # two automata built per example: slow on a loaded machine
def test_backends_agree(text: str) -> None:
    hs, ac = _matcher("hyperscan"), _matcher("ahocorasick")
    a, b = hs.scan(text), ac.scan(text)
    assert {k: sorted(v) for k, v in a.clean.items()} == {k: sorted(v) for k, v in b.clean.items()}
    assert {k: sorted(v) for k, v in a.blocked.items()} == {k: sorted(v) for k, v in b.blocked.items()}


@pytest.mark.parametrize("backend", available_backends())
def test_word_boundaries_and_prefix_terms(backend: str) -> None:
    matcher = _matcher(backend)
    keys = {k.text: i for i, k in enumerate(matcher.keys)}
    result = matcher.scan("secure cures 17天 7天 丁一")
    assert keys["cure"] not in result.clean  # inside "secure", and "cures" continues the word
    assert result.blocked[keys["cure"]] == [(7, 11)]  # "cures": only prefix terms may use it
    assert result.clean[keys["7天"]] == [(17, 19)]  # not inside "17天"
    assert result.clean[keys["一"]] == [(21, 22)]  # 丁 (U+4E01) is not 一 (U+4E00)


def test_an_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="not available"):
        TermMatcher("nosuch")


HINTS = ["不", "治", "尿病", "aa", "cure", "𠀀", "\u0100", "一丁"]


@pytest.mark.parametrize("backend", available_backends())
@given(text=st.text(alphabet=st.sampled_from(list("不治尿病a cure一丁𠀀\u0100\u0101x")), max_size=80))
@settings(max_examples=200, deadline=None)
def test_hint_only_literals_are_found_where_the_automaton_finds_them(backend: str, text: str) -> None:
    # A literal only a regex needs is reported once per scan ("may occur"), not once per occurrence ...
    matcher = _matcher(backend)
    hint_ids = {literal: matcher.add_hint(literal) for literal in HINTS}
    matcher.build()
    assert matcher.is_hint_only(hint_ids["不"]) and not matcher.is_hint_only(hint_ids["cure"])
    # ... and its occurrences are found on demand exactly where the automaton finds them, overlaps included.
    automaton = (HyperscanBackend if backend == "hyperscan" else AhoCorasickBackend)(HINTS)
    expected: dict[str, list[tuple[int, int]]] = {}
    for index, end in automaton.occurrences(text):
        expected.setdefault(HINTS[index], []).append((end - len(HINTS[index]), end))
    scan = matcher.scan(text)
    for literal, key_id in hint_ids.items():
        if matcher.is_hint_only(key_id):
            assert key_id in scan.hint_only or literal not in expected, literal
            assert matcher.hint_spans(key_id, text) == sorted(expected.get(literal, [])), literal
        else:
            assert sorted(scan.hints.get(key_id, [])) == sorted(expected.get(literal, [])), literal
