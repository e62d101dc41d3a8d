"""What every match of a rule regex must contain, and how long a match can be, read from its source.

Owns `regex_hint()` and `RegexHint`, which let the engine search a regex only around occurrences
of its required literals, and `regex_leads()`: the literals one of which every match starts with, so
the engine tries the regex only where one of them starts. Python exposes no public syntax tree for
regexes (`re._parser` is CPython private), so this module parses the subset of syntax rule packs use
with its own small parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

#: An unbounded repeat (\s*, \d+) counts as at most this many characters when sizing windows.
UNBOUNDED_REPEAT: Final = 64
#: A regex whose longest match is longer than this is searched in the whole text.
MAX_WINDOWED_WIDTH: Final = 400
#: A character class at the start of a match gives one lead per character, up to this many.
MAX_CLASS_LEADS: Final = 32


@dataclass(frozen=True)
class RegexHint:
    """Literals one of which every match of a regex contains, and the regex's longest match."""

    literals: frozenset[str]
    max_width: int | None  # None: unbounded, so only the presence of a literal can be used


class UnsupportedSyntax(ValueError):
    """A construct this parser does not model; the regex then gets no hint (searched everywhere)."""


# -- syntax tree -----------------------------------------------------------------------------------
# Atoms that match one character are tuples, compared by value: ("lit", code point), ("notlit",
# code point), ("in", class items), ("any",), and ("at", kind) for zero-width anchors. Compound
# nodes (Group, Branch, Repeat, Lookaround, Opaque) are objects compared by identity. Both choices
# follow CPython's own parser, so alternatives are factored and merged exactly as there and the
# hints stay what they were when the engine read `re._parser`'s tree.

Atom = tuple[object, ...]


class Group:
    """A capturing group, or a non-capturing one with scoped flags; plain (?:…) is inlined."""

    def __init__(self, items: list[object], inlined: bool):
        self.items = items
        self.inlined = inlined


class Branch:
    def __init__(self, alternatives: list[list[object]]):
        self.alternatives = alternatives


class Repeat:
    def __init__(self, low: int, high: int | None, items: list[object]):
        self.low = low
        self.high = high  # None: unbounded
        self.items = items


class Lookaround:
    """(?=…), (?!…), (?<=…), (?<!…): zero width, never a required literal."""

    def __init__(self, items: list[object]):
        self.items = items


class Opaque:
    """A construct with unknown width and no literal contribution (back reference, atomic group)."""


_CATEGORY_ESCAPES: Final = frozenset("dDsSwW")
_ANCHOR_ESCAPES: Final = frozenset("AbBZ")
_CHAR_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_HEX_LENGTHS: Final = {"x": 2, "u": 4, "U": 8}
_OCTAL: Final = frozenset("01234567")


class _Parser:
    def __init__(self, source: str, verbose: bool):
        self.source = source
        self.pos = 0
        self.verbose = verbose

    def peek(self) -> str | None:
        return self.source[self.pos] if self.pos < len(self.source) else None

    def take(self) -> str:
        ch = self.source[self.pos]
        self.pos += 1
        return ch

    def accept(self, text: str) -> bool:
        if self.source.startswith(text, self.pos):
            self.pos += len(text)
            return True
        return False

    def alternation(self) -> list[object]:
        alternatives = [self.sequence()]
        while self.accept("|"):
            alternatives.append(self.sequence())
        if len(alternatives) == 1:
            return alternatives[0]
        out: list[object] = []
        # A prefix all alternatives share leaves the branch (sre does the same).
        while all(alternatives) and all(alt[0] == alternatives[0][0] for alt in alternatives):
            out.append(alternatives[0][0])
            for alt in alternatives:
                del alt[0]
        # Alternatives of one character each become one character class.
        merged: list[object] = []
        for alt in alternatives:
            if len(alt) != 1 or not isinstance(alt[0], tuple):
                break
            kind = alt[0][0]
            if kind == "lit":
                merged.append(alt[0])
            elif kind == "in" and not (alt[0][1] and alt[0][1][0] == ("negate",)):
                merged.extend(alt[0][1])
            else:
                break
        else:
            out.append(("in", tuple(dict.fromkeys(merged))))
            return out
        out.append(Branch(alternatives))
        return out

    def sequence(self) -> list[object]:
        items: list[object] = []
        while (ch := self.peek()) is not None and ch not in "|)":
            self.take()
            if self.verbose and ch in " \t\n\r\v\f":
                continue
            if self.verbose and ch == "#":
                end = self.source.find("\n", self.pos)
                self.pos = len(self.source) if end < 0 else end + 1
                continue
            if ch == "\\":
                items.append(self.escape())
            elif ch == "[":
                items.append(self.char_class())
            elif ch in "*+?{":
                self.repeat(ch, items)
            elif ch == ".":
                items.append(("any",))
            elif ch == "(":
                group = self.group()
                if group is not None:
                    items.append(group)
            elif ch == "^":
                items.append(("at", "beginning"))
            elif ch == "$":
                items.append(("at", "end"))
            else:
                items.append(("lit", ord(ch)))
        inlined: list[object] = []
        for item in items:
            if isinstance(item, Group) and item.inlined:
                inlined.extend(item.items)
            else:
                inlined.append(item)
        return inlined

    def repeat(self, ch: str, items: list[object]) -> None:
        low: int
        high: int | None
        if ch == "?":
            low, high = 0, 1
        elif ch == "*":
            low, high = 0, None
        elif ch == "+":
            low, high = 1, None
        else:
            start = self.pos
            lo = hi = ""
            while (d := self.peek()) is not None and d.isdigit() and d.isascii():
                lo += self.take()
            if self.accept(","):
                while (d := self.peek()) is not None and d.isdigit() and d.isascii():
                    hi += self.take()
            else:
                hi = lo
            if self.peek() == "}" and not (start == self.pos):
                self.take()
            else:  # not a quantifier: a literal brace
                self.pos = start
                items.append(("lit", ord("{")))
                return
            low = int(lo) if lo else 0
            high = int(hi) if hi else None
        last = items[-1]
        body = last.items if isinstance(last, Group) and last.inlined else [last]
        if self.accept("+"):
            items[-1] = Opaque()  # possessive
            return
        self.accept("?")  # lazy: same literals and width
        items[-1] = Repeat(low, high, body)

    def group(self) -> Group | Lookaround | Opaque | None:
        if not self.accept("?"):
            return self.closed(Group(self.alternation(), inlined=False))
        if self.accept(":"):
            return self.closed(Group(self.alternation(), inlined=True))
        if self.accept("P<"):
            self.pos = self.source.index(">", self.pos) + 1
            return self.closed(Group(self.alternation(), inlined=False))
        for opener in ("=", "!", "<=", "<!"):
            if self.accept(opener):
                return self.closed(Lookaround(self.alternation()))
        if self.accept("#"):
            self.pos = self.source.index(")", self.pos) + 1
            return None
        if self.accept(">"):
            self.closed(Group(self.alternation(), inlined=False))
            return Opaque()  # atomic group
        flags = ""
        while (ch := self.peek()) is not None and ch in "aiLmsux-":
            flags += self.take()
        if flags and self.accept(")"):
            if "x" in flags:
                self.verbose = True
            return None  # global flags: no item
        if flags and "x" not in flags and self.accept(":"):
            return self.closed(Group(self.alternation(), inlined=False))
        raise UnsupportedSyntax(f"group syntax at {self.pos}")  # (?P=name), (?(1)…)

    def closed(self, node: Group | Lookaround) -> Group | Lookaround:
        if not self.accept(")"):
            raise UnsupportedSyntax("unbalanced group")
        return node

    def _hex(self, length: int) -> int:
        digits = self.source[self.pos : self.pos + length]
        self.pos += length
        return int(digits, 16)

    def _code_point(self, letter: str) -> int:
        """The character an escape other than a category or anchor stands for."""
        if letter in _CHAR_ESCAPES:
            return ord(_CHAR_ESCAPES[letter])
        if letter in _HEX_LENGTHS:
            return self._hex(_HEX_LENGTHS[letter])
        if letter == "N":
            end = self.source.index("}", self.pos)
            name = self.source[self.pos + 1 : end]
            self.pos = end + 1
            return ord(unicodedata.lookup(name))
        if letter == "0":
            digits = ""
            while len(digits) < 2 and (d := self.peek()) is not None and d in _OCTAL:
                digits += self.take()
            return int(digits or "0", 8)
        if letter.isdigit():
            raise UnsupportedSyntax("back reference or octal escape")
        if letter.isascii() and letter.isalpha():
            raise UnsupportedSyntax(f"escape \\{letter}")
        return ord(letter)

    def escape(self) -> Atom:
        letter = self.take()
        if letter in _CATEGORY_ESCAPES:
            return ("in", (("category", letter),))
        if letter in _ANCHOR_ESCAPES:
            return ("at", letter)
        return ("lit", self._code_point(letter))

    def class_member(self, ch: str) -> Atom:
        if ch != "\\":
            return ("lit", ord(ch))
        letter = self.take()
        if letter in _CATEGORY_ESCAPES:
            return ("category", letter)
        return ("lit", self._code_point(letter))

    def char_class(self) -> Atom:
        negate = self.accept("^")
        members: list[Atom] = []
        while True:
            if self.peek() is None:
                raise UnsupportedSyntax("unterminated class")
            ch = self.take()
            if ch == "]" and members:
                break
            first = self.class_member(ch)
            if self.accept("-"):
                if self.peek() == "]":
                    self.take()
                    members += [first, ("lit", ord("-"))]
                    break
                second = self.class_member(self.take())
                if first[0] != "lit" or second[0] != "lit":
                    raise UnsupportedSyntax("range of a category")
                members.append(("range", first[1], second[1]))
            else:
                members.append(first)
        unique = tuple(dict.fromkeys(members))
        if len(unique) == 1 and unique[0][0] == "lit":
            return ("notlit", unique[0][1]) if negate else unique[0]
        return ("in", ((("negate",),) if negate else ()) + unique)


def parse(pattern: str, flags: int = 0) -> list[object]:
    """The syntax tree of `pattern`; raises `UnsupportedSyntax` for constructs outside the subset."""
    parser = _Parser(pattern, verbose=bool(flags & re.VERBOSE))
    try:
        items = parser.alternation()
    except (IndexError, ValueError, KeyError) as exc:
        if isinstance(exc, UnsupportedSyntax):
            raise
        raise UnsupportedSyntax(str(exc)) from exc
    if parser.pos != len(pattern):
        raise UnsupportedSyntax("unbalanced parenthesis")
    return items


# -- the analysis ----------------------------------------------------------------------------------


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    return (min(map(len, literals)), -len(literals))


def _required_literals(items: list[object]) -> list[frozenset[str]]:
    """Sets of literal strings such that every match of `items` contains one of each set."""
    found: list[frozenset[str]] = []
    run = ""
    for item in items:
        if isinstance(item, tuple) and item[0] == "lit":
            run += chr(item[1])  # type: ignore[arg-type]
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        if isinstance(item, Group):
            found += _required_literals(item.items)
        elif isinstance(item, Branch):
            alternatives = [_required_literals(alt) for alt in item.alternatives]
            if alternatives and all(alternatives):
                # Each alternative contributes its most selective set; a match holds one of the union.
                found.append(frozenset().union(*(max(alt, key=_selectivity) for alt in alternatives)))
        elif isinstance(item, Repeat) and item.low >= 1:
            found += _required_literals(item.items)
    if run:
        found.append(frozenset({run}))
    return found


def _max_width(items: list[object]) -> int | None:
    """Longest match of `items`, unbounded repeats counted as `UNBOUNDED_REPEAT`; None if unknown."""
    total = 0
    for item in items:
        if isinstance(item, tuple):
            if item[0] != "at":  # anchors have zero width
                total += 1
        elif isinstance(item, Branch):
            widths = [_max_width(alt) for alt in item.alternatives]
            if any(w is None for w in widths):
                return None
            total += max(w for w in widths if w is not None)
        elif isinstance(item, Group):
            inner = _max_width(item.items)
            if inner is None:
                return None
            total += inner
        elif isinstance(item, Repeat):
            inner = _max_width(item.items)
            if inner is None:
                return None
            total += inner * (UNBOUNDED_REPEAT if item.high is None else item.high)
        elif isinstance(item, Lookaround):
            continue  # zero width; look-aheads get a margin, look-behinds see the whole text
        else:
            return None
    return total


def regex_hint(pattern: re.Pattern[str]) -> RegexHint | None:
    """The most selective literal set of `pattern`, or None if its matches need no literal."""
    try:
        parsed = parse(pattern.pattern, pattern.flags)
    except UnsupportedSyntax:
        return None
    options = [s for s in _required_literals(parsed) if s and all(s)]
    if not options:
        return None
    width = _max_width(parsed)
    if width is not None and width > MAX_WINDOWED_WIDTH:
        width = None
    return RegexHint(frozenset(lit.lower() for lit in max(options, key=_selectivity)), width)


def _class_leads(members: tuple[object, ...]) -> set[str] | None:
    """The characters a (non-negated, category-free) class matches, or None if not a short list."""
    out: set[str] = set()
    for member in members:
        assert isinstance(member, tuple)
        if member[0] == "lit":
            out.add(chr(member[1]))  # type: ignore[arg-type]
        elif member[0] == "range" and member[2] - member[1] < MAX_CLASS_LEADS:  # type: ignore[operator]
            out.update(chr(cp) for cp in range(member[1], member[2] + 1))  # type: ignore[call-overload,operator]
        else:  # ("negate",), ("category", ...) or a long range
            return None
    return out if len(out) <= MAX_CLASS_LEADS else None


def _leads(items: list[object]) -> set[str] | None:
    """Literals one of which every match of the sequence `items` starts with; None when a match
    may start otherwise (with a category, a negated class, any character) or be empty."""
    for i, item in enumerate(items):
        rest = items[i + 1 :]
        if isinstance(item, Lookaround) or (isinstance(item, tuple) and item[0] == "at"):
            continue  # zero width: the match still starts with what follows
        if isinstance(item, tuple) and item[0] == "lit":
            run = ""
            for following in items[i:]:
                if not (isinstance(following, tuple) and following[0] == "lit"):
                    break
                run += chr(following[1])  # type: ignore[arg-type]
            return {run}
        if isinstance(item, tuple) and item[0] == "in":
            return _class_leads(item[1])  # type: ignore[arg-type]
        if isinstance(item, Group):
            return _leads(item.items + rest)
        if isinstance(item, Branch):
            out: set[str] = set()
            for alternative in item.alternatives:
                leads = _leads(alternative + rest)
                if leads is None:
                    return None
                out |= leads
            return out
        if isinstance(item, Repeat):
            body = _leads(item.items)
            if body is None or item.low >= 1:
                return body
            after = _leads(rest)  # an optional body: the match may start after it
            return None if after is None else body | after
        return None  # ("notlit", c), ("any",), Opaque
    return None  # an empty sequence matches the empty string


def regex_leads(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Literals one of which every match of `pattern` starts with (lower-cased, as the normalised text
    is case-folded), none a prefix of another; None if unknown. Trying `pattern.match` only where one
    starts finds what a search of the whole text finds."""
    try:
        leads = _leads(parse(pattern.pattern, pattern.flags))
    except UnsupportedSyntax:
        return None
    if not leads or not all(leads):
        return None
    folded = {lead.lower() for lead in leads} if pattern.flags & re.IGNORECASE else leads
    # Where "vx" starts, "v" starts too: the shorter literal alone lists every start.
    return frozenset(lead for lead in folded if not any(lead != o and lead.startswith(o) for o in folded))


def lead_starts(text: str, leads: frozenset[str]) -> list[int]:
    """Where one of `leads` starts in `text`, sorted (`str.find`: C speed, a Python step per occurrence)."""
    starts: set[int] = set()
    find = text.find
    for lead in leads:
        pos = find(lead)
        while pos >= 0:
            starts.add(pos)
            pos = find(lead, pos + 1)
    return sorted(starts)


def anchored_matches(
    pattern: re.Pattern[str], text: str, starts: list[int], limit: int | None = None,
) -> list[tuple[int, int]]:
    """The spans `pattern.finditer(text)` yields (non-empty ones, at most `limit`), when every match
    starts at one of the sorted `starts`: `pattern.match` is tried there only."""
    found: list[tuple[int, int]] = []
    match = pattern.match
    reached = 0
    for start in starts:
        # finditer resumes after a match: a start inside it begins no match of its own.
        if start < reached or (m := match(text, start)) is None:
            continue
        reached = m.end()
        if reached > start:
            found.append((start, reached))
            if limit is not None and len(found) >= limit:
                break
    return found


__all__ = ["MAX_CLASS_LEADS", "MAX_WINDOWED_WIDTH", "UNBOUNDED_REPEAT", "RegexHint", "UnsupportedSyntax",
           "anchored_matches", "lead_starts", "parse", "regex_hint", "regex_leads"]
