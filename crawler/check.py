"""One-off analysis of saved files or single URLs, without a scan (`pharmwatch check`).

The JSON object per input is a documented contract (README, "check --json"): keep it stable.
"""

from __future__ import annotations

import email
import email.policy
import re
import urllib.request
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli

from crawler.addresses import AddressPolicy
from crawler.charset import ascii_head, binary_kind, decode_html, decode_text
from crawler.extract import extract_document
from rules import RuleSet, TextDocument
from rules.reference.checks import reference_signals
from rules.reference.lookup import BlacklistLookup, RegistryLookup

MAX_FETCH_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 10  # as the crawler's REDIRECT_MAX_TIMES
_TEXT_SUFFIXES = {".txt", ".text", ".md"}


class CheckError(Exception):
    """An input that could not be read or fetched; the message says which and why."""


class NotAnalysed(Exception):
    """An input that was read but holds nothing the rules can read (binary, empty, an undecoded body).

    It must never pass as "ok": the contract object says `analysed: false` and `not_analysed: <why>`.
    """


def check_target(target: str, ruleset: RuleSet, *, proxy: str = "", allow_private: list[str] | None = None,
                 timeout: float = 30.0, registry: RegistryLookup | None = None,
                 blacklist: BlacklistLookup | None = None) -> dict[str, Any]:
    """Analyse one file path or http(s) URL and return the contract object.

    Reference checks (licence and approval numbers against `registry`, ICP) become page signals;
    for a URL the host is known, so a licence can be checked against the site it is shown on.
    """
    host, truncated = None, False
    scheme = _SCHEME.match(target)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise CheckError(f"{target}: only http(s) URLs are fetched, and {scheme.group(1)}:// is not a file path")
    try:
        if target.startswith(("http://", "https://")):
            document, truncated = _fetch(target, proxy, allow_private or [], timeout)
            host = urlsplit(target).hostname
        else:
            document = read_document(Path(target))
        if not document.text.strip():
            raise NotAnalysed("no text: nothing visible, no title, no description (a page built by scripts "
                              "needs a scan, which renders it in Chromium)")
    except NotAnalysed as exc:
        return {"target": target, "analysed": False, "not_analysed": str(exc), "flagged": False, "risk": "none",
                "findings": [], "signals": {}}
    signals = reference_signals(document.text, host=host, server_ip=None, registry=registry, blacklist=blacklist)
    analysis = ruleset.analyse(document, signals=signals)
    return {
        "target": target,
        "analysed": True,
        "flagged": analysis.flagged,
        "risk": analysis.risk,
        "findings": [
            {
                "rule_id": hit.rule_id,
                "category": hit.category,
                "severity": hit.severity,
                "excerpt": hit.excerpt,
                "spans": [[start, end] for start, end in hit.spans],
            }
            for hit in analysis.findings
        ],
        "signals": analysis.signals,
        # Said, not silent: the rest of a body past the fetch limit was never read.
        **({"truncated_at_bytes": MAX_FETCH_BYTES} if truncated else {}),
    }


def read_document(path: Path) -> TextDocument:
    """The `TextDocument` of a saved file: HTML (any charset, UTF-16, a browser's MHTML single-file save)
    or plain text. Raises `CheckError` when the file cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckError(f"{path}: cannot read: {exc.strerror or exc}") from None
    _refuse_non_text(data)
    if path.suffix.lower() in _MHTML_SUFFIXES or _looks_like_mhtml(data):
        page = _mhtml_page(data)
        if page is not None:
            body, content_type = page
            return extract_document(decode_html(body, content_type=content_type))
    if path.suffix.lower() in _TEXT_SUFFIXES or not _looks_like_html(data):
        return TextDocument(text=decode_text(data))
    return extract_document(decode_html(data))


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


def _fetch(url: str, proxy: str, allow_private: list[str], timeout: float) -> tuple[TextDocument, bool]:
    """The page at `url` (every redirect hop guarded), and whether its body was cut at MAX_FETCH_BYTES."""
    policy = AddressPolicy(allow_private, resolve_names=not proxy)
    reason = policy.refusal(url)
    if reason:
        raise CheckError(f"{url}: {reason}")
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {}),
        _GuardedRedirects(policy),
    )
    request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 PharmWatch-check"})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_FETCH_BYTES)
            truncated = bool(response.read(1))
            content_type = response.headers.get("Content-Type")
            encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
            final_url = response.geturl()
    except CheckError:
        raise
    except Exception as exc:  # noqa: BLE001 - any network failure becomes this input's error
        raise CheckError(f"{url}: fetch failed: {exc}") from None
    body = _decompressed(body, encoding)
    _refuse_non_text(body)
    return extract_document(decode_html(body, url=final_url, content_type=content_type), final_url), truncated
