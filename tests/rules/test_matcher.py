"""The matcher backends (Hyperscan, pyahocorasick) find exactly the same occurrences."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.matcher import TermMatcher, available_backends

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
@settings(max_examples=300)
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
