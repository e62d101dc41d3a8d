"""Page text extraction: from HTML to the `TextDocument` the rules read (title, meta, body, alt)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from scrapy.http import HtmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from rules import TextDocument

_INVISIBLE = ("head", "title", "script", "style", "template", "noscript", "svg", "iframe", "object")
# Only block elements end a line: `<b>根治</b>糖尿病` must stay one phrase for the rules.
_BLOCKS = (
    "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul", "option",
    "button", "caption",
)
_CELLS = ("td", "th")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def decode_html(body: bytes, url: str = "http://localhost/", content_type: str | None = None) -> str:
    """Decode like a browser (BOM, HTTP charset, <meta>, sniffing), then repair what sellers get wrong.

    Chinese sites often declare the wrong charset. Bytes that are valid UTF-8 (with non-ASCII) are
    UTF-8 whatever the declaration says: real GBK text is practically never valid UTF-8. Bytes the
    declared charset cannot decode cleanly are tried as GB18030 (a superset of GBK and GB2312).
    """
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    if not declared:
        try:  # undeclared and not UTF-8: on sites of this kind, GBK/GB18030 before a Western guess
            return body.decode("gb18030")
        except UnicodeDecodeError:
            pass
    headers = {"Content-Type": content_type} if content_type else {}
    text = HtmlResponse(url=url, body=body, headers=headers).text
    if "\ufffd" in text:
        try:
            return body.decode("gb18030")
        except UnicodeDecodeError:
            pass  # mixed encodings: keep the declared decoding, with replacement characters
    return text


def extract_document(html: str, url: str | None = None) -> TextDocument:
    """Visible text by scope. Text is given BeautifulSoup as str, never bytes (see ENVIRONMENT.md)."""
    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    metas = [
        tag.get("content", "")
        for tag in soup.find_all("meta")
        if (tag.get("name") or tag.get("property") or "").lower()
        in {"description", "keywords", "og:title", "og:description"}
    ]
    alts = [img.get("alt", "").strip() for img in soup.find_all("img") if img.get("alt", "").strip()]
    body = _tidy(_visible_text(soup.body or soup))
    parts = [("title", title), ("meta", "\n".join(m.strip() for m in metas if m and m.strip())),
             ("body", body), ("alt", "\n".join(alts))]
    if url:
        parts.append(("url", url))
    return TextDocument.from_parts(parts)


def _visible_text(root: Tag) -> str:
    """Text of the visible tree with line breaks at block boundaries only.

    One iterative pass: linear in the page size and safe for 10,000-deep nesting (no recursion).
    """
    out: list[str] = []
    stack: list[tuple[Tag, Iterator[PageElement]]] = [(root, iter(root.children))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if node.name in _BLOCKS:
                out.append("\n")
            elif node.name in _CELLS:
                out.append(" ")
            continue
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, doctype or CDATA
                out.append(str(child))
        elif isinstance(child, Tag) and child.name not in _INVISIBLE:
            if child.name == "br":
                out.append("\n")
                continue
            if child.name in _BLOCKS:
                out.append("\n")
            stack.append((child, iter(child.children)))
    return "".join(out)


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def visible_text_length(html: str) -> int:
    return len(extract_document(html).text)
