"""The `condition` language of rule files: parsing and evaluation.

Grammar (Sigma-like), lowest precedence first:
    expr   := and ("or" and)*
    and    := unary ("and" unary)*
    unary  := "not" unary | "(" expr ")" | quant | NAME
    quant  := (INT | "all" | "any") "of" (PREFIX* | NAME | "them")
Evaluation returns truth plus the spans that made it true, so a finding can show its evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

Span = tuple[int, int]
#: Looks up a selection by name: (is it true, the spans it matched).
Lookup = Callable[[str], tuple[bool, list[Span]]]

_TOKEN_RE = re.compile(r"\s*(?:(\()|(\))|(\d+)|([A-Za-z_][A-Za-z0-9_]*\*?)|(\S))")
_KEYWORDS = {"and", "or", "not", "of", "all", "any", "them"}


class ConditionError(ValueError):
    """A condition that does not parse or names selections that do not exist."""


class Node:
    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        raise NotImplementedError

    def names(self) -> set[str]:
        """Every selection name the node refers to."""
        raise NotImplementedError

    def positive_names(self, negated: bool = False) -> set[str]:
        """Names whose matches count as evidence (not under an odd number of `not`)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Name(Node):
    name: str

    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        return lookup(self.name)

    def names(self) -> set[str]:
        return {self.name}

    def positive_names(self, negated: bool = False) -> set[str]:
        return set() if negated else {self.name}


@dataclass(frozen=True)
class Not(Node):
    child: Node

    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        ok, _ = self.child.evaluate(lookup)
        return (not ok, [])

    def names(self) -> set[str]:
        return self.child.names()

    def positive_names(self, negated: bool = False) -> set[str]:
        return self.child.positive_names(not negated)


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        spans: list[Span] = []
        for child in self.children:
            ok, child_spans = child.evaluate(lookup)
            if not ok:
                return (False, [])
            spans.extend(child_spans)
        return (True, spans)

    def names(self) -> set[str]:
        return set().union(*(c.names() for c in self.children))

    def positive_names(self, negated: bool = False) -> set[str]:
        return set().union(*(c.positive_names(negated) for c in self.children))


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        any_ok = False
        spans: list[Span] = []
        # Every true branch contributes evidence, not only the first.
        for child in self.children:
            ok, child_spans = child.evaluate(lookup)
            if ok:
                any_ok = True
                spans.extend(child_spans)
        return (any_ok, spans)

    def names(self) -> set[str]:
        return set().union(*(c.names() for c in self.children))

    def positive_names(self, negated: bool = False) -> set[str]:
        return set().union(*(c.positive_names(negated) for c in self.children))


@dataclass(frozen=True)
class OfQuantifier(Node):
    """`N of sel_*`, `all of them`, `any of sel_*`: count true selections among `members`."""

    count: int | None  # None means all
    members: tuple[str, ...]

    def evaluate(self, lookup: Lookup) -> tuple[bool, list[Span]]:
        true = 0
        spans: list[Span] = []
        for name in self.members:
            ok, member_spans = lookup(name)
            if ok:
                true += 1
                spans.extend(member_spans)
        needed = len(self.members) if self.count is None else self.count
        return (true >= needed, spans if true >= needed else [])

    def names(self) -> set[str]:
        return set(self.members)

    def positive_names(self, negated: bool = False) -> set[str]:
        return set() if negated else set(self.members)


class _Parser:
    def __init__(self, text: str, selection_names: Iterable[str]):
        self.text = text
        self.selection_names = list(selection_names)
        self.tokens = self._tokenise(text)
        self.pos = 0

    @staticmethod
    def _tokenise(text: str) -> list[str]:
        tokens: list[str] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if m is None:  # only trailing whitespace is left
                break
            if m.group(5) is not None:
                raise ConditionError(f"unexpected character {m.group(5)!r} in condition")
            tokens.append(next(g for g in m.groups()[:4] if g is not None))
            pos = m.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise ConditionError("condition ends too early" + (f"; expected {expected!r}" if expected else ""))
        if expected is not None and token != expected:
            raise ConditionError(f"expected {expected!r} but found {token!r}")
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionError("condition is empty")
        node = self.parse_or()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()!r} after a complete condition")
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek() == "or":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.peek() == "and":
            self.take()
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise ConditionError("condition ends too early; expected a selection name")
        if token == "not":
            self.take()
            return Not(self.parse_unary())
        if token == "(":
            self.take()
            node = self.parse_or()
            self.take(")")
            return node
        if token.isdigit() or token in ("all", "any"):
            return self.parse_quantifier()
        if token in _KEYWORDS or token == ")":
            raise ConditionError(f"unexpected {token!r}; expected a selection name")
        self.take()
        if token.endswith("*"):
            raise ConditionError(f"pattern {token!r} is only allowed after 'N of'")
        if token not in self.selection_names:
            raise ConditionError(f"condition names undefined selection {token!r}")
        return Name(token)

    def parse_quantifier(self) -> Node:
        token = self.take()
        count: int | None = None if token == "all" else 1 if token == "any" else int(token)
        self.take("of")
        target = self.take()
        if target == "them":
            members = list(self.selection_names)
        elif target.endswith("*") or target not in _KEYWORDS:
            members = [n for n in self.selection_names if fnmatchcase(n, target)]
        else:
            raise ConditionError(f"expected a selection pattern after 'of', found {target!r}")
        if not members:
            raise ConditionError(f"{target!r} matches no selection")
        if count is not None and count < 1:
            raise ConditionError("'0 of' is always true; use a count of at least 1")
        if count is not None and count > len(members):
            raise ConditionError(f"'{count} of {target}' can never be true: only {len(members)} selections match")
        return OfQuantifier(count, tuple(members))


def parse_condition(text: str, selection_names: Iterable[str]) -> Node:
    """Parse `text`; names must come from `selection_names`. Raises ConditionError."""
    return _Parser(text, selection_names).parse()
