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


def node_text(node: Selector, skip: frozenset[int] = frozenset()) -> str:
    """Text of a selected node: an element's full text (<em> flattened), or an attribute/text value.

    ``skip`` holds ``id()``s of elements inside the node whose text (not their tail) is left out; a
    node that is itself in ``skip`` keeps its text (a selector that names an ignored element wants it:
    m.baidu.com's abstract sits inside the title link and is ignored for the title, not the snippet).
    """
    root = node.root
    if isinstance(root, str):
        return clean(root)
    if not skip:
        return clean(node.xpath("string()").get())
    return clean(_text_without(root, skip - {id(root)}))


def _text_without(element: object, skip: frozenset[int]) -> str:
    parts = [getattr(element, "text", None) or ""]
    for child in element:  # type: ignore[attr-defined]
        # Comments and processing instructions have a non-string tag: only their tail is text.
        if isinstance(child.tag, str) and id(child) not in skip:
            parts.append(_text_without(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def node_link(node: Selector) -> str:
    """A URL from a selected node: an attribute/text value, or an element's href."""
    if isinstance(node.root, str):
        return node.root.strip()
    return (node.attrib.get("href") or "").strip()


def first_text(node: Selector, sels: tuple[Sel, ...], skip: frozenset[int] = frozenset()) -> str | None:
    """First non-empty text any of the selectors yields, in the order they are listed."""
    for sel in sels:
        for match in sel(node):
            text = node_text(match, skip)
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


def all_links(node: Selector, sels: tuple[Sel, ...]) -> list[str]:
    """Every non-empty link the selectors yield, in the order they are listed."""
    return [link for sel in sels for match in sel(node) if (link := node_link(match))]


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
