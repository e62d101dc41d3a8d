"""What the classifier reads: character n-grams of normalised text, and the passages a page is cut into.

Character n-grams need no word segmentation (Chinese has no spaces) and survive spelling games
(traditional characters, full-width forms, inserted symbols are folded by `rules.normalise` first,
as for the rules). The corpus the model learns from holds passages of a sentence to a paragraph, so
a page is scored passage by passage (`passages`), never as one long text in which a single claim
would be diluted by menus and footers.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml

from rules.normalise import normalise

#: Broad health-domain cues (reviewed data): the model judges only passages that contain one.
HEALTH_DOMAIN_PATH: Final = Path(__file__).with_name("health_domain.yaml")
#: n-gram lengths (characters). 1–3 covers Chinese words and English sub-words.
NGRAM_SIZES: Final = (1, 2, 3)
#: A passage grows sentence by sentence up to this many characters (most corpus items are shorter).
PASSAGE_CHARS: Final = 300
#: A sentence at least this long that does not speak of health breaks passages (`off_topic`).
OFF_TOPIC_CHARS: Final = 40

_WS_RE: Final = re.compile(r"\s+")
# Addresses name a site, not what it says: one placeholder each, so that a model trained on spam that
# links to shops does not learn "a URL is a violation".
_ADDRESS_RE: Final = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|cn|test|info|biz)\b\S*",
    re.I,
)
# Sentence ends in both languages; the end character stays with its sentence.
_SENTENCE_END_RE: Final = re.compile(r"[。！？!?；;\n]+|\.(?=\s)")


def folded(text: str) -> str:
    """`text` as the classifier reads it: the rules' normalisation, lower-cased, addresses as one placeholder."""
    return _WS_RE.sub(" ", _ADDRESS_RE.sub(" \u2318 ", normalise(text).text.lower())).strip()


def ngrams(text: str) -> list[str]:
    """The character n-grams of `folded(text)`."""
    return grams_of_folded(folded(text))


def grams_of_folded(folded_text: str) -> list[str]:
    """The character n-grams of a text already folded: all 1-grams, then 2-grams, then 3-grams."""
    # Each size is the previous one extended by one character: string concatenation in C, not slicing in Python.
    grams: list[str] = []
    current: list[str] = list(folded_text)
    for n in range(1, NGRAM_SIZES[-1] + 1):
        if n > 1:
            current = list(map(operator.add, current[:-1], folded_text[n - 1 :]))
        if n in NGRAM_SIZES:
            grams.extend(current)
    return grams


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, without end characters and surrounding whitespace (blank ones dropped)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in [*_SENTENCE_END_RE.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = m.end() if m else end
    return spans


def passages(text: str, limit: int = PASSAGE_CHARS,
             breaks: Callable[[str], bool] | None = None) -> list[tuple[int, int]]:
    """Overlapping spans of consecutive sentences, each up to `limit` characters (a longer sentence is cut).

    Each passage after the first starts with the last sentence of the one before, so a claim that
    straddles two sentences is read whole at least once. A sentence for which `breaks` is true
    belongs to no passage and no passage spans it (see `off_topic`).
    """
    runs: list[list[tuple[int, int]]] = [[]]
    for start, end in sentences(text):
        if breaks is not None and breaks(text[start:end]):
            runs.append([])
            continue
        runs[-1].extend((a, min(a + limit, end)) for a in range(start, end, limit))
    return [span for run in runs for span in _packed(run, limit)]


def off_topic(sentence: str) -> bool:
    """A sentence long enough to stand on its own that does not speak of health: it breaks passages, so that
    a page's menus, news or comments around a claim do not dilute the claim's passage. Short ones
    ("三天见效", "Call now") stay: they are part of the claim around them."""
    # Most sentences name their health word as written; folding (traditional script, full-width, evasions)
    # is needed only to be sure of the others.
    return (len(sentence) >= OFF_TOPIC_CHARS and not about_health(sentence.lower())
            and not about_health(folded(sentence)))


def _packed(pieces: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    result: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        start, end = pieces[i]
        j = i + 1
        while j < len(pieces) and pieces[j][1] - start <= limit:
            end = pieces[j][1]
            j += 1
        result.append((start, end))
        if j >= len(pieces):
            break
        i = j - 1 if j - 1 > i else j
    return result


@lru_cache(maxsize=1)
def _health_domain_re() -> re.Pattern[str]:
    cues = yaml.safe_load(HEALTH_DOMAIN_PATH.read_text(encoding="utf-8"))
    zh = "|".join(re.escape(c) for c in sorted(cues["zh"], key=len, reverse=True))
    en = "|".join(re.escape(c) for c in sorted(cues["en"], key=len, reverse=True))
    return re.compile(f"{zh}|\\b(?:{en})")


def about_health(folded_text: str) -> bool:
    """Does the (folded) passage speak of medicine, disease, the body or health products at all?"""
    return _health_domain_re().search(folded_text) is not None
