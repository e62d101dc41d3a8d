"""A finding's excerpt: every span it rests on visible, with context, ellipses where text was left out.

A monitor reads the excerpt instead of the page, so the phrase that decides a finding must be in
it (a no-prescription finding whose excerpt stops before "无需处方" proves nothing). Spans close to
each other share one window; windows are joined by " … "; a window never starts or ends inside a
Latin word or number; whitespace runs become one space.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

#: Characters of context on each side of a span (or of a group of close spans).
EXCERPT_CONTEXT: Final = 40
#: At most this many windows; spans past them are counted, not shown (a page repeating a claim
#: a thousand times needs one window, not a thousand).
MAX_WINDOWS: Final = 6
ELLIPSIS: Final = "…"

_WS_RE: Final = re.compile(r"\s+")
_WORD_CHAR: Final = re.compile(r"[A-Za-z0-9]")
_MAX_WORD_STRETCH: Final = 20  # give up widening to a word boundary after this many characters


def excerpt_around(text: str, spans: Sequence[tuple[int, int]], context: int = EXCERPT_CONTEXT) -> str:
    """The excerpt of `text` showing every span of `spans` (offsets into `text`) with `context`."""
    spans = sorted((max(0, a), min(len(text), b)) for a, b in spans if b > a)
    if not spans:
        return _clean(text[: 2 * context]) + (ELLIPSIS if len(text) > 2 * context else "")
    windows: list[list[int]] = []
    for start, end in spans:
        if windows and start - windows[-1][1] <= 2 * context:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    shown, hidden = windows[:MAX_WINDOWS], len(windows) - MAX_WINDOWS
    parts: list[str] = []
    for i, (start, end) in enumerate(shown):
        left = _word_start(text, max(0, start - context))
        right = _word_end(text, min(len(text), end + context))
        if i == 0 and left > 0:
            parts.append(ELLIPSIS)
        elif i > 0:
            parts.append(f" {ELLIPSIS} ")
        parts.append(_clean(text[left:right]))
        if i == len(shown) - 1 and (right < len(text) or hidden > 0):
            parts.append(ELLIPSIS)
    if hidden > 0:
        parts.append(f" (+{hidden})")
    return "".join(parts)


def _clean(window: str) -> str:
    return _WS_RE.sub(" ", window).strip()


def _word_start(text: str, i: int) -> int:
    """`i`, moved left to the start of the Latin word or number it falls inside (if it does)."""
    stop = max(0, i - _MAX_WORD_STRETCH)
    j = i
    while j > stop and j < len(text) and _WORD_CHAR.match(text[j]) and _WORD_CHAR.match(text[j - 1]):
        j -= 1
    return j if j == 0 or not _WORD_CHAR.match(text[j - 1]) else i


def _word_end(text: str, i: int) -> int:
    """`i`, moved right to the end of the Latin word or number it falls inside (if it does)."""
    stop = min(len(text), i + _MAX_WORD_STRETCH)
    j = i
    while j < stop and j > 0 and _WORD_CHAR.match(text[j - 1]) and _WORD_CHAR.match(text[j]):
        j += 1
    return j if j == len(text) or not (_WORD_CHAR.match(text[j - 1]) and _WORD_CHAR.match(text[j])) else i
