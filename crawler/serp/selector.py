"""Selector strings of the engine specs: CSS or XPath, compiled once, evaluated with parsel.

A selector starting with ``/``, ``./``, ``../``, ``(`` or ``@`` is XPath, one starting with
``xpath:`` is forced XPath, anything else is CSS (parsel's ``::text`` and ``::attr(x)`` work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsel import Selector, SelectorList

_XPATH_STARTS = ("/", "./", "../", "(", "@")
_SPACES = re.compile(r"\s+")
# An empty document to check that a selector compiles when the spec is loaded, not mid-scan.
_PROBE = Selector(text="<html><body></body></html>")


@dataclass(frozen=True)
class Sel:
    """One compiled selector; ``source`` is the string as written in the YAML."""

    source: str
    xpath: bool
    expr: str

    def __call__(self, node: Selector) -> SelectorList[Selector]:
        return node.xpath(self.expr) if self.xpath else node.css(self.expr)


def compile_selector(source: str) -> Sel:
    """Compile one selector; raises ValueError with the parser's message when it is invalid."""
    text = source.strip()
    if not text:
        raise ValueError("empty selector")
    if text.startswith("xpath:"):
        sel = Sel(source, True, text[len("xpath:") :].strip())
    elif text.startswith(_XPATH_STARTS):
        sel = Sel(source, True, text)
    else:
        sel = Sel(source, False, text)
    try:
        sel(_PROBE)
    except Exception as exc:  # cssselect and lxml raise several unrelated types
        kind = "XPath" if sel.xpath else "CSS"
        raise ValueError(f"invalid {kind} selector {source!r}: {exc}") from exc
    return sel


def is_absolute(sel: Sel) -> bool:
    """An XPath starting with / searches the whole document even when evaluated on a result."""
    return sel.xpath and sel.expr.startswith("/")


def clean(text: str | None) -> str:
    """Collapse runs of whitespace (including NBSP and ideographic space) and trim."""
    return _SPACES.sub(" ", text or "").strip()


def node_text(node: Selector) -> str:
    """Text of a selected node: an element's full text (<em> flattened), or an attribute/text value."""
    if isinstance(node.root, str):
        return clean(node.root)
    return clean(node.xpath("string()").get())


def node_link(node: Selector) -> str:
    """A URL from a selected node: an attribute/text value, or an element's href."""
    if isinstance(node.root, str):
        return node.root.strip()
    return (node.attrib.get("href") or "").strip()


def first_text(node: Selector, sels: tuple[Sel, ...]) -> str | None:
    """First non-empty text any of the selectors yields, in the order they are listed."""
    for sel in sels:
        for match in sel(node):
            text = node_text(match)
            if text:
                return text
    return None


def first_link(node: Selector, sels: tuple[Sel, ...]) -> str | None:
    for sel in sels:
        for match in sel(node):
            link = node_link(match)
            if link:
                return link
    return None


def all_texts(node: Selector, sels: tuple[Sel, ...]) -> list[str]:
    out: list[str] = []
    for sel in sels:
        for match in sel(node):
            text = node_text(match)
            if text and text not in out:
                out.append(text)
    return out


def matches(node: Selector, sels: tuple[Sel, ...]) -> bool:
    return any(len(sel(node)) > 0 for sel in sels)
