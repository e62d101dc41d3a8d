"""Engine specs: load and validate ``crawler/serp/engines/*.yaml``, build search URLs.

Selectors are data so a monitor can repair a parser after an engine changes its markup without
touching code. Loading checks every file and reports every problem (file, field, fix) at once.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import yaml

from .models import EngineSpecError, SerpParseError
from .redirects import DECODERS, RedirectRule, host_matches
from .selector import Sel, compile_selector, is_absolute

ENGINES_DIR = Path(__file__).with_name("engines")

Sels = tuple[Sel, ...]


@dataclass(frozen=True)
class Marker:
    """A page condition: every given part must hold (url substring, selector present, text shown).

    ``text`` is looked for in what the selector matched when a selector is given, else in the page's
    visible text (scripts and styles excluded).
    """

    reason: str | None
    selector: Sel | None
    text: str | None
    url: str | None


@dataclass(frozen=True)
class Fields:
    title: Sels
    link: Sels
    snippet: Sels
    displayed_url: Sels
    target_url: Sels
    # Elements whose text is left out of title, snippet, displayed URL and advertiser (e.g. Bing's "网页" slug).
    ignore: Sels = ()


@dataclass(frozen=True)
class EngineSpec:
    """One engine's parser, as read from its YAML file (``source``)."""

    name: str
    title: str
    source: Path
    aliases: tuple[str, ...]
    hosts: tuple[str, ...]
    markers: tuple[str, ...]
    search_url: str
    results_per_page: int
    query_selectors: Sels
    query_url_params: tuple[str, ...]
    # URLs on the page (a block page's "continue" link) whose query_url_params also give the query.
    query_from_urls: Sels
    page_selectors: Sels
    page_url_param: str | None
    page_param_is_offset: bool
    container: Sels
    exclude: Sels
    fields: Fields
    ad_marker: Sels
    ad_label: Sels
    ad_advertiser: Sels
    # Ad-specific selectors tried before the general ones: ad cards are laid out differently.
    ad_fields: Fields
    redirects: tuple[RedirectRule, ...]
    block_markers: tuple[Marker, ...]
    no_results_markers: tuple[Marker, ...]
    next_page: Sels
    related: Sels

    def matches_host(self, host: str) -> bool:
        return host_matches(host, self.hosts)


# --- loading ---------------------------------------------------------------------------------------

_TOP_KEYS = {
    "name",
    "title",
    "aliases",
    "detect",
    "search_url",
    "results_per_page",
    "query",
    "page",
    "results",
    "ads",
    "redirect_params",
    "block_markers",
    "no_results_markers",
    "next_page",
    "related",
}
_REQUIRED = (
    "name",
    "detect",
    "search_url",
    "results_per_page",
    "results",
    "block_markers",
    "no_results_markers",
)
_FIELD_KEYS = ("title", "link", "snippet", "displayed_url", "target_url", "ignore")
_PLACEHOLDERS = ("query", "page", "offset", "first")

_cache: dict[tuple[tuple[str, int, int], ...], dict[str, EngineSpec]] = {}


def load_engines(directory: str | Path | None = None) -> dict[str, EngineSpec]:
    """Load every ``*.yaml`` engine spec of ``directory`` (default: ``crawler/serp/engines``).

    Raises EngineSpecError naming each broken file and field. Results are cached until a file
    changes, so a repaired YAML takes effect in a running process.
    """
    folder = Path(directory) if directory is not None else ENGINES_DIR
    files = sorted(folder.glob("*.yaml"))
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if key in _cache:
        return dict(_cache[key])
    if not files:
        raise EngineSpecError(f"{folder}: no engine specs (*.yaml) found")
    engines: dict[str, EngineSpec] = {}
    problems: list[str] = []
    for path in files:
        spec = _load_file(path, problems)
        if spec is None:
            continue
        if spec.name in engines:
            problems.append(f"{path}: name: {spec.name!r} is already used by {engines[spec.name].source}")
            continue
        engines[spec.name] = spec
    claimed: dict[str, EngineSpec] = {}
    for spec in engines.values():
        for alias in spec.aliases:
            other = engines.get(alias) or claimed.get(alias)
            if other is not None and other is not spec:
                problems.append(f"{spec.source}: aliases: {alias!r} is already used by {other.source}")
            claimed[alias] = spec
    if problems:
        raise EngineSpecError("broken engine spec(s):\n  " + "\n  ".join(problems))
    _cache.clear()
    _cache[key] = engines
    return dict(engines)


def get_engine(name: str, engines: dict[str, EngineSpec] | None = None) -> EngineSpec:
    """The engine called ``name`` or one of its ``aliases`` (e.g. ``360`` for ``so360``)."""
    engines = engines if engines is not None else load_engines()
    if name in engines:
        return engines[name]
    for spec in engines.values():
        if name in spec.aliases:
            return spec
    known = ", ".join(sorted(engines)) or "none"
    raise SerpParseError(f"unknown search engine {name!r}; known engines: {known}")


def build_search_url(engine: str, query: str, page: int) -> str:
    """URL of result page ``page`` (1-based) for ``query`` on ``engine``."""
    if page < 1:
        raise ValueError(f"page is 1-based, got {page}")
    spec = get_engine(engine)
    offset = (page - 1) * spec.results_per_page
    return spec.search_url.format(query=quote_plus(query), page=page, offset=offset, first=offset + 1)


class _Reader:
    """Reads one YAML mapping, recording problems as '<file>: <field>: <message>' instead of raising."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems

    def fail(self, field: str, message: str) -> None:
        self.problems.append(f"{self.path}: {field}: {message}")

    def mapping(self, raw: Any, field: str, allowed: set[str] | tuple[str, ...]) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(field, f"must be a mapping, got {type(raw).__name__}")
            return {}
        for key in raw:
            if key not in allowed:
                self.fail(
                    f"{field}.{key}" if field else str(key),
                    f"unknown field; allowed: {', '.join(sorted(allowed))}",
                )
        return raw

    def text(self, raw: Any, field: str, *, required: bool = False) -> str | None:
        if raw is None:
            if required:
                self.fail(field, "is required")
            return None
        if not isinstance(raw, str) or not raw.strip():
            self.fail(field, "must be a non-empty string")
            return None
        return raw

    def texts(self, raw: Any, field: str) -> tuple[str, ...]:
        items = [raw] if isinstance(raw, str) else raw
        if items is None:
            return ()
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            self.fail(field, "must be a string or a list of non-empty strings")
            return ()
        return tuple(items)

    def selectors(self, raw: Any, field: str, *, required: bool = False, relative: bool = False) -> Sels:
        if raw is None and required:
            self.fail(field, "is required (a selector or a list of selectors)")
            return ()
        out: list[Sel] = []
        for i, source in enumerate(self.texts(raw, field)):
            where = field if isinstance(raw, str) else f"{field}[{i}]"
            try:
                sel = compile_selector(source)
            except ValueError as exc:
                self.fail(where, str(exc))
                continue
            if relative and is_absolute(sel):
                self.fail(where, f"{source!r} searches the whole page; inside a result start it with './/'")
                continue
            out.append(sel)
        return tuple(out)

    def markers(self, raw: Any, field: str, *, reason_required: bool) -> tuple[Marker, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail(field, "must be a list of markers ({reason, selector, text, url})")
            return ()
        out: list[Marker] = []
        for i, item in enumerate(raw):
            where = f"{field}[{i}]"
            item = self.mapping(item, where, ("reason", "selector", "text", "url"))
            if not item:
                continue
            sels = self.selectors(item.get("selector"), f"{where}.selector")
            if len(sels) > 1:
                self.fail(f"{where}.selector", "takes one selector; write one marker per selector")
            text = self.text(item.get("text"), f"{where}.text")
            url = self.text(item.get("url"), f"{where}.url")
            reason = self.text(item.get("reason"), f"{where}.reason", required=reason_required)
            if not (sels or text or url) and "selector" not in item:
                self.fail(where, "needs at least one of selector, text, url")
                continue
            out.append(Marker(reason, sels[0] if sels else None, text, url))
        return tuple(out)

    def fields(self, raw: dict[str, Any], field: str, *, required: tuple[str, ...]) -> Fields:
        values = {
            key: self.selectors(raw.get(key), f"{field}.{key}", required=key in required, relative=True)
            for key in _FIELD_KEYS
        }
        return Fields(**values)


def _load_file(path: Path, problems: list[str]) -> EngineSpec | None:
    before = len(problems)
    r = _Reader(path, problems)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        r.fail("(file)", f"cannot read YAML: {exc}")
        return None
    if not isinstance(raw, dict):
        r.fail("(file)", "must be a mapping of fields (name, detect, search_url, ...)")
        return None
    raw = r.mapping(raw, "", _TOP_KEYS)
    for key in _REQUIRED:
        if key not in raw:
            r.fail(key, "is required")

    name = r.text(raw.get("name"), "name") or path.stem
    if name != path.stem:
        r.fail("name", f"{name!r} must match the file name {path.stem!r}")

    detect = r.mapping(raw.get("detect"), "detect", ("hosts", "markers"))
    hosts = tuple(h.lower() for h in r.texts(detect.get("hosts"), "detect.hosts"))
    markers = r.texts(detect.get("markers"), "detect.markers")
    if "detect" in raw and not (hosts or markers):
        r.fail("detect", "needs hosts and/or markers, or the engine can never be auto-detected")

    search_url = r.text(raw.get("search_url"), "search_url") or ""
    if search_url:
        _check_template(r, search_url)

    rpp = raw.get("results_per_page")
    if rpp is not None and (not isinstance(rpp, int) or isinstance(rpp, bool) or rpp < 1):
        r.fail("results_per_page", f"must be a positive integer, got {rpp!r}")
        rpp = None

    aliases = r.texts(raw.get("aliases"), "aliases")
    query = r.mapping(raw.get("query"), "query", ("selectors", "url_params", "from_urls"))
    page = r.mapping(raw.get("page"), "page", ("selectors", "url_param", "param_is_offset"))
    offset_flag = page.get("param_is_offset", False)
    if not isinstance(offset_flag, bool):
        r.fail("page.param_is_offset", "must be true or false")

    results = r.mapping(raw.get("results"), "results", ("container", "exclude", *_FIELD_KEYS))
    ads = r.mapping(raw.get("ads"), "ads", ("marker", "label", "advertiser", *_FIELD_KEYS))
    if ads and "marker" not in ads:
        r.fail("ads.marker", "is required when ads are described (what makes a result an ad)")

    redirects: list[RedirectRule] = []
    raw_redirects = raw.get("redirect_params") or []
    if not isinstance(raw_redirects, list):
        r.fail("redirect_params", "must be a list of {path, param, hosts, decode, strip_prefix}")
        raw_redirects = []
    for i, item in enumerate(raw_redirects):
        where = f"redirect_params[{i}]"
        item = r.mapping(item, where, ("path", "param", "hosts", "decode", "strip_prefix"))
        rpath = r.text(item.get("path"), f"{where}.path", required=True)
        param = r.text(item.get("param"), f"{where}.param", required=True)
        if rpath and not rpath.startswith("/"):
            r.fail(f"{where}.path", f"{rpath!r} must start with '/'")
        decode = r.text(item.get("decode"), f"{where}.decode") or "plain"
        if decode not in DECODERS:
            r.fail(f"{where}.decode", f"unknown decoder {decode!r}; use one of: {', '.join(DECODERS)}")
            decode = "plain"
        prefix = r.text(item.get("strip_prefix"), f"{where}.strip_prefix")
        if rpath and param:
            rule_hosts = tuple(h.lower() for h in r.texts(item.get("hosts"), f"{where}.hosts"))
            redirects.append(RedirectRule(rpath, param, rule_hosts, decode, prefix))

    spec = EngineSpec(
        name=name,
        title=r.text(raw.get("title"), "title") or name,
        source=path,
        aliases=aliases,
        hosts=hosts,
        markers=markers,
        search_url=search_url,
        results_per_page=rpp or 10,
        query_selectors=r.selectors(query.get("selectors"), "query.selectors"),
        query_url_params=r.texts(query.get("url_params"), "query.url_params"),
        query_from_urls=r.selectors(query.get("from_urls"), "query.from_urls"),
        page_selectors=r.selectors(page.get("selectors"), "page.selectors"),
        page_url_param=r.text(page.get("url_param"), "page.url_param"),
        page_param_is_offset=bool(offset_flag),
        container=r.selectors(results.get("container"), "results.container", required="results" in raw),
        exclude=r.selectors(results.get("exclude"), "results.exclude", relative=True),
        fields=r.fields(results, "results", required=("title", "link") if "results" in raw else ()),
        ad_marker=r.selectors(ads.get("marker"), "ads.marker", relative=True),
        ad_label=r.selectors(ads.get("label"), "ads.label", relative=True),
        ad_advertiser=r.selectors(ads.get("advertiser"), "ads.advertiser", relative=True),
        ad_fields=r.fields(ads, "ads", required=()),
        redirects=tuple(redirects),
        block_markers=r.markers(raw.get("block_markers"), "block_markers", reason_required=True),
        no_results_markers=r.markers(
            raw.get("no_results_markers"), "no_results_markers", reason_required=False
        ),
        next_page=r.selectors(raw.get("next_page"), "next_page"),
        related=r.selectors(raw.get("related"), "related"),
    )
    return spec if len(problems) == before else None


def _check_template(r: _Reader, template: str) -> None:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        r.fail("search_url", f"bad template: {exc}")
        return
    unknown = names - set(_PLACEHOLDERS)
    if unknown:
        known = ", ".join(f"{{{p}}}" for p in _PLACEHOLDERS)
        r.fail("search_url", f"unknown placeholder(s) {sorted(unknown)}; use {known}")
    if "query" not in names:
        r.fail("search_url", "must contain {query}")
