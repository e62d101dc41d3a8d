"""Page text extraction: from HTML to the `TextDocument` the rules read (title, meta, body, alt), and the
addresses of the page's images (`image_sources`, which OCR reads)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag, XMLParsedAsHTMLWarning

from rules import TextDocument

_INVISIBLE = frozenset({"head", "title", "script", "style", "template", "noscript", "svg", "iframe", "object"})
_INVISIBLE_WITH_NOSCRIPT = _INVISIBLE - {"noscript"}
# Only block elements end a line: `<b>根治</b>糖尿病` must stay one phrase for the rules.
_BLOCKS = (
    "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul", "option",
    "button", "caption",
)
_CELLS = ("td", "th")
# Elements whose text keeps its line breaks; everywhere else a line break in the source is a space, as a
# browser shows it (`<span>葵花 胃康灵胶囊\n   48粒</span>` is one line on screen and must be one here).
_PREFORMATTED = ("pre", "textarea", "listing", "plaintext", "xmp")
_META_NAMES = frozenset({"description", "keywords", "og:title", "og:description"})
# <input> types whose value is text on screen: a button's label, a field's prefilled text (a search box's
# suggestion, a read-only field holding a WeChat id next to a "copy" button). Hidden, password, check and
# file inputs show nothing of their value; an image button shows its picture (its alt goes with the alts).
_BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
_TEXT_INPUTS = frozenset({"", "text", "search", "tel", "email", "url", "number"})
_HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_SPACES = re.compile(r"[^\S\n]+")  # every Unicode space (&nbsp; &ensp; &emsp; &thinsp; U+3000) but a newline
# A data blob left in the markup (a hidden <div> or <textarea> holding JSON for a script): no reader sees it
# as text, and its keys and ids would only feed false matches.
_JSON_KEY = re.compile(r'"[^"\n]{1,40}"\s*:')
_BLANK_LINES = re.compile(r"\n\s*\n+")


def extract_document(html: str, url: str | None = None) -> TextDocument:
    """Visible text by scope. Text is given BeautifulSoup as str, never bytes (see ENVIRONMENT.md)."""
    with warnings.catch_warnings():  # XHTML (<?xml ...?>) is read as HTML on purpose, as a browser does
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    title = _one_line(soup.title.get_text(" ")) if soup.title else ""
    metas = [
        _one_line(_attribute(tag, "content"))
        for tag in soup.find_all("meta")
        if _attribute(tag, "name", "property").strip().lower() in _META_NAMES
    ]
    alts = _alt_texts(soup)
    body = _tidy(_visible_text(soup.body or soup))
    if not body and soup.find("noscript") is not None:
        # A page whose static body is empty is built by scripts: its <noscript> fallback is the only text
        # a reader without scripts gets (and the crawler is such a reader).
        body = _tidy(_visible_text(soup.body or soup, noscript=True)) or body
    parts = [("title", title), ("meta", "\n".join(m for m in metas if m)),
             ("body", body), ("alt", "\n".join(a for a in alts if a))]
    if url:
        parts.append(("url", url))
    return TextDocument.from_parts(parts)


# Lazy loaders keep the real picture in a data attribute and a placeholder in src: both are read.
_IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "data-lazyload")


def image_sources(html: str) -> list[str]:
    """The image addresses of a page as written (`<img>` and image buttons), in page order, each once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    sources: list[str] = []
    for tag in soup.find_all(("img", "input")):
        if tag.name == "input" and _attribute(tag, "type").strip().lower() != "image":
            continue
        for name in _IMAGE_ATTRIBUTES:
            value = _attribute(tag, name).strip()
            if value and value not in sources:
                sources.append(value)
    return sources


def _attribute(tag: Tag, *names: str) -> str:
    """The first of `names` the tag has, as one string (lxml may give a repeated attribute as a list)."""
    for name in names:
        value = tag.get(name)
        if value:
            return " ".join(value) if isinstance(value, list) else str(value)
    return ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _alt_texts(soup: BeautifulSoup) -> list[str]:
    """Text standing in for pictures: alt of images, image buttons and map areas, and an image's title
    (its tooltip) when it says something the alt does not (`<img src="icp.png" title="粤ICP备…号">`)."""
    out: list[str] = []
    for tag in soup.find_all(("img", "area", "input")):
        if tag.name == "input" and _attribute(tag, "type").strip().lower() != "image":
            continue
        alt = _one_line(_attribute(tag, "alt"))
        if alt:
            out.append(alt)
        title = _one_line(_attribute(tag, "title")) if tag.name == "img" else ""
        if title and title != alt:
            out.append(title)
    return out


def _input_text(tag: Tag) -> str:
    """What an <input> shows as text: its value when it is a button label or a field's prefilled text."""
    kind = _attribute(tag, "type").strip().lower()
    if kind in _BUTTON_INPUTS or kind in _TEXT_INPUTS:
        return _attribute(tag, "value")
    return ""


def _is_data_blob(text: str) -> bool:
    if len(text) < 40:
        return False
    text = text.strip()
    return text[:1] in ("[", "{") and text[-1:] in ("]", "}") and len(_JSON_KEY.findall(text, 0, 2000)) >= 3


def _visible_text(root: Tag, *, noscript: bool = False) -> str:
    """Text of the visible tree with line breaks at block boundaries only (`noscript`: with the content of
    <noscript> elements, as a reader without scripts sees it).

    One iterative pass: linear in the page size and safe for 10,000-deep nesting (no recursion).
    """
    invisible = _INVISIBLE_WITH_NOSCRIPT if noscript else _INVISIBLE
    out: list[str] = []
    stack: list[tuple[Tag, Iterator[PageElement]]] = [(root, iter(root.children))]
    preformatted = 0  # how many of the open elements keep their line breaks
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if node.name in _PREFORMATTED:
                preformatted -= 1
            if node.name in _BLOCKS:
                out.append("\n")
            elif node.name in _CELLS:
                out.append(" ")
            continue
        if isinstance(child, NavigableString):
            if type(child) is NavigableString and not _is_data_blob(child):  # not a comment, doctype or CDATA
                out.append(str(child) if preformatted else _HTML_WHITESPACE.sub(" ", child))
        elif isinstance(child, Tag) and child.name not in invisible:
            if child.name == "br":
                out.append("\n")
                continue
            if child.name == "input":
                value = _input_text(child)
                if value.strip():  # a control is a box of its own on screen: a word of its own here
                    out.append(" " + _HTML_WHITESPACE.sub(" ", value) + " ")
                continue
            if child.name in _BLOCKS:
                out.append("\n")
            elif child.name == "a" and _follows_a_link(child):
                out.append(" ")  # menu links side by side are separate boxes on screen, not one word
            if child.name in _PREFORMATTED:
                preformatted += 1
            stack.append((child, iter(child.children)))
    return "".join(out)


def _follows_a_link(tag: Tag) -> bool:
    """True when `tag` comes right after another link, with no text between them (`<a>白癜风</a><a>灰指甲</a>`)."""
    previous = tag.previous_sibling
    while isinstance(previous, NavigableString) and type(previous) is not NavigableString:
        previous = previous.previous_sibling  # a comment between two links shows nothing
    return isinstance(previous, Tag) and previous.name == "a"


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def visible_text_length(html: str) -> int:
    return len(extract_document(html).text)
