"""Turn result-page bytes into text: BOM, then a declared charset (HTTP header or <meta>), then a guess.

Chinese engines still serve GBK/GB2312 pages; those are decoded as GB18030, their superset, so
characters a page declares as GB2312 but actually uses from GBK still decode.
"""

from __future__ import annotations

from w3lib.encoding import html_to_unicode


def _guess(body: bytes) -> str:
    # Undeclared pages: valid UTF-8 is almost never accidental; otherwise assume the Chinese legacy set.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def decode_html(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Return (encoding used, text). ``encoding`` is a charset from an HTTP header, if one is known."""
    header = f"text/html; charset={encoding}" if encoding else None
    return html_to_unicode(header, body, auto_detect_fun=_guess)
