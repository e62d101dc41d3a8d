"""One-off analysis of saved files or single URLs, without a scan (`pharmwatch check`).

The JSON object per input is a documented contract (README, "check --json"): keep it stable (it only
gains keys). With an `OcrReader`, image files, the images saved beside a page and a fetched page's
images are read too (scope `ocr`; an `ocr` block per image; findings name the image and the line's box).
"""

from __future__ import annotations

import email
import email.policy
import re
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import brotli

from crawler.addresses import AddressPolicy
from crawler.charset import ascii_head, binary_kind, decode_html, decode_text
from crawler.extract import extract_document, image_sources
from crawler.ocr import OcrError, OcrReader, OcrResult, OcrSpan, data_uri_bytes, read_in, with_ocr_text
from rules import RuleSet, TextDocument
from rules.model import RuleHit
from rules.reference.checks import reference_signals
from rules.reference.lookup import BlacklistLookup, RegistryLookup

MAX_FETCH_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10  # as the crawler's REDIRECT_MAX_TIMES
_TEXT_SUFFIXES = {".txt", ".text", ".md"}
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"})
#: Images read per saved page (a shop's detail page has 10-30); the rest are listed as skipped.
MAX_IMAGES_PER_PAGE = 40
MAX_IMAGE_BYTES = 20 * 1024 * 1024


class CheckError(Exception):
    """An input that could not be read or fetched; the message says which and why."""


class NotAnalysed(Exception):
    """An input that was read but holds nothing the rules can read (binary, empty, an undecoded body).

    It must never pass as "ok": the contract object says `analysed: false` and `not_analysed: <why>`.
    """


def check_target(target: str, ruleset: RuleSet, *, proxy: str = "", allow_private: list[str] | None = None,
                 timeout: float = 30.0, registry: RegistryLookup | None = None,
                 blacklist: BlacklistLookup | None = None, ocr: OcrReader | None = None) -> dict[str, Any]:
    """Analyse one file path or http(s) URL and return the contract object.

    Reference checks (licence and approval numbers against `registry`, ICP) become page signals;
    for a URL the host is known, so a licence can be checked against the site it is shown on.
    With `ocr`, an image file is read by OCR, and so are the images a saved page shows from beside it
    and the images of a fetched page (each fetched through the same address policy); their text is
    analysed in scope `ocr`.
    """
    host, truncated = None, False
    ocr_blocks: list[dict[str, Any]] | None = None  # None: OCR off, or an input whose images are not read
    ocr_spans: list[OcrSpan] = []
    scheme = _SCHEME.match(target)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise CheckError(f"{target}: only http(s) URLs are fetched, and {scheme.group(1)}:// is not a file path")
    try:
        if target.startswith(("http://", "https://")):
            fetcher = _Fetcher(proxy, allow_private or [], timeout)
            document, truncated, images = _fetch(fetcher, target)
            host = urlsplit(target).hostname
            if ocr is not None:
                ocr_blocks = []
                results = _read_url_images(fetcher, images, ocr, ocr_blocks)
                document, ocr_spans = with_ocr_text(document, results)
        elif Path(target).suffix.lower() in IMAGE_SUFFIXES:
            ocr_blocks = []
            document, ocr_spans = _read_image_file(Path(target), ocr, ocr_blocks)
        else:
            document, images = read_page(Path(target))
            if ocr is not None:
                ocr_blocks = []
                results = _read_page_images(Path(target), images, ocr, ocr_blocks)
                document, ocr_spans = with_ocr_text(document, results)
        if not document.text.strip():
            raise NotAnalysed("no text: nothing visible, no title, no description (a page built by scripts "
                              "needs a scan, which renders it in Chromium)" if ocr_blocks is None else
                              "no text: nothing visible, no title, no description, and none read in its images")
    except NotAnalysed as exc:
        return {"target": target, "analysed": False, "not_analysed": str(exc), "flagged": False, "risk": "none",
                "findings": [], "signals": {}, **({"ocr": ocr_blocks} if ocr_blocks is not None else {})}
    signals = reference_signals(document.text, host=host, server_ip=None, registry=registry, blacklist=blacklist)
    analysis = ruleset.analyse(document, signals=signals)
    return {
        "target": target,
        "analysed": True,
        "flagged": analysis.flagged,
        "risk": analysis.risk,
        "findings": [_finding(hit, document, ocr_spans) for hit in analysis.findings],
        "signals": analysis.signals,
        # Said, not silent: the rest of a body past the fetch limit was never read.
        **({"truncated_at_bytes": MAX_FETCH_BYTES} if truncated else {}),
        **({"ocr": ocr_blocks} if ocr_blocks is not None else {}),
    }


def _finding(hit: RuleHit, document: TextDocument, ocr_spans: list[OcrSpan]) -> dict[str, Any]:
    """A finding of the contract; `scope` is where its first match is, `ocr` the image lines it was read in."""
    finding: dict[str, Any] = {
        "rule_id": hit.rule_id,
        "category": hit.category,
        "severity": hit.severity,
        "excerpt": hit.excerpt,
        "spans": [[start, end] for start, end in hit.spans],
        "scope": document.scope_at(*hit.spans[0]) if hit.spans else None,
    }
    read = read_in(list(hit.spans), ocr_spans)
    if read:
        finding["ocr"] = read
    return finding


def _read_image_file(path: Path, ocr: OcrReader | None,
                     blocks: list[dict[str, Any]]) -> tuple[TextDocument, list[OcrSpan]]:
    """An image given as input: its text read by OCR (NotAnalysed when OCR is off or reads nothing)."""
    data = _read_bytes(path)
    if ocr is None:
        raise NotAnalysed("an image: its text is read by OCR, which --no-ocr turned off")
    if len(data) > MAX_IMAGE_BYTES:
        raise NotAnalysed(f"an image larger than {MAX_IMAGE_BYTES} bytes, not read")
    try:
        result = ocr.read(data)
    except OcrError as exc:
        raise CheckError(f"{path}: {exc}") from None
    blocks.append({"image": str(path), **result.as_json()})
    return with_ocr_text(TextDocument(""), [result])


def _read_page_images(page: Path, sources: list[str], ocr: OcrReader,
                      blocks: list[dict[str, Any]]) -> list[OcrResult]:
    """OCR of the images a saved page shows from its own folder (or inline as data: URIs)."""
    base = page.resolve().parent
    return _read_images(sources, lambda source: _page_image(base, source), ocr, blocks)


def _read_images(sources: list[str], fetch: Callable[[str], bytes | str], ocr: OcrReader,
                 blocks: list[dict[str, Any]]) -> list[OcrResult]:
    """OCR of a page's images in page order. Every image gets a block: what was read, or why it was
    skipped or failed (`fetch` gives the bytes or the reason). Repeated pictures count once."""
    results: list[OcrResult] = []
    for index, source in enumerate(sources):
        if index >= MAX_IMAGES_PER_PAGE:
            blocks.append({"image": source, "skipped": f"more than {MAX_IMAGES_PER_PAGE} images on the page"})
            continue
        data = fetch(source)
        if isinstance(data, str):
            blocks.append({"image": source, "skipped": data})
            continue
        try:
            result = ocr.read(data)
        except OcrError as exc:
            blocks.append({"image": source, "error": str(exc)})
            continue
        blocks.append({"image": source, **result.as_json()})
        if all(result.sha256 != seen.sha256 for seen in results):
            results.append(result)
    return results


def _page_image(base: Path, source: str) -> bytes | str:
    """The bytes of an image a saved page shows, or why they are not read."""
    if source.lower().startswith("data:"):
        return data_uri_bytes(source, MAX_IMAGE_BYTES)
    parts = urlsplit(source)
    if parts.scheme or parts.netloc:
        return "not beside the page (an address on the web: check reads the images saved with a page)"
    # Root-relative addresses are read from the page's folder: a mirrored site keeps its root there.
    path = (base / unquote(parts.path).lstrip("/")).resolve()
    if not path.is_relative_to(base):
        return "outside the page's folder: not read"
    if not path.is_file():
        return "not found beside the page"
    if path.stat().st_size > MAX_IMAGE_BYTES:
        return f"larger than {MAX_IMAGE_BYTES} bytes"
    try:
        return path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_document(path: Path) -> TextDocument:
    """The `TextDocument` of a saved file: HTML (any charset, UTF-16, a browser's MHTML single-file save)
    or plain text. Raises `CheckError` when the file cannot be read."""
    return read_page(path)[0]


def read_page(path: Path) -> tuple[TextDocument, list[str]]:
    """`read_document`, and the addresses of the images the page shows (none for text and MHTML files:
    an MHTML archive's pictures are parts of it, not files beside it)."""
    data = _read_bytes(path)
    _refuse_non_text(data)
    if path.suffix.lower() in _MHTML_SUFFIXES or _looks_like_mhtml(data):
        page = _mhtml_page(data)
        if page is not None:
            body, content_type = page
            return extract_document(decode_html(body, content_type=content_type)), []
    if path.suffix.lower() in _TEXT_SUFFIXES or not _looks_like_html(data):
        return TextDocument(text=decode_text(data)), []
    html = decode_html(data)
    return extract_document(html), image_sources(html)


_HTML_MARKERS = re.compile(
    rb"<(?:html|!doctype\s+html|body|head|meta|title|div|p|span|table|a|br|script|style|ul|li|h[1-6])[\s>/]",
    re.IGNORECASE,
)
_MHTML_SUFFIXES = {".mht", ".mhtml"}
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*)://")


def _looks_like_html(data: bytes) -> bool:
    """Markup near the start (after any byte-order mark, blank lines a template left, or a comment)."""
    return _HTML_MARKERS.search(ascii_head(data)) is not None


def _looks_like_mhtml(data: bytes) -> bool:
    head = data[:4096].lower()
    return b"mime-version:" in head and b"multipart/related" in head


def _mhtml_page(data: bytes) -> tuple[bytes, str] | None:
    """The main HTML part of a browser's single-file save (MHTML), decoded from its transfer encoding,
    with its Content-Type (the charset is usually only there). None when there is no HTML part."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_type() in ("text/html", "application/xhtml+xml"):
                body = part.get_payload(decode=True)
                if isinstance(body, bytes):
                    return body, str(part.get("Content-Type", "text/html"))
    except Exception:  # noqa: BLE001 - a damaged archive is read as an ordinary file
        return None
    return None


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects by itself: every hop is put to the address policy before it is asked."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not newurl.lower().startswith(("http://", "https://")):
            raise CheckError(f"{req.full_url}: redirected (HTTP {code}) to {newurl}: only http and https are followed")
        reason = self.policy.refusal(newurl)
        if reason:
            raise CheckError(f"{req.full_url}: redirected (HTTP {code}) to {newurl}: {reason}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _refuse_non_text(data: bytes) -> None:
    if not data.strip():
        raise NotAnalysed("empty: no content")
    kind = binary_kind(data)
    if kind:
        raise NotAnalysed(f"binary content ({kind}), not a page")


def _decompressed(body: bytes, encoding: str) -> bytes:
    """The body as the server meant it (we ask for no compression, hostile servers send it anyway),
    inflated at most to MAX_FETCH_BYTES: a compression bomb is named, not inflated."""
    if encoding in ("identity", ""):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=47 if encoding != "deflate" else 15)  # 47: gzip or zlib header
        try:
            data = inflater.decompress(body, MAX_FETCH_BYTES)
        except zlib.error as exc:
            raise NotAnalysed(f"compressed body (Content-Encoding: {encoding}) cannot be decoded: {exc}") from None
        if inflater.unconsumed_tail:
            raise NotAnalysed(f"compressed body (Content-Encoding: {encoding}) inflates beyond "
                              f"{MAX_FETCH_BYTES} bytes: a compression bomb")
        return data
    if encoding == "br":
        decoder = brotli.Decompressor()
        try:
            data = decoder.process(body, output_buffer_limit=MAX_FETCH_BYTES)
        except brotli.error as exc:
            raise NotAnalysed(f"compressed body (Content-Encoding: br) cannot be decoded: {exc}") from None
        if not decoder.is_finished():
            raise NotAnalysed(f"compressed body (Content-Encoding: br) inflates beyond {MAX_FETCH_BYTES} bytes "
                              "or is cut: a compression bomb")
        return data
    raise NotAnalysed(f"body in an unknown Content-Encoding ({encoding}), not decoded")


class _Fetcher:
    """GETs through the address policy (every redirect hop guarded), the proxy and a byte limit."""

    def __init__(self, proxy: str, allow_private: list[str], timeout: float) -> None:
        self.policy = AddressPolicy(allow_private, resolve_names=not proxy)
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {}),
            _GuardedRedirects(self.policy),
        )

    def get(self, url: str, limit: int) -> tuple[bytes, bool, str | None, str]:
        """(body as the server meant it, cut at `limit`?, Content-Type, final URL); CheckError if refused
        or failed."""
        reason = self.policy.refusal(url)
        if reason:
            raise CheckError(f"{url}: {reason}")
        request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 PharmWatch-check"})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                body = response.read(limit)
                truncated = bool(response.read(1))
                content_type = response.headers.get("Content-Type")
                encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
                final_url = response.geturl()
        except CheckError:
            raise
        except Exception as exc:  # noqa: BLE001 - any network failure becomes this input's error
            raise CheckError(f"{url}: fetch failed: {exc}") from None
        return _decompressed(body, encoding), truncated, content_type, final_url


def _fetch(fetcher: _Fetcher, url: str) -> tuple[TextDocument, bool, list[str]]:
    """The page at `url`, whether its body was cut at MAX_FETCH_BYTES, and its images' addresses
    (absolute, or `data:` URIs)."""
    body, truncated, content_type, final_url = fetcher.get(url, MAX_FETCH_BYTES)
    _refuse_non_text(body)
    html = decode_html(body, url=final_url, content_type=content_type)
    images = [source if source.lower().startswith("data:") else urljoin(final_url, source)
              for source in image_sources(html)]
    return extract_document(html, final_url), truncated, images


def _read_url_images(fetcher: _Fetcher, sources: list[str], ocr: OcrReader,
                     blocks: list[dict[str, Any]]) -> list[OcrResult]:
    """OCR of a fetched page's images, each fetched through the same address policy as the page."""
    def fetch(source: str) -> bytes | str:
        if source.lower().startswith("data:"):
            return data_uri_bytes(source, MAX_IMAGE_BYTES)
        if not source.lower().startswith(("http://", "https://")):
            return "not an http(s) address"
        try:
            data, truncated, _, _ = fetcher.get(source, MAX_IMAGE_BYTES)
        except (CheckError, NotAnalysed) as exc:
            return str(exc)
        return f"larger than {MAX_IMAGE_BYTES} bytes" if truncated else data

    return _read_images(sources, fetch, ocr, blocks)
