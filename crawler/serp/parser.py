"""Parse a search-engine result page into a SerpPage, driven only by the engine's YAML spec.

Owns engine auto-detection (URL host, then page markers), block and no-results detection, result
extraction (organic and ads), tracking-link resolution, pagination, and the rule that a page with
zero results that is neither blocked nor "no results" is a parse failure, never an empty success.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

from .decode import decode_html
from .models import SerpPage, SerpParseError, SerpResult
from .selector import all_texts, clean, first_link, first_text, matches, node_text
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
    text = decode_html(html, encoding)[1] if isinstance(html, bytes) else html
    if url is None:
        saved = _SAVED_FROM.search(text[:4096])
        url = saved.group(1) if saved else None
    engines = load_engines()
    spec = get_engine(engine, engines) if engine else detect_engine(text, url, engines)
    return _Parser(spec, text, url).parse()


def detect_engine(text: str, url: str | None, engines: dict[str, EngineSpec]) -> EngineSpec:
    """The engine whose hosts match the URL, else the one with the most markers found in the page."""
    candidates = list(engines.values())
    host = (urlsplit(url).hostname or "") if url else ""
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
        self.doc = Selector(text=text or "<html></html>")
        # Relative links on the page resolve against the page, or the engine's own origin for saved files.
        origin = urlsplit(spec.search_url)
        self.base = url or f"{origin.scheme}://{origin.netloc}/"
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
        page.no_results = self._first_match(spec.no_results_markers) is not None
        page.results = self._results(page.page)
        page.related = all_texts(self.doc, spec.related)
        next_href = first_link(self.doc, spec.next_page)
        page.next_url = urljoin(self.base, next_href) if next_href else None
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
        for name in self.spec.query_url_params:
            value = _url_param(self.url, name)
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
        return [n for n in found if not matches(n, spec.exclude)]

    def _results(self, page_number: int) -> list[SerpResult]:
        spec = self.spec
        results: list[SerpResult] = []
        organic_rank = ad_rank = 0
        for node in self._containers():
            is_ad = matches(node, spec.ad_marker)
            fields = _merge(spec.ad_fields, spec.fields) if is_ad else spec.fields
            title = first_text(node, fields.title)
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
                    displayed_url=first_text(node, fields.displayed_url),
                    snippet=first_text(node, fields.snippet),
                    is_ad=is_ad,
                    ad_label=first_text(node, spec.ad_label) if is_ad else None,
                    advertiser=first_text(node, spec.ad_advertiser) if is_ad else None,
                    raw_url=raw_url,
                )
            )
        _set_ad_positions(results)
        return results

    def _target(self, node: Selector, fields: Fields, raw_url: str) -> str:
        absolute = urljoin(self.base, raw_url)
        resolved = self._resolve_redirect(absolute)
        if resolved:
            return resolved
        target = first_link(node, fields.target_url)
        if target and target.startswith(("http://", "https://")):
            return target
        return absolute

    def _resolve_redirect(self, link: str) -> str | None:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
        for rule in self.spec.redirects:
            if parts.path != rule.path or (rule.hosts and host not in rule.hosts):
                continue
            for value in parse_qs(parts.query).get(rule.param, []):
                # Some engines carry an opaque token here instead of the URL: only take real URLs.
                if value.startswith(("http://", "https://")):
                    return value
        return None


def _merge(first: Fields, then: Fields) -> Fields:
    return Fields(
        title=first.title + then.title,
        link=first.link + then.link,
        snippet=first.snippet + then.snippet,
        displayed_url=first.displayed_url + then.displayed_url,
        target_url=first.target_url + then.target_url,
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


def _url_param(url: str | None, name: str) -> str | None:
    """A query parameter of ``url``; ``outer>inner`` reads ``inner`` from the URL held in ``outer``."""
    if not url:
        return None
    outer, _, inner = name.partition(">")
    values = parse_qs(urlsplit(url).query).get(outer)
    if not values:
        return None
    return _url_param(values[0], inner) if inner else values[0]
