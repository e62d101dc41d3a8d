"""Page text extraction: from HTML to the `TextDocument` the rules read (title, meta, body, alt)."""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Iterator

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag, XMLParsedAsHTMLWarning
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

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


# Byte-order marks, longest first (a UTF-32-LE BOM starts with the UTF-16-LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Single-byte Western charsets that servers declare by default (Tomcat, old Apache/IIS setups) whatever
# the page really is. Decoding never fails in them, so a GBK page declared this way turns into mojibake.
_WESTERN = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "ascii", "cp1250", "mac-roman"})
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_ASCII = bytes(range(128))
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\ue000-\uf8ff\uf900-\ufaff]")  # with private use


def _codec(name: str | None) -> str | None:
    """Python's name for a declared charset, or None when Python does not know it."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _mostly_utf8(body: bytes) -> bool:
    """UTF-8 with a few stray bytes (a GBK snippet pasted into a UTF-8 page, a body cut mid-character).

    Real GBK text is never mostly valid UTF-8: under 1 in 10 of its byte pairs happen to form a
    UTF-8 sequence, so 20 valid sequences per invalid byte cannot come from GBK.
    """
    sample = body[:1_000_000]  # a sample decides; no list of matches over a 10 MB body
    high = len(sample.translate(None, _ASCII))  # the bytes left once ASCII is deleted
    sequences = in_sequences = 0
    for m in _UTF8_SEQUENCE.finditer(sample):
        sequences += 1
        in_sequences += m.end() - m.start()
    return sequences >= 8 and (high - in_sequences) * 20 <= sequences


def _utf16_without_bom(body: bytes) -> str | None:
    """"utf-16-le"/"-be" for a BOM-less UTF-16 page: the NUL high bytes of its markup all fall on one side."""
    head = body[:2000]
    if len(head) < 16 or head.count(0) < max(4, len(head) // 16):
        return None  # HTML in an ASCII-compatible charset has no NUL bytes at all
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 3 * max(even, 1):
        return "utf-16-le"
    if even > 3 * max(odd, 1):
        return "utf-16-be"
    return None


def _common_share(text: str, table: str, first: int, last: int) -> tuple[float, int]:
    """Share of the Han characters in `text` that are everyday characters of `table`, and their number.

    GB2312 level 1 (lead bytes B0–D7) holds the 3,755 most used simplified characters, Big5 A440–C67E
    the 5,401 most used traditional ones. Text decoded with the wrong Chinese table (Big5 read as
    GBK, Latin-1 read as GBK) is mostly rare characters and private-use code points.
    """
    han = common = 0
    for ch in _HAN.findall(text[:20000]):
        han += 1
        try:
            lead = ch.encode(table)[0]
        except UnicodeEncodeError:
            continue
        common += first <= lead <= last
    return (common / han if han >= 2 else 0.0), han


def _as_chinese(body: bytes, *, big5: bool) -> str | None:
    """`body` decoded as GB18030 (or Big5 when it reads better), when that gives everyday Chinese.

    A few undecodable bytes (a body cut mid-character, one foreign byte) are tolerated: one per 50 Han
    characters at most.
    """
    best, best_share = None, 0.0
    for encoding, table, first, last in (("gb18030", "gb2312", 0xB0, 0xD7), ("big5hkscs", "big5", 0xA4, 0xC6)):
        if encoding == "big5hkscs" and not big5:
            break
        text = body.decode(encoding, errors="replace")
        share, han = _common_share(text, table, first, last)
        if text.count("\ufffd") * 50 > han:
            continue
        if share > best_share:
            best, best_share = text, share
    return best if best_share >= 0.5 else None


def decode_html(body: bytes, url: str = "http://localhost/", content_type: str | None = None) -> str:
    """Decode like a browser (BOM, HTTP charset, <meta>, sniffing), then repair what sellers get wrong.

    Chinese sites often declare the wrong charset. Bytes that are valid UTF-8 (with non-ASCII) are
    UTF-8 whatever the declaration says: real GBK text is practically never valid UTF-8, not even
    mostly. A Western single-byte declaration (a server default) over bytes that decode cleanly as
    Chinese GB18030 is ignored. Bytes the declared charset cannot decode cleanly are tried as
    GB18030 (a superset of GBK and GB2312). An unknown charset name counts as no declaration. Never
    raises. `url` is accepted for the callers' convenience; decoding does not depend on it.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    utf16 = _utf16_without_bom(body)  # before UTF-8: NUL bytes are valid UTF-8
    if utf16:
        return body.decode(utf16, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(body):
        return body.decode("utf-8", errors="replace")
    http = _codec(http_content_type_encoding(content_type))
    meta = _codec(html_body_declared_encoding(body))
    if meta and meta.startswith(("utf-16", "utf-32")):
        meta = None  # a <meta> can only be read in an ASCII-compatible encoding (HTML spec: utf-8)
    if http and http.startswith(("utf-16", "utf-32")):
        http = None  # UTF-16 without a BOM and without NUL bytes: the header is wrong
    declared = http or meta
    if declared in _WESTERN and meta and meta not in _WESTERN:
        declared = meta  # a server default in the header, the page's own charset in <meta>
    if not declared or declared in _WESTERN:
        # Undeclared, or a Western server default: on sites of this kind, GBK/GB18030 (or Big5) first.
        chinese = _as_chinese(body, big5=not declared)
        if chinese is not None:
            return chinese
        if not declared:
            try:
                return body.decode("gb18030")
            except UnicodeDecodeError:
                pass
    encoding = declared or "cp1252"  # undeclared and neither UTF-8 nor Chinese: the Web's default
    text = body.decode(encoding, errors="replace")
    if "\ufffd" in text and encoding != "gb18030":
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            pass  # mixed encodings: keep the declared decoding, with replacement characters
    return text


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
