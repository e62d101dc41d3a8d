"""Page text extraction: from HTML to the `TextDocument` the rules read (title, meta, body, alt), and the
addresses of the page's images (`image_sources`, which OCR reads)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from rules import TextDocument

# Ruby annotations (<rt>, <rp>: pinyin over characters, the brackets around it) are not the page's words.
_INVISIBLE = frozenset({"head", "title", "script", "style", "template", "noscript", "svg", "iframe", "object",
                        "rt", "rp"})
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


def parse_html(html: str) -> etree._Element | None:
    """The page's element tree as a browser would build it (libxml2's HTML parser), or None for an empty page.

    The text is handed to libxml2 as UTF-8 bytes with the encoding named, so a `<meta charset>` or an
    `<?xml encoding?>` declaration in the (already decoded) text cannot make it decode a second time.
    """
    data = html.encode("utf-8", "replace")
    parser = _parser()
    root = etree.fromstring(data, parser)
    if any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
        # libxml2 stops building a tree deeper than its limit and drops the rest of the page: a hostile page
        # nested 10,000 deep would hide its text. Browsers cap the depth and keep the content as siblings;
        # so does this (slower) second reading.
        root = etree.fromstring(data, _parser(_DepthCappedTree()))
    return root


#: Elements nested deeper than this become siblings at this depth (Chromium's cap is 512).
MAX_DEPTH = 512


def _parser(target: object = None) -> etree.HTMLParser:
    # Recovering as a browser does, comments left out, nothing fetched. A parser per call: lxml parsers are
    # not thread-safe.
    return etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, remove_comments=True,
                            remove_pis=True, huge_tree=True, target=target)


class _DepthCappedTree:
    """An lxml parser target building the tree with at most MAX_DEPTH open elements."""

    def __init__(self) -> None:
        self._builder = etree.TreeBuilder()
        self._opened: list[bool] = []
        self._depth = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        opened = self._depth < MAX_DEPTH
        self._opened.append(opened)
        if opened:
            self._depth += 1
            self._builder.start(tag, attrib)

    def end(self, tag: str) -> None:
        if self._opened and self._opened.pop():
            self._depth -= 1
            self._builder.end(tag)

    def data(self, data: str) -> None:
        self._builder.data(data)

    def close(self) -> etree._Element | None:
        try:
            return self._builder.close()
        except AssertionError:  # nothing was built: an empty page
            return None


def extract_document(html: str, url: str | None = None) -> TextDocument:
    """Visible text by scope: title, meta description/keywords, body, alt texts (and the URL when given)."""
    root = parse_html(html)
    parts: list[tuple[str, str]] = []
    if root is not None:
        title = next(root.iter("title"), None)
        metas = [_one_line(_attribute(tag, "content")) for tag in root.iter("meta")
                 if _attribute(tag, "name", "property").strip().lower() in _META_NAMES]
        body = next(root.iter("body"), None)
        body = root if body is None else body
        text = _tidy(_visible_text(body))
        if not text and next(root.iter("noscript"), None) is not None:
            # A page whose static body is empty is built by scripts: its <noscript> fallback is the only text
            # a reader without scripts gets (and the crawler is such a reader).
            text = _tidy(_visible_text(body, noscript=True)) or text
        parts = [("title", _one_line(" ".join(title.itertext())) if title is not None else ""),
                 ("meta", "\n".join(m for m in metas if m)), ("body", text),
                 ("alt", "\n".join(a for a in _alt_texts(root) if a))]
    if url:
        parts.append(("url", url))
    return TextDocument.from_parts(parts)


# Lazy loaders keep the real picture in a data attribute and a placeholder in src: both are read.
_IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "data-lazyload")


def image_sources(html: str) -> list[str]:
    """The image addresses of a page as written (`<img>` and image buttons), in page order, each once."""
    root = parse_html(html)
    sources: list[str] = []
    for tag in root.iter("img", "input") if root is not None else ():
        if tag.tag == "input" and _attribute(tag, "type").strip().lower() != "image":
            continue
        for name in _IMAGE_ATTRIBUTES:
            value = _attribute(tag, name).strip()
            if value and value not in sources:
                sources.append(value)
    return sources


def _attribute(tag: etree._Element, *names: str) -> str:
    """The first of `names` the tag has (non-empty)."""
    for name in names:
        value = tag.get(name)
        if value:
            return value
    return ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _alt_texts(root: etree._Element) -> list[str]:
    """Text standing in for pictures: alt of images, image buttons and map areas, and an image's title
    (its tooltip) when it says something the alt does not (`<img src="icp.png" title="粤ICP备…号">`)."""
    out: list[str] = []
    for tag in root.iter("img", "area", "input"):
        if tag.tag == "input" and _attribute(tag, "type").strip().lower() != "image":
            continue
        alt = _one_line(_attribute(tag, "alt"))
        if alt:
            out.append(alt)
        title = _one_line(_attribute(tag, "title")) if tag.tag == "img" else ""
        if title and title != alt:
            out.append(title)
    return out


def _input_text(tag: etree._Element) -> str:
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


def _visible_text(root: etree._Element, *, noscript: bool = False) -> str:
    """Text of the visible tree with line breaks at block boundaries only (`noscript`: with the content of
    <noscript> elements, as a reader without scripts sees it).

    One iterative pass: linear in the page size and safe for deep nesting (no recursion). In lxml's tree
    an element's `text` comes before its children and its `tail` after its end, in its parent's context.
    """
    invisible = _INVISIBLE_WITH_NOSCRIPT if noscript else _INVISIBLE
    out: list[str] = []
    preformatted = 0  # how many of the open elements keep their line breaks

    def add_text(text: str | None) -> None:
        if text and not _is_data_blob(text):
            out.append(text if preformatted else _HTML_WHITESPACE.sub(" ", text))

    stack: list[tuple[etree._Element, Iterator[etree._Element]]] = [(root, iter(root))]
    add_text(root.text)
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            name = node.tag
            if name in _PREFORMATTED:
                preformatted -= 1
            if name in _BLOCKS:
                out.append("\n")
            elif name in _CELLS:
                out.append(" ")
            if stack:
                add_text(node.tail)
            continue
        name = child.tag
        if not isinstance(name, str) or name in invisible:  # a comment or processing instruction: its tail shows
            add_text(child.tail)
            continue
        if name == "br":
            out.append("\n")
            add_text(child.tail)
            continue
        if name == "input":
            value = _input_text(child)
            if value.strip():  # a control is a box of its own on screen: a word of its own here
                out.append(" " + _HTML_WHITESPACE.sub(" ", value) + " ")
            add_text(child.tail)
            continue
        if name in _BLOCKS:
            out.append("\n")
        elif name == "a" and _follows_a_link(child):
            out.append(" ")  # menu links side by side are separate boxes on screen, not one word
        if name in _PREFORMATTED:
            preformatted += 1
        add_text(child.text)
        stack.append((child, iter(child)))
    return "".join(out)


def _follows_a_link(tag: etree._Element) -> bool:
    """True when `tag` comes right after another link, with no text between them (`<a>白癜风</a><a>灰指甲</a>`)."""
    previous = tag.getprevious()
    while previous is not None and not previous.tail and not isinstance(previous.tag, str):
        previous = previous.getprevious()  # a comment between two links shows nothing
    return previous is not None and not previous.tail and previous.tag == "a"


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def visible_text_length(html: str) -> int:
    return len(extract_document(html).text)


def has_visible_text(html: str, at_least: int) -> bool:
    """`visible_text_length(html) >= at_least`, answered early for most pages: the spider asks it of every
    page with scripts, on the reactor's thread.

    The body's visible text pieces are counted (their non-space characters) only until `at_least` is
    reached: extraction keeps every such character (tidying removes whitespace only) and the document's text
    holds the body's, so that count is a lower bound. A page with less is measured exactly.
    """
    root = parse_html(html)
    if root is None:
        return visible_text_length(html) >= at_least
    body = next(root.iter("body"), None)
    if _visible_chars_reach(root if body is None else body, at_least):
        return True
    return visible_text_length(html) >= at_least


def _visible_chars_reach(root: etree._Element, at_least: int) -> bool:
    """True once the non-space characters of text `_visible_text(root)` keeps reach `at_least` (a subset of
    its pieces is counted: element texts and tails it adds, not input values or separators)."""
    count = 0

    def counted(text: str | None) -> int:
        if not text or _is_data_blob(text):
            return 0
        return len("".join(text.split()))  # str.split's whitespace is str.isspace's, all tidying removes

    count += counted(root.text)
    stack: list[Iterator[etree._Element]] = [iter(root)]
    while stack and count < at_least:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        count += counted(child.tail)  # a child's tail is its visible parent's text, whatever the child is
        name = child.tag
        if not isinstance(name, str) or name in _INVISIBLE or name in ("br", "input"):
            continue
        count += counted(child.text)
        stack.append(iter(child))
    return count >= at_least
