"""The text a rule pack is run against: one string plus the sections it was assembled from.

Owns `TextDocument` and `Section`. Offsets are into `TextDocument.text`; a rule only counts a hit
that lies inside a section whose scope it lists. No sections means the whole text is "body".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

#: Where a piece of text came from on a page; rule files name these in `scope`.
SCOPES: Final[tuple[str, ...]] = ("title", "meta", "body", "alt", "url", "ad", "ocr")


@dataclass(frozen=True)
class Section:
    """A slice `text[start:end]` of a document and the page part it came from."""

    scope: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}; expected one of {', '.join(SCOPES)}")
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad section bounds {self.start}..{self.end}")


@dataclass
class TextDocument:
    """Text to analyse. `sections` empty means the whole text is page body."""

    text: str
    sections: list[Section] = field(default_factory=list)

    @classmethod
    def from_parts(cls, parts: list[tuple[str, str]]) -> TextDocument:
        """Join `(scope, text)` parts with newlines and record a section for each non-empty part.

        The newline between parts also ends a sentence, so a claim in the title and a disease word
        in the body are never read as one phrase.
        """
        pieces: list[str] = []
        sections: list[Section] = []
        pos = 0
        for scope, text in parts:
            if not text:
                continue
            if pieces:
                pieces.append("\n")
                pos += 1
            sections.append(Section(scope, pos, pos + len(text)))
            pieces.append(text)
            pos += len(text)
        return cls("".join(pieces), sections)

    def head(self, max_chars: int) -> TextDocument:
        """The first `max_chars` characters, sections clipped; offsets stay those of the whole text."""
        if len(self.text) <= max_chars:
            return self
        sections = [Section(s.scope, s.start, min(s.end, max_chars)) for s in self.sections if s.start < max_chars]
        return TextDocument(self.text[:max_chars], sections)

    def window(self, start: int, end: int) -> TextDocument:
        """`text[start:end]` as a document of its own (offsets from `start`), sections clipped to it."""
        sections = [Section(s.scope, max(s.start, start) - start, min(s.end, end) - start)
                    for s in self.sections if s.start < end and s.end > start]
        return TextDocument(self.text[start:end], sections)

    def scope_at(self, start: int, end: int) -> str | None:
        """The scope of the section holding all of `[start, end)`, or None if no single one does."""
        if not self.sections:
            return "body"
        for section in self.sections:
            if section.start <= start and end <= section.end:
                return section.scope
        return None
