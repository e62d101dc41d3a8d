"""Parse a search-engine result page into a SerpPage, driven only by the engine's YAML spec.

Owns engine auto-detection (URL host, then page markers), block and no-results detection, result
extraction (organic and ads), tracking-link resolution, pagination, and the rule that a page with
zero results that is neither blocked nor "no results" is a parse failure, never an empty success.
Whatever the bytes, parsing raises nothing but SerpParseError (unknown or undetectable engine); a
page the parser cannot read comes back with ``parse_error`` set.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from parsel import Selector

from crawler.charset import decode_declared

from .models import SerpPage, SerpParseError, SerpResult
from .redirects import as_url, resolve_redirect
from .selector import all_links, all_texts, clean, first_link, first_text, matches, node_text
from .spec import EngineSpec, Fields, Marker, get_engine, load_engines

# Browsers' "Save page as" records where a page came from; parse_file uses it to read query and page.
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)
_VISIBLE_TEXT = "//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
_INT = re.compile(r"\d+")


def parse_file(path: str | Path, engine: str | None = None) -> SerpPage:
    """Parse a saved result page; its charset is sniffed from the bytes."""
    return parse_serp(Path(path).read_bytes(), engine=engine)


def parse_serp(
    html: str | bytes,
    *,
    url: str | None = None,
    engine: str | None = None,
    encoding: str | None = None,
) -> SerpPage:
    """Parse one result page.

    ``html`` as bytes is decoded with ``encoding`` (an HTTP charset) if given, else the page's own
    declaration, else a UTF-8/GB18030 guess. ``url`` is the page's address (helps detect the engine,
    the query and the page number); without it a browser's "saved from url" comment is used.
    ``engine`` is auto-detected when None; SerpParseError when that fails or the name is unknown.
    """
    text = _to_text(html, encoding)
    if url is None:
        saved = _SAVED_FROM.search(text[:4096])
        url = saved.group(1) if saved else None
    engines = load_engines()
    spec = get_engine(engine, engines) if engine else detect_engine(text, url, engines)
    try:
        return _Parser(spec, text, url).parse()
    except Exception as exc:  # a page must never crash a scan: record why it failed, next to the query
        return SerpPage(
            engine=spec.name,
            query=None,
            page=1,
            parse_error=f"the page could not be parsed ({type(exc).__name__}: {exc}); edit {spec.source.name}"
            " or report the page",
        )


def _to_text(html: str | bytes, encoding: str | None) -> str:
    if isinstance(html, bytes):
        try:
            html = decode_declared(html, encoding)[1]
        except (LookupError, ValueError):  # an unusable charset name, a codec that gives up
            html = html.decode("utf-8", "replace")
    # Lone surrogates (from str input) cannot reach the HTML parser, which works on UTF-8.
    try:
        html.encode("utf-8")
    except UnicodeEncodeError:
        html = html.encode("utf-8", "replace").decode("utf-8")
    return html


def detect_engine(text: str, url: str | None, engines: dict[str, EngineSpec]) -> EngineSpec:
    """The engine whose hosts match the URL, else the one with the most markers found in the page."""
    candidates = list(engines.values())
    host = _host(url)
    by_host = [s for s in candidates if s.matches_host(host)] if host else []
    if len(by_host) == 1:
        return by_host[0]
    if by_host:
        # Several engines claim the host: let the page's markers decide, else the first by name.
        candidates = by_host
    scored = sorted(
        ((sum(marker in text for marker in spec.markers), spec.name, spec) for spec in candidates),
        key=lambda item: (-item[0], item[1]),
    )
    if scored and (scored[0][0] > 0 or by_host):
        return scored[0][2]
    raise SerpParseError(
        "could not detect the search engine from "
        + (f"the URL host {host!r} or " if host else "")
        + f"the page markers; pass engine= one of: {', '.join(sorted(engines))}"
    )


class _Parser:
    def __init__(self, spec: EngineSpec, text: str, url: str | None) -> None:
        self.spec = spec
        self.url = url
        self.doc = Selector(text=text if text.strip() else "<html></html>")
        # Relative links on the page resolve against the page, or for saved files against the engine's
        # result page (Sogou's pager links are bare "?query=...&page=2").
        search = urlsplit(spec.search_url)
        self.base = url or f"{search.scheme}://{search.netloc}{search.path or '/'}"
        self._visible: str | None = None

    @property
    def visible_text(self) -> str:
        if self._visible is None:
            self._visible = clean(" ".join(self.doc.xpath(_VISIBLE_TEXT).getall()))
        return self._visible

    def parse(self) -> SerpPage:
        spec = self.spec
        page = SerpPage(engine=spec.name, query=self._query(), page=self._page_number())
        block = self._first_match(spec.block_markers)
        if block is not None:
            page.blocked = True
            page.block_reason = block.reason
            return page
        page.results = self._results(page.page)
        # "Nothing found" with organic results on the page is a spelling-corrected or widened search:
        # what the page shows is what counts. Ads alone on a "nothing found" page keep no_results.
        page.no_results = not page.organic and self._first_match(spec.no_results_markers) is not None
        page.related = all_texts(self.doc, spec.related)
        next_href = first_link(self.doc, spec.next_page)
        page.next_url = _join(self.base, next_href) if next_href else None
        if not page.results and not page.no_results:
            page.parse_error = (
                f"0 results found with selectors of {spec.name}; the markup may have changed "
                f"(edit {spec.source.name})"
            )
        return page

    # --- page-level facts ---------------------------------------------------------------------------

    def _first_match(self, markers: tuple[Marker, ...]) -> Marker | None:
        for marker in markers:
            if self._marker_holds(marker):
                return marker
        return None

    def _marker_holds(self, marker: Marker) -> bool:
        if marker.url is not None and (self.url is None or marker.url not in self.url):
            return False
        if marker.selector is not None:
            found = marker.selector(self.doc)
            if not found:
                return False
            if marker.text is not None:
                return any(marker.text in node_text(node) for node in found)
            return True
        if marker.text is not None:
            return marker.text in self.visible_text
        return True

    def _query(self) -> str | None:
        # The search box shows what the engine searched for; the URL is the fallback (block pages).
        query = first_text(self.doc, self.spec.query_selectors)
        if query:
            return query
        # A URL kept percent-encoded in a form field ("%2Fweb%3Fquery%3D...") is unquoted once.
        found = [link if "?" in link else unquote(link) for link in all_links(self.doc, self.spec.query_from_urls)]
        urls = [self.url, *found]
        for url in urls:
            for name in self.spec.query_url_params:
                value = _url_param(url, name)
                if value and value.strip():
                    return clean(value)
        return None

    def _page_number(self) -> int:
        # The pager's current-page marker is the truth: engines clamp out-of-range offsets.
        shown = first_text(self.doc, self.spec.page_selectors)
        if shown and (digits := _INT.search(shown)):
            return max(int(digits.group()), 1)
        param = self.spec.page_url_param
        value = _url_param(self.url, param) if param else None
        if value and value.strip().isdigit():
            number = int(value)
            if self.spec.page_param_is_offset:
                return number // self.spec.results_per_page + 1
            return max(number, 1)
        return 1

    # --- results ------------------------------------------------------------------------------------

    def _containers(self) -> list[Selector]:
        spec = self.spec
        found: list[Selector] = []
        seen: set[int] = set()
        for sel in spec.container:
            for node in sel(self.doc):
                if isinstance(node.root, str) or id(node.root) in seen:
                    continue
                seen.add(id(node.root))
                found.append(node)
        if len(spec.container) > 1:
            # Several container selectors: restore page order, which ranks depend on.
            order = {id(el): i for i, el in enumerate(self.doc.root.iter())}
            found.sort(key=lambda n: order.get(id(n.root), 0))
        # A container inside another one is part of it (sitelinks, an ad unit's inner block): the
        # outermost counts once.
        found = [n for n in found if not any(id(a) in seen for a in n.root.iterancestors())]
        return [n for n in found if not matches(n, spec.exclude)]

    def _results(self, page_number: int) -> list[SerpResult]:
        spec = self.spec
        results: list[SerpResult] = []
        organic_rank = ad_rank = 0
        for node in self._containers():
            is_ad = matches(node, spec.ad_marker)
            fields = _merge(spec.ad_fields, spec.fields) if is_ad else spec.fields
            # Keep the ignored elements alive while their id()s are in use.
            ignored = [m.root for sel in fields.ignore for m in sel(node) if not isinstance(m.root, str)]
            skip = frozenset(id(el) for el in ignored)
            title = first_text(node, fields.title, skip)
            raw_url = first_link(node, fields.link)
            if not title or not raw_url:
                # Cards without a title link (answer boxes, "others also searched") are not results.
                continue
            if is_ad:
                ad_rank += 1
                rank = ad_rank
            else:
                organic_rank += 1
                rank = organic_rank
            results.append(
                SerpResult(
                    rank=rank,
                    page=page_number,
                    title=title,
                    url=self._target(node, fields, raw_url),
                    displayed_url=first_text(node, fields.displayed_url, skip),
                    snippet=first_text(node, fields.snippet, skip),
                    is_ad=is_ad,
                    ad_label=first_text(node, spec.ad_label) if is_ad else None,
                    advertiser=first_text(node, spec.ad_advertiser, skip) if is_ad else None,
                    raw_url=raw_url,
                )
            )
        _set_ad_positions(results)
        return results

    def _target(self, node: Selector, fields: Fields, raw_url: str) -> str:
        """Where the result leads: the tracking link's own target, else ``target_url``, else the link."""
        absolute = _join(self.base, raw_url)
        resolved = resolve_redirect(absolute, self.spec.redirects)
        if resolved:
            return resolved
        if not self._is_tracking(absolute):
            return absolute  # a link off the engine already is the destination (Google's ad hrefs)
        for candidate in all_links(node, fields.target_url):
            # A list "https://a/,https://b/" (Google's data-pcu) gives its first URL; a protocol-relative
            # URL takes https; a candidate can itself be a tracking link (Sogou's snapshot link).
            candidate = candidate.split(",http", 1)[0].strip()
            if candidate.startswith("//"):
                candidate = "https:" + candidate
            target = resolve_redirect(candidate, self.spec.redirects) or as_url(candidate)
            if target:
                return target
        return absolute

    def _is_tracking(self, link: str) -> bool:
        """A link back to the engine itself, or to a known click tracker (an unreadable one)."""
        return self.spec.matches_host(_host(link)) or any(rule.applies_to(link) for rule in self.spec.redirects)


def _merge(first: Fields, then: Fields) -> Fields:
    return Fields(
        title=first.title + then.title,
        link=first.link + then.link,
        snippet=first.snippet + then.snippet,
        displayed_url=first.displayed_url + then.displayed_url,
        target_url=first.target_url + then.target_url,
        ignore=first.ignore + then.ignore,
    )


def _set_ad_positions(results: list[SerpResult]) -> None:
    organic_at = [i for i, r in enumerate(results) if not r.is_ad]
    for i, result in enumerate(results):
        if not result.is_ad:
            continue
        if not organic_at or i < organic_at[0]:
            result.ad_position = "top"
        elif i > organic_at[-1]:
            result.ad_position = "bottom"
        else:
            result.ad_position = "middle"


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""


def _join(base: str, link: str) -> str:
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. a malformed IPv6 host in a link
        return link


def _url_param(url: str | None, name: str) -> str | None:
    """A query parameter of ``url``; ``outer>inner`` reads ``inner`` from the URL held in ``outer``."""
    if not url:
        return None
    outer, _, inner = name.partition(">")
    try:
        values = parse_qs(urlsplit(url).query).get(outer)
    except ValueError:
        return None
    if not values:
        return None
    return _url_param(values[0], inner) if inner else values[0]
