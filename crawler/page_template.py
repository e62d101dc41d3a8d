"""The page template a shop was built from: a coarse fingerprint of its HTML's structure, text and values dropped.

Owns `template_fingerprint()`. An operator who opens many shop domains builds them from one template and
changes the words, the products and the pictures; the skeleton (header, navigation, product grid, order
form, footer) stays. The fingerprint is the set of tag paths of the page's elements (`html/body/div/ul/li/a`:
each element's tag and its ancestors' tags; text, attributes and attribute values dropped), deduplicated
so that ten products or twelve give the same set, hashed (SHA-256 of the sorted paths). Scripts, styles,
inline text formatting (`b`, `strong`, `span`, `br`, ...) and paths below `MAX_DEPTH` are left out: they
follow the text and the pasted snippets, not the template.

Why an exact hash and not MinHash or a simhash: the operator-network index matches identifiers exactly by
(kind, value), and the spread rule counts the sites showing one value. A similarity hash would need
banding (several values per page, each adding its strength) and a threshold to tune; an exact hash of a
coarse structure is one value per template, so a seller's template shared by his shops matches, and a
common shop system's template, shared by hundreds of unrelated shops, is on more than `max_sites` sites
and links nothing. The cost is that a seller who edits his template's structure breaks the match: it is
weak evidence anyway (cases.networks gives it 0.4, so it only adds to other ties). A page with fewer than
`MIN_PATHS` distinct paths gets no fingerprint: a bare page's structure is shared by chance (the demo's
hand-written pages, 9 to 18 paths each, fall into a few shapes shared by unrelated sites; a real shop
template has well over a hundred).
"""

from __future__ import annotations

import hashlib
from typing import Final

import lxml.html
from lxml import etree

#: Elements whose subtree follows the text or pasted snippets, not the template.
IGNORED: Final = frozenset({
    "script", "style", "noscript", "template", "link", "meta", "base", "title",
    "br", "wbr", "b", "strong", "em", "i", "u", "s", "font", "small", "big", "sup", "sub", "span", "mark",
})  # fmt: skip
#: Paths are cut at this depth: deep nesting is pasted content (a supplier's product description).
MAX_DEPTH: Final = 12
#: A page with fewer distinct tag paths than this has no fingerprint (too little structure to tell).
MIN_PATHS: Final = 30


def tag_paths(html: str) -> frozenset[str]:
    """The distinct tag paths of the page's elements (without the ignored ones), e.g. `html/body/div/p`."""
    try:
        root = lxml.html.document_fromstring(html.encode("utf-8", errors="replace"))
    except (etree.ParserError, ValueError):
        return frozenset()
    paths: set[str] = set()
    stack: list[tuple[etree._Element, str, int]] = [(root, str(root.tag).lower(), 1)]
    while stack:
        element, path, depth = stack.pop()
        paths.add(path)
        if depth >= MAX_DEPTH:
            continue
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            tag = child.tag.lower()
            if tag in IGNORED:
                continue
            stack.append((child, f"{path}/{tag}", depth + 1))
    return frozenset(paths)


def template_fingerprint(html: str) -> str | None:
    """A hex digest shared by pages built from one template (None for a page with too little structure)."""
    paths = tag_paths(html)
    if len(paths) < MIN_PATHS:
        return None
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:32]
