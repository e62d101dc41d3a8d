"""Configuration: one TOML settings file plus environment overrides, validated into `Settings`.

Read once at the top (the CLI) and handed down as plain values; nothing below `pharmwatch/`
reads configuration itself. Precedence, lowest first: built-in defaults, the settings file
(`--config`, else `$PHARMWATCH_CONFIG`, else `$PHARMWATCH_HOME/pharmwatch.toml` when present),
then environment variables: `PHARMWATCH_HOME`, `PHARMWATCH_DATABASE_URL`, and
`PHARMWATCH_<SECTION>__<KEY>` for any other setting (e.g. `PHARMWATCH_CRAWL__PROXY`).
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.channels import CHANNEL_TYPES, MESSAGE_KINDS, SMTP_SECURITY, WEBHOOK_TYPES
from alerts.conditions import CONDITIONS
from crawler import settings as crawl_defaults
from pharmwatch.cron import cron_trigger

DEFAULT_HOME = Path("~/.pharmwatch")

# The regulator's plan puts the six focus diseases and the online-sale ban list first.
DEFAULT_QUERY_SETS: dict[str, list[str]] = {
    "diabetes": ["降糖药", "根治糖尿病", "糖尿病特效药", "告别胰岛素", "降糖 纯中药"],
    "hypertension": ["高血压特效药", "根治高血压", "降压药 停药", "降压 纯中药"],
    "kidney": ["肾病 偏方", "尿毒症 告别透析", "降肌酐 特效药", "肾衰竭 治愈"],
    "rheumatism": ["风湿骨痛 特效药", "根治类风湿", "骨质增生 特效"],
    "gout": ["痛风特效药", "根治痛风", "降尿酸 特效"],
    "sexual_dysfunction": ["壮阳药", "阳痿早泄 根治", "伟哥 哪里买", "西地那非 网购"],
    "online_sale_ban": ["网上买药 无需处方", "处方药 免处方 购买", "秋水仙碱 网购", "华法林 网上购买", "米非司酮 网购"],
    "rogue_pharmacy_en": ["buy viagra online no prescription", "cheap cialis without prescription",
                          "buy xanax online overnight"],
}


class SettingsError(Exception):
    """A settings file or environment value that cannot be used; the message names the fix."""


def _default(name: str) -> Any:
    """A field whose default is the crawler's (crawler/settings.py is the one source of crawl defaults)."""
    value = getattr(crawl_defaults, name)
    if isinstance(value, list | dict):
        return field(default_factory=lambda: copy.deepcopy(value))
    return field(default=value)


@dataclass
class CrawlSettings:
    """[crawl]: each key is a crawler setting under a user-facing name (CRAWL_KEYS); docs/settings.md."""

    proxy: str = _default("EGRESS_PROXY")
    allow_private: list[str] = _default("GUARD_ALLOW")
    max_pages_per_site: int = _default("CAPTURE_MAX_PAGES_PER_SITE")
    max_depth: int = _default("CAPTURE_MAX_DEPTH")
    concurrency: int = _default("CONCURRENT_REQUESTS")
    download_timeout: float = _default("DOWNLOAD_TIMEOUT")
    max_body_bytes: int = _default("CAPTURE_MAX_BODY_BYTES")
    retry_after_max_seconds: float = _default("CAPTURE_RETRY_AFTER_MAX_SECONDS")
    retry_after_times: int = _default("CAPTURE_RETRY_AFTER_TIMES")
    render_first_page: bool = _default("CAPTURE_RENDER_FIRST_PAGE")
    render_wait_ms: int = _default("CAPTURE_RENDER_WAIT_MS")
    chromium_path: str = _default("CAPTURE_CHROMIUM_PATH")
    user_agent: str = _default("USER_AGENT")
    obey_robots_txt: bool = _default("ROBOTSTXT_OBEY")
    host_addresses: dict[str, str] = _default("CAPTURE_HOST_ADDRESSES")
    ocr: bool = _default("OCR_ENABLED")
    ocr_max_images_per_page: int = _default("OCR_MAX_IMAGES_PER_PAGE")
    ocr_time_budget_seconds: float = _default("OCR_TIME_BUDGET_SECONDS")


# The user-facing keys of [crawl] and [search] and the crawler settings they set.
CRAWL_KEYS: dict[str, str] = {
    "proxy": "EGRESS_PROXY", "allow_private": "GUARD_ALLOW",
    "max_pages_per_site": "CAPTURE_MAX_PAGES_PER_SITE", "max_depth": "CAPTURE_MAX_DEPTH",
    "concurrency": "CONCURRENT_REQUESTS", "download_timeout": "DOWNLOAD_TIMEOUT",
    "max_body_bytes": "CAPTURE_MAX_BODY_BYTES", "retry_after_max_seconds": "CAPTURE_RETRY_AFTER_MAX_SECONDS",
    "retry_after_times": "CAPTURE_RETRY_AFTER_TIMES", "render_first_page": "CAPTURE_RENDER_FIRST_PAGE",
    "render_wait_ms": "CAPTURE_RENDER_WAIT_MS", "chromium_path": "CAPTURE_CHROMIUM_PATH",
    "user_agent": "USER_AGENT", "obey_robots_txt": "ROBOTSTXT_OBEY", "host_addresses": "CAPTURE_HOST_ADDRESSES",
    "ocr": "OCR_ENABLED", "ocr_max_images_per_page": "OCR_MAX_IMAGES_PER_PAGE",
    "ocr_time_budget_seconds": "OCR_TIME_BUDGET_SECONDS",
}
SEARCH_KEYS: dict[str, str] = {
    "block_retries": "SERP_BLOCK_RETRIES", "block_backoff_seconds": "SERP_BLOCK_BACKOFF_SECONDS",
    "proxies": "SERP_PROXIES", "delays": "SERP_DELAYS", "render": "SERP_RENDER",
}


@dataclass
class QuerySet:
    """Queries watched together (a disease area, a product category), on chosen engines."""

    name: str
    queries: list[str]
    engines: list[str] = field(default_factory=list)  # empty: [search] engines
    pages: int = 0  # result pages per query; 0: [search] pages_per_query
    schedule: str = ""  # cron (5 fields) for a scan of this set alone; empty: part of the nightly scan


@dataclass
class SearchSettings:
    engines: list[str] = field(default_factory=list)  # names of crawler/serp/engines/*.yaml
    queries: list[str] = field(default_factory=list)  # extra queries, on every engine
    pages_per_query: int = 2
    block_retries: int = _default("SERP_BLOCK_RETRIES")
    block_backoff_seconds: float = _default("SERP_BLOCK_BACKOFF_SECONDS")
    proxies: dict[str, str] = _default("SERP_PROXIES")
    delays: dict[str, float] = _default("SERP_DELAYS")
    render: list[str] = _default("SERP_RENDER")
    query_sets: list[QuerySet] = field(
        default_factory=lambda: [QuerySet(name, list(qs)) for name, qs in DEFAULT_QUERY_SETS.items()])

    def plan(self, only: list[str] | None = None) -> list[tuple[str, str, int]]:
        """(engine, query, pages) for every query on every engine it is watched on, without repeats.

        `only` names query sets to plan (the scheduler's per-set scans); None plans them all.
        """
        entries = [QuerySet("queries", self.queries), *self.query_sets]
        if only is not None:
            entries = [entry for entry in entries if entry.name in only]
        plan: dict[tuple[str, str], int] = {}
        for entry in entries:
            for engine in entry.engines or self.engines:
                for query in entry.queries:
                    plan[(engine, query)] = max(plan.get((engine, query), 0), entry.pages or self.pages_per_query)
        return [(engine, query, pages) for (engine, query), pages in plan.items()]


@dataclass
class ScheduleSettings:
    nightly: str = "0 2 * * *"  # cron (5 fields, [report] timezone) of the full scan
    digest: str = "30 7 * * *"  # cron of the morning digest; empty: no digest job
    recheck: str = "0 9 * * *"  # cron of the daily re-checks (blacklisted sites, orders past deadline); empty: none
    catch_up_hours: float = 6.0  # a run missed (scheduler down, scans busy) runs once if this late at most
    run_budget_minutes: float = 240.0  # a run still going after this is stopped and recorded partial/failed
    heartbeat_seconds: float = 10.0  # how often the scheduler renews its claim on the database
    stale_after_seconds: float = 120.0  # a claim not renewed for this long is taken over by a new scheduler


@dataclass
class ScanSettings:
    min_captured_share: float = 0.5  # below this share of pages captured, a scan exits 5 and says why
    distributed: bool = False  # sites are crawled by `pharmwatch worker` processes (PostgreSQL only)
    worker_heartbeat_seconds: float = 10.0  # how often a worker tells the queue it is alive
    stalled_worker_seconds: float = 30.0  # a worker silent this long is dead: its site is given to another
    sites_per_job: int = 1  # sites one worker crawls in one crawl (its start-up paid once)
    searches_per_job: int = 1  # queries of one engine one worker runs in one crawl (its start-up paid once)


@dataclass
class EvidenceSettings:
    tsa_url: str = ""  # RFC 3161 timestamp authority; empty: packages are signed but not timestamped


@dataclass
class ReportSettings:
    timezone: str = "Asia/Shanghai"  # day boundaries of the daily flagged-site list


@dataclass
class AlertChannel:
    """One [[alerts.channels]] table: where messages of some kinds go. Secrets are named, never written."""

    name: str
    type: str  # alerts.channels.CHANNEL_TYPES
    kinds: list[str] = field(default_factory=list)  # empty: every kind
    timeout_seconds: float = 30.0
    # webhooks (json, dingtalk, wecom, feishu)
    url: str = ""  # a URL without a token (a relay); else url_env
    url_env: str = ""  # environment variable holding the URL (the vendors' URLs carry the token)
    secret_env: str = ""  # environment variable holding the DingTalk/Feishu signing secret
    # smtp
    host: str = ""
    port: int = 0  # 0: 465 (ssl), 587 (starttls), 25 (none)
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password_env: str = ""  # environment variable holding the SMTP password
    sender: str = ""  # From: address
    to: list[str] = field(default_factory=list)

    def secret_values(self, environ: dict[str, str]) -> dict[str, str]:
        """The url, secret and password this channel names, read from `environ`; SettingsError when unset."""
        values = {}
        for key, env_key in (("url", "url_env"), ("secret", "secret_env"), ("password", "password_env")):
            name = getattr(self, env_key)
            if name:
                if not environ.get(name):
                    raise SettingsError(f"[alerts] channel {self.name!r}: {env_key} names {name}, "
                                        "which is not set in the environment")
                values[key] = environ[name]
        return values


# Keys that would hold a secret in the file: refused, naming the *_env key to use instead.
_SECRET_KEYS = {"password": "password_env", "secret": "secret_env", "token": "url_env", "access_token": "url_env",
                "key": "url_env"}
# Hosts of the vendors' robots: their webhook URLs always carry the robot's token.
_TOKEN_HOSTS = ("oapi.dingtalk.com", "qyapi.weixin.qq.com", "open.feishu.cn", "open.larksuite.com")


@dataclass
class AlertsSettings:
    channels: list[AlertChannel] = field(default_factory=list)
    max_attempts: int = 8  # a delivery failing this often is `failed` (`alerts retry` sends it again)
    backoff_base_seconds: float = 60.0  # wait after the first failure; doubles after each one
    backoff_max_seconds: float = 21600.0  # the longest wait between two attempts
    base_url: str = ""  # the web UI's address, for links in messages; empty: no links
    alert_on: list[str] = field(default_factory=lambda: list(CONDITIONS))  # alerts.conditions.CONDITIONS
    language: str = "zh"  # of the digest and alerts: zh | en


@dataclass
class WebSettings:
    """[web]: the monitors' web UI (`pharmwatch serve`, web/)."""

    host: str = "127.0.0.1"  # `serve` listens here unless --host; put a TLS proxy in front for other machines
    port: int = 8000
    session_hours: float = 12.0  # a sign-in lasts this long (then sign in again); logout or disabling ends it
    secure_cookies: bool = False  # mark cookies Secure even over plain HTTP (behind a TLS proxy); always over https
    login_max_failures: int = 5  # failed sign-ins per name (or per address) within the window before refusing
    login_window_minutes: float = 15.0
    language: str = "zh"  # default UI language: zh | en (each user can switch)


@dataclass
class Settings:
    home: Path = DEFAULT_HOME
    database_url: str = ""  # empty: SQLite at <home>/pharmwatch.db
    watchlist: list[str] = field(default_factory=list)  # site URLs crawled on every scan
    rule_paths: list[str] = field(default_factory=list)  # empty: the bundled packs in rules/packs
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    scan: ScanSettings = field(default_factory=ScanSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    web: WebSettings = field(default_factory=WebSettings)
    source: str = "defaults"  # where the settings came from, for error messages and /-/settings

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def rules_cache_dir(self) -> Path:
        """Compiled rule automata kept between loads (rules.database_cache)."""
        return self.home / "rules-cache"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'pharmwatch.db'}"

    def crawl_overrides(self, *, verbose: bool = False) -> dict[str, Any]:
        """These settings as overrides of the crawler's defaults (Scrapy names), for `crawler.run.crawl`."""
        overrides = {name: getattr(self.crawl, key) for key, name in CRAWL_KEYS.items()}
        overrides.update({name: getattr(self.search, key) for key, name in SEARCH_KEYS.items()})
        overrides.update(STORE_DATABASE_URL=self.db_url, STORE_BLOB_DIR=str(self.blob_dir),
                         OCR_CACHE_DIR=str(self.home / "ocr-cache"), RULES_CACHE_DIR=str(self.rules_cache_dir),
                         RULES_PATHS=list(self.rule_paths), LOG_LEVEL="INFO" if verbose else "WARNING")
        return copy.deepcopy(overrides)


_SECTIONS = {"crawl": CrawlSettings, "search": SearchSettings, "report": ReportSettings,
             "schedule": ScheduleSettings, "evidence": EvidenceSettings, "scan": ScanSettings,
             "alerts": AlertsSettings, "web": WebSettings}
_TOP_KEYS = {"home", "database_url", "watchlist", "rule_paths"}


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build validated settings; raise SettingsError naming the file, key and fix."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings()
    if config_file is None and env.get("PHARMWATCH_CONFIG"):
        config_file = Path(env["PHARMWATCH_CONFIG"])
    home = Path(env.get("PHARMWATCH_HOME") or DEFAULT_HOME).expanduser()
    if config_file is None and (home / "pharmwatch.toml").is_file():
        config_file = home / "pharmwatch.toml"
    if config_file is not None:
        _apply_file(settings, Path(config_file))
    _apply_env(settings, env)
    settings.home = Path(settings.home).expanduser().resolve()
    _check_values(settings)
    return settings


def _apply_file(settings: Settings, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: settings file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    settings.source = str(path)
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise SettingsError(f"{path}: [{key}] must be a table")
            section = getattr(settings, key)
            for sub_key, sub_value in value.items():
                _set(section, sub_key, sub_value, f"{path}: [{key}] {sub_key}")
        elif key in _TOP_KEYS:
            _set(settings, key, value, f"{path}: {key}")
        else:
            raise SettingsError(f"{path}: unknown setting {key!r}{_suggest(key, [*_TOP_KEYS, *_SECTIONS])}")


def _apply_env(settings: Settings, env: dict[str, str]) -> None:
    if env.get("PHARMWATCH_HOME"):
        settings.home = Path(env["PHARMWATCH_HOME"])
    if env.get("PHARMWATCH_DATABASE_URL"):
        settings.database_url = env["PHARMWATCH_DATABASE_URL"]
    for name, raw in env.items():
        if not name.startswith("PHARMWATCH_") or "__" not in name:
            continue
        section_name, _, key = name[len("PHARMWATCH_"):].lower().partition("__")
        if section_name not in _SECTIONS:
            raise SettingsError(f"environment {name}: unknown section {section_name!r}")
        _set(getattr(settings, section_name), key, _parse_env_value(raw), f"environment {name}")


def _parse_env_value(raw: str) -> Any:
    """Environment values are TOML literals when they parse as one (numbers, booleans, lists)."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _set(target: Any, key: str, value: Any, where: str) -> None:
    hints = get_type_hints(type(target))
    names = [f.name for f in fields(target) if f.name != "source"]
    if key not in names:
        raise SettingsError(f"{where}: unknown setting{_suggest(key, names)}")
    if hints[key] == list[QuerySet]:
        setattr(target, key, _query_sets(value, where))
        return
    if hints[key] == list[AlertChannel]:
        setattr(target, key, _alert_channels(value, where))
        return
    setattr(target, key, _coerce(value, hints[key], where))


def _query_sets(value: Any, where: str) -> list[QuerySet]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SettingsError(f"{where}: expected [[search.query_sets]] tables")
    sets = []
    for i, table in enumerate(value):
        entry = QuerySet(name=f"set{i + 1}", queries=[])
        for key, item in table.items():
            _set(entry, key, item, f"{where}[{i}]")
        if not entry.queries:
            raise SettingsError(f"{where}[{i}] ({entry.name}): queries must not be empty")
        if entry.pages < 0:
            raise SettingsError(f"{where}[{i}] ({entry.name}): pages must not be negative")
        sets.append(entry)
    return sets


def _alert_channels(value: Any, where: str) -> list[AlertChannel]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SettingsError(f"{where}: expected [[alerts.channels]] tables")
    channels = []
    for i, table in enumerate(value):
        here = f"{where}[{i}] ({table.get('name', '?')})"
        for key, env_key in _SECRET_KEYS.items():
            if key in table:
                raise SettingsError(f"{here}: a secret is not written in the settings file; put it in an environment "
                                    f"variable and name that: {env_key} = \"PHARMWATCH_...\"")
        if "from" in table:  # the e-mail header's name is a Python keyword
            raise SettingsError(f"{here}: the From: address is `sender`")
        if "name" not in table or "type" not in table:
            raise SettingsError(f"{here}: every channel needs a name and a type ({', '.join(CHANNEL_TYPES)})")
        channel = AlertChannel(name="", type="")
        for key, item in table.items():
            _set(channel, key, item, here)
        channels.append(channel)
    return channels


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is dict:
        key_type, value_type = get_args(hint)
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: expected a table of {value_type.__name__} values, got {value!r}")
        return {str(k): _coerce(v, value_type, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        (item_type,) = get_args(hint)
        if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
            raise SettingsError(f"{where}: expected a list of {item_type.__name__}, got {value!r}")
        return list(value)
    if hint is Path:
        if not isinstance(value, str):
            raise SettingsError(f"{where}: expected a path string, got {value!r}")
        return Path(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SettingsError(f"{where}: expected a whole number, got {value!r}")
    if not isinstance(value, hint):
        raise SettingsError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def _check_values(settings: Settings) -> None:
    crawl, where = settings.crawl, settings.source
    problems = [
        f"[crawl] {name} must be at least 1"
        for name in ("max_pages_per_site", "concurrency", "max_body_bytes")
        if getattr(crawl, name) < 1
    ]
    if crawl.max_depth < 0 or crawl.render_wait_ms < 0 or crawl.download_timeout <= 0:
        problems.append("[crawl] max_depth and render_wait_ms must not be negative, download_timeout must be > 0")
    if crawl.proxy and not crawl.proxy.startswith(("http://", "https://")):
        problems.append(f"[crawl] proxy must be an http:// URL, got {crawl.proxy!r}")
    if settings.search.pages_per_query < 1:
        problems.append("[search] pages_per_query must be at least 1")
    for engine, proxy in settings.search.proxies.items():
        if not proxy.startswith(("http://", "https://")):
            problems.append(f"[search] proxies.{engine} must be an http:// URL, got {proxy!r}")
    if any(delay < 0 for delay in settings.search.delays.values()):
        problems.append("[search] delays must not be negative")
    if settings.search.block_retries < 0 or settings.search.block_backoff_seconds < 0:
        problems.append("[search] block_retries and block_backoff_seconds must not be negative")
    if not 0 <= settings.scan.min_captured_share <= 1:
        problems.append(f"[scan] min_captured_share must be between 0 and 1, got {settings.scan.min_captured_share}")
    if settings.scan.stalled_worker_seconds < 2 * settings.scan.worker_heartbeat_seconds \
            or settings.scan.worker_heartbeat_seconds <= 0:
        problems.append("[scan] stalled_worker_seconds must be at least twice worker_heartbeat_seconds (> 0)")
    if settings.scan.sites_per_job < 1:
        problems.append("[scan] sites_per_job must be at least 1")
    if settings.scan.searches_per_job < 1:
        problems.append("[scan] searches_per_job must be at least 1")
    if crawl.retry_after_max_seconds < 0 or crawl.retry_after_times < 0:
        problems.append("[crawl] retry_after_max_seconds and retry_after_times must not be negative")
    try:
        ZoneInfo(settings.report.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"[report] timezone: {settings.report.timezone!r} is not a time zone name "
                        "(e.g. Asia/Shanghai, UTC)")
    # A bad cron must fail when the settings are read, naming the field, not at 2 a.m.
    crons = [("[schedule] nightly", settings.schedule.nightly)] + [
        (f"[schedule] {key}", value) for key in ("digest", "recheck")
        if (value := getattr(settings.schedule, key))] + [
        (f"[search] query_sets[{i}] ({q.name}) schedule", q.schedule)
        for i, q in enumerate(settings.search.query_sets) if q.schedule]
    for name, cron in crons:
        try:
            cron_trigger(cron, "UTC")
        except ValueError as exc:
            problems.append(f"{name}: {cron!r} is not a 5-field cron expression ({exc})")
    schedule = settings.schedule
    if min(schedule.catch_up_hours, schedule.run_budget_minutes, schedule.heartbeat_seconds) <= 0:
        problems.append("[schedule] catch_up_hours, run_budget_minutes and heartbeat_seconds must be > 0")
    if schedule.stale_after_seconds < 2 * schedule.heartbeat_seconds:
        problems.append("[schedule] stale_after_seconds must be at least twice heartbeat_seconds "
                        "(a live scheduler's claim must never look stale)")
    problems += _alert_problems(settings.alerts)
    web = settings.web
    if web.session_hours <= 0 or web.login_window_minutes <= 0 or web.login_max_failures < 1:
        problems.append("[web] session_hours and login_window_minutes must be > 0, login_max_failures at least 1")
    if not 0 < web.port < 65536:
        problems.append(f"[web] port must be between 1 and 65535, got {web.port}")
    if web.language not in ("zh", "en"):
        problems.append(f"[web] language must be zh or en, got {web.language!r}")
    if problems:
        raise SettingsError("\n".join(f"{where}: {problem}" for problem in problems))


def _alert_problems(alerts: AlertsSettings) -> list[str]:
    """Every channel checked when the settings are read: a broken channel must not wait for the first digest."""
    from urllib.parse import urlsplit

    problems = []
    if alerts.max_attempts < 1 or alerts.backoff_base_seconds <= 0 or alerts.backoff_max_seconds <= 0:
        problems.append("[alerts] max_attempts must be at least 1, backoff_base_seconds and backoff_max_seconds > 0")
    if alerts.base_url and not alerts.base_url.startswith(("http://", "https://")):
        problems.append(f"[alerts] base_url must be an http(s) URL (or empty: no links), got {alerts.base_url!r}")
    if set(alerts.alert_on) - set(CONDITIONS):
        problems.append(f"[alerts] alert_on: unknown condition(s) {sorted(set(alerts.alert_on) - set(CONDITIONS))}; "
                        f"known: {', '.join(CONDITIONS)}")
    if alerts.language not in ("zh", "en"):
        problems.append(f"[alerts] language must be zh or en, got {alerts.language!r}")
    names = [channel.name for channel in alerts.channels]
    for channel in alerts.channels:
        here = f"[alerts] channel {channel.name!r}"
        if not channel.name or names.count(channel.name) > 1:
            problems.append(f"{here}: every channel needs its own non-empty name")
        if channel.type not in CHANNEL_TYPES:
            problems.append(f"{here}: unknown type {channel.type!r}{_suggest(channel.type, list(CHANNEL_TYPES))}; "
                            f"known: {', '.join(CHANNEL_TYPES)}")
        unknown_kinds = [kind for kind in channel.kinds if kind not in MESSAGE_KINDS]
        if unknown_kinds:
            problems.append(f"{here}: unknown kinds {unknown_kinds}; known: {', '.join(MESSAGE_KINDS)}")
        if channel.timeout_seconds <= 0:
            problems.append(f"{here}: timeout_seconds must be > 0")
        if channel.type == "smtp":
            if not (channel.host and channel.sender and channel.to):
                problems.append(f"{here}: an smtp channel needs host, sender and to")
            if channel.security not in SMTP_SECURITY:
                problems.append(f"{here}: security must be one of {', '.join(SMTP_SECURITY)}")
        elif channel.type in WEBHOOK_TYPES:
            if bool(channel.url) == bool(channel.url_env):
                problems.append(f"{here}: give either url (no token in it) or url_env (the variable holding it)")
            parts = urlsplit(channel.url)
            if channel.url and parts.scheme not in ("http", "https"):
                problems.append(f"{here}: url must be http(s), got {parts.scheme or 'no scheme'}")
            elif channel.url and (parts.query or "@" in parts.netloc or parts.hostname in _TOKEN_HOSTS):
                problems.append(f"{here}: this url carries a token (a query, a user or a robot's address); put it "
                                "in an environment variable and name that: url_env = \"PHARMWATCH_...\"")
            if channel.secret_env and channel.type not in ("dingtalk", "feishu"):
                problems.append(f"{here}: secret_env is for dingtalk and feishu signing only")
    return problems


def _suggest(key: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(key, choices, n=1)
    return f": did you mean {close[0]!r}?" if close else ""
