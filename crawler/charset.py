"""Charset decoding, in one place: bytes of a page, a result page or a text file → text.

Three decoders, because the sources differ in how far their declarations can be trusted:

- `decode_html` (captured seller pages, `check`): decodes like a browser, then repairs what sellers get
  wrong (a wrong or default charset declaration over GBK or UTF-8 bytes, BOM-less UTF-16, Big5 mirrors).
- `decode_declared` (search-engine result pages): BOM, then the declared charset (HTTP header or
  <meta>) as given, then a UTF-8 / GB18030 guess; returns the encoding used. Engines declare their
  charset correctly, and the SERP parser has always read their pages this way (w3lib's
  `html_to_unicode`); the repairs of `decode_html` are kept away from it on purpose, so that a result
  page is read exactly as the engine declared it.
- `decode_text` (plain-text files given to `check`): BOM, strict UTF-8, strict GB18030, else UTF-8 with
  replacement characters. `ascii_head` gives the start of any of these as ASCII-compatible bytes, for
  sniffing markup in UTF-16/32 files.

The byte-order marks and the BOM-less UTF-16 test are shared by all of them.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding

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


def _bom(data: bytes) -> tuple[bytes, str]:
    """(the byte-order mark `data` starts with, its encoding), or (b"", "") when there is none."""
    return next(((bom, encoding) for bom, encoding in _BOMS if data.startswith(bom)), (b"", ""))


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


def _many_nuls(head: bytes) -> bool:
    """BOM-less UTF-16: the high bytes of its ASCII markup are NUL. HTML or text in an ASCII-compatible
    charset has no NUL bytes at all."""
    return head.count(0) >= max(4, len(head) // 16)


def _utf16_without_bom(body: bytes) -> str | None:
    """"utf-16-le"/"-be" for a BOM-less UTF-16 page: the NUL high bytes of its markup all fall on one side."""
    head = body[:2000]
    if len(head) < 16 or not _many_nuls(head):
        return None
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
    bom, encoding = _bom(body)
    if bom:
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


def decode_declared(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(encoding used, text) of a search-engine result page: BOM, then a declared charset (`encoding` from
    the HTTP header, else the page's <meta>), then a guess: UTF-8 when the bytes are valid UTF-8, else
    GB18030. Chinese engines still serve GBK/GB2312 pages; those are decoded as GB18030, their superset,
    so characters a page declares as GB2312 but actually uses from GBK still decode."""
    header = f"text/html; charset={encoding}" if encoding else None
    return html_to_unicode(header, body, auto_detect_fun=_utf8_or_gb18030)


def _utf8_or_gb18030(body: bytes) -> str:
    # Undeclared pages: valid UTF-8 is almost never accidental; otherwise assume the Chinese legacy set.
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def decode_text(data: bytes) -> str:
    """A plain-text file: a UTF-16/32 BOM decides; else strict UTF-8 (BOM or not), strict GB18030, and
    UTF-8 with replacement characters when neither decodes."""
    bom, encoding = _bom(data)
    if bom and encoding != "utf-8":
        return data[len(bom) :].decode(encoding, errors="replace")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


_MAGIC = {b"%PDF": "PDF", b"\x89PNG": "PNG", b"GIF8": "GIF", b"\xff\xd8\xff": "JPEG", b"PK\x03\x04": "ZIP",
          b"MZ": "Windows executable", b"\x7fELF": "ELF executable", b"\x1f\x8b": "gzip",
          b"RIFF": "RIFF (WebP, WAV, AVI)", b"\x00\x00\x01\x00": "icon", b"7z\xbc\xaf": "7-Zip",
          b"Rar!": "RAR"}
# Control bytes that text files do not contain (tab, newlines, form feed and ESC they do).
_BINARY_CONTROLS = bytes(b for b in range(0x20) if b not in b"\t\n\r\x0c\x1b")


def binary_kind(data: bytes) -> str | None:
    """What binary format `data` is (by its magic bytes; "binary data" when most of its start is
    control bytes), or None for text in any charset, UTF-16/32 included. Sellers serve files as
    text/html, and a PNG renamed .html must not be analysed as a page (and pass as clean)."""
    kind = next((kind for magic, kind in _MAGIC.items() if data.startswith(magic)), None)
    if kind is not None:
        return kind
    head = data[:4096]
    if not head or _bom(head)[0] or _utf16_without_bom(data):
        return None
    controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))  # every page passes here: no Python loop
    return "binary data" if controls * 30 > len(head) else None  # random bytes: about 1 in 10


def ascii_head(data: bytes) -> bytes:
    """The start of `data` as ASCII-compatible bytes, for sniffing markup: UTF-16/32 (Windows "Unicode",
    with a BOM) re-encoded as UTF-8, BOM-less UTF-16 with its NUL bytes dropped, anything else as is."""
    head = data[:65536]
    bom, encoding = _bom(head)
    if bom and encoding != "utf-8":
        return head[len(bom) :].decode(encoding, errors="ignore").encode("utf-8")
    if _many_nuls(head):
        return head.replace(b"\x00", b"")
    return head
