"""Text normalisation that defeats common evasions, with a map back to the original offsets.

Owns `normalise()` and `NormalisedText`. The steps, in order: per-character NFKC + case folding
(full-width → half-width, ① → 1), removal of zero-width/format characters, traditional →
simplified Chinese (OpenCC `t2s`), and removal of filler symbols or spaces placed between two CJK
characters (根.治.糖.尿.病, 降 糖, 根*治). Every normalised character remembers the original
characters it came from, so a match can be reported and highlighted in the page as captured.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Final

import opencc

# CJK Unified Ideographs, Extension A and the compatibility block (NFKC folds most of the latter).
CJK_CLASS: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE: Final = re.compile(f"[{CJK_CLASS}]")

# Runs of characters that NFKC + casefold leave untouched and that are never fillers on their own
# are copied in one slice; everything else goes through the per-character path. This keeps the
# common case (plain Chinese and lower-case ASCII) out of the Python-level loop.
_PLAIN_RE: Final = re.compile("[a-z0-9 \n\u4e00-\u9fff。、“”‘’《》【】]+")

# Symbols that evaders put between characters. Sentence and list punctuation (。，、！？；：) and
# brackets are deliberately absent: they separate words, and removing them would fuse neighbours
# ("痛、风湿" must not become "痛风湿").
_FILLER_CLASS: Final = (
    r"[^\S\n]"  # any whitespace except a line break
    r"|[.*·•・‧∙⋅#@$%^&_~|/\\\-+='\"`“”‘’～〜‐‑‒–—―]"
    r"|[\u2600-\u27bf\u2b00-\u2bff\U0001f300-\U0001faff]"  # dingbats, stars, hearts, emoji
)
# At most three filler characters: longer gaps are real separations, not a trick.
_FILLER_RUN_RE: Final = re.compile(f"(?<=[{CJK_CLASS}])(?:{_FILLER_CLASS}){{1,3}}(?=[{CJK_CLASS}])")

# Sentence ends after normalisation (full-width ！？； have become ASCII). A line break ends a
# sentence too: `TextDocument.from_parts` joins page parts with one.
_SENTENCE_END_RE: Final = re.compile(r"[。!?;\n]|\.(?=\s|$)")

_CHAR_CACHE: dict[str, str] = {}
_CONVERTER_LOCK = threading.Lock()
_converter: opencc.OpenCC | None = None


def t2s(text: str) -> str:
    """OpenCC traditional → simplified conversion (may change length; see `_to_simplified`)."""
    global _converter
    if _converter is None:
        with _CONVERTER_LOCK:
            if _converter is None:
                _converter = opencc.OpenCC("t2s")
    return _converter.convert(text)


def _map_char(ch: str) -> str:
    """NFKC + casefold one character; '' for characters that only hide things."""
    cached = _CHAR_CACHE.get(ch)
    if cached is not None:
        return cached
    category = unicodedata.category(ch)
    if ch == "\n":
        out = "\n"
    elif ch == "\r":
        out = "\n"
    elif category == "Cs":  # a lone surrogate: cannot be encoded for OpenCC
        out = "\ufffd"
    elif category == "Cf" or "\ufe00" <= ch <= "\ufe0f":  # zero-width, BOM, variation selectors
        out = ""
    elif category == "Cc":
        out = " "
    else:
        out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
        if out.isspace():
            out = " "
        elif out and any(unicodedata.category(c) in ("Cs", "Cc", "Cf") for c in out):
            out = " "
    if len(_CHAR_CACHE) < 200_000:  # bounded: hostile pages may use many distinct code points
        _CHAR_CACHE[ch] = out
    return out


@dataclass
class NormalisedText:
    """Normalised text plus, for each of its characters, the original span it came from."""

    original: str
    text: str
    starts: array
    ends: array
    _sentence_ends: list[int] | None = field(default=None, repr=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span `[start, end)` to the original text."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return (pos, pos)
        return (self.starts[start], self.ends[end - 1])

    def sentence_of(self, pos: int) -> int:
        """An id that is equal for two positions exactly when no sentence end lies between them."""
        if self._sentence_ends is None:
            self._sentence_ends = [m.start() for m in _SENTENCE_END_RE.finditer(self.text)]
        return bisect_left(self._sentence_ends, pos)


def _per_char(text: str, lo: int, hi: int, out: list[str], starts: array, ends: array) -> None:
    for i in range(lo, hi):
        mapped = _map_char(text[i])
        if not mapped:
            continue
        out.append(mapped)
        starts.extend([i] * len(mapped))
        ends.extend([i + 1] * len(mapped))


def _fold(text: str) -> tuple[str, array, array]:
    out: list[str] = []
    starts = array("q")
    ends = array("q")
    pos = 0
    for m in _PLAIN_RE.finditer(text):
        a, b = m.span()
        if a > pos:
            _per_char(text, pos, a, out, starts, ends)
        out.append(m.group())
        starts.extend(range(a, b))
        ends.extend(range(a + 1, b + 1))
        pos = b
    if pos < len(text):
        _per_char(text, pos, len(text), out, starts, ends)
    return "".join(out), starts, ends


def _to_simplified(text: str) -> str:
    """Traditional → simplified without changing the length, so the offset map stays exact.

    OpenCC converts phrases, which occasionally changes length. When a whole line would change
    length, that line is converted character by character, and a character whose conversion would
    change length is kept as it was (conservative: a missed conversion, never a wrong offset).
    """
    if not _CJK_RE.search(text):
        return text
    converted = t2s(text)
    if len(converted) == len(text):
        return converted
    lines = text.split("\n")
    fixed: list[str] = []
    for line in lines:
        conv = t2s(line)
        if len(conv) != len(line):
            conv = "".join(c2 if len(c2 := t2s(c)) == 1 else c for c in line)
        fixed.append(conv)
    return "\n".join(fixed)


def _drop_fillers(text: str, starts: array, ends: array) -> tuple[str, array, array]:
    runs = [m.span() for m in _FILLER_RUN_RE.finditer(text)]
    if not runs:
        return text, starts, ends
    pieces: list[str] = []
    new_starts = array("q")
    new_ends = array("q")
    pos = 0
    for a, b in runs:
        pieces.append(text[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        pos = b
    pieces.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(pieces), new_starts, new_ends


def normalise(text: str) -> NormalisedText:
    """Normalise `text` for matching; see the module docstring for the steps."""
    folded, starts, ends = _fold(text)
    simplified = _to_simplified(folded)
    final, starts, ends = _drop_fillers(simplified, starts, ends)
    return NormalisedText(original=text, text=final, starts=starts, ends=ends)


def normalise_term(term: str) -> str:
    """The form a rule term is matched in: the same normalisation as page text, trimmed."""
    return normalise(term).text.strip()


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None
