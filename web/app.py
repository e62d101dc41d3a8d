"""The web application: `create_app(config, engine)` builds it (no module-level app, engine or settings).

Owns the page/JSON rendering helpers every router uses, the security headers of every response
(a strict Content-Security-Policy: scripts and styles from /static only, nothing inline), and how
the auth exceptions of `web.deps` are answered (HTML: sign-in redirect or error page; /api/: JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rules.model import CATEGORY_ZH
from rules.reference.diseases import DISEASE_ZH, UNSPECIFIED
from storage.db import session_factory
from web.deps import CsrfRejected, Forbidden, Principal, SignInRequired
from web.i18n import HTML_LANG, LANGUAGES, translations
from web.jobs import Jobs
from web.messages import localise
from web.schedule_desk import ScheduleDesk

HERE = Path(__file__).parent
LANG_COOKIE = "pw_lang"
# Every UI page: only our own static files run or style anything; captured pages are framed from our
# own sandboxed route; nobody may frame us (clickjacking); forms post only to us.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class WebConfig:
    """What the web layer needs, as plain values (read from the settings at the top, `pharmwatch serve`)."""

    blob_dir: Path
    timezone: str = "Asia/Shanghai"
    session_hours: float = 12.0
    secure_cookies: bool = False
    login_max_failures: int = 5
    login_window_minutes: float = 15.0
    language: str = "zh"
    rule_diseases: Mapping[str, Sequence[str]] = field(default_factory=dict)  # rule id → its disease areas
    home: Path | None = None  # the data folder: the office's own referral letter template
    key_fingerprint: str | None = None  # the evidence signing key's, printed on referral letters
    allow_private: Sequence[str] = ()  # [crawl] allow_private: networks a tip may point at
    cli: Sequence[str] = ()  # `pharmwatch [--config FILE]`: background work and evidence export run it as a child
    rule_paths: Sequence[Path] = ()  # the configured rule packs (empty: the bundled ones), for /rules
    schedules: ScheduleDesk | None = None  # the scheduler's jobs, for /schedules (built by `pharmwatch serve`)


def create_app(config: WebConfig, engine: Engine) -> FastAPI:
    from web.routes import blacklist, captures, cases, daily, dashboard, login, networks, referrals, scans, tips, users

    app = FastAPI(title="PharmWatch", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.sessions = session_factory(engine)
    app.state.templates = _templates(config)
    app.state.jobs = Jobs(config.cli, (config.home or config.blob_dir.parent) / "logs" / "web-jobs")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (login, daily, dashboard, cases, captures, networks, blacklist, referrals, tips, scans, users):
        app.include_router(module.router)
    from web.routes import account, ads, audit, file_imports, openapi, orders
    for module in (orders, ads, audit, account, openapi, file_imports):
        app.include_router(module.router)
    from web.routes import registries, rule_packs, schedules
    for module in (schedules, registries, rule_packs):
        app.include_router(module.router)
    app.middleware("http")(_security_headers)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range_on_postgresql)
    return app


async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
    response = await call_next(request)
    # A route that serves something else (a captured page) sets its own, stricter policy.
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.url.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages show evidence: not kept in caches
    return response


# --- rendering ------------------------------------------------------------------------------------------
def _templates(config: WebConfig) -> jinja2.Environment:
    # Autoescape everything: crawled text (titles, excerpts, URLs) is hostile and only ever shown escaped.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    zone = ZoneInfo(config.timezone)

    def localtime(value: str | datetime | None) -> str:
        """An ISO time (UTC) in the report timezone, to the minute."""
        if not value:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    env.filters["localtime"] = localtime
    env.globals["timezone"] = config.timezone
    return env


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else request.app.state.config.language


def page(request: Request, template: str, context: Mapping[str, Any], *, user: Principal | None,
         status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    gettext = translations(lang).gettext

    def category_label(name: str) -> str:
        return CATEGORY_ZH.get(name, name) if lang == "zh" else name.replace("_", " ")

    def area_label(name: str) -> str:
        if name == UNSPECIFIED:
            return gettext("unspecified")
        return DISEASE_ZH.get(name, name) if lang == "zh" else name.replace("_", " ")

    html = request.app.state.templates.get_template(template).render(
        {**context, "_": gettext, "category_label": category_label, "area_label": area_label, "user": user,
         "localise": lambda text: localise(text, lang), "lang": lang, "html_lang": HTML_LANG[lang], "request": request,
         "csrf": user.csrf if user else context.get("csrf", ""), "path": request.url.path})
    return HTMLResponse(html, status_code=status_code)


def envelope(data: Any, status_code: int = 200) -> JSONResponse:
    """The one JSON shape of /api/: {"ok": true, "data": ...} or {"ok": false, "error": "..."}."""
    body = {"ok": True, "data": data} if status_code < 400 else {"ok": False, "error": data}
    return JSONResponse(json.loads(json.dumps(body, default=str)), status_code=status_code)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error(request: Request, status_code: int, message: str, user: Principal | None = None) -> Response:
    if is_api(request):
        return envelope(message, status_code)
    # The API keeps the English (other systems read it); a page says it in the reader's language.
    return page(request, "error.html", {"status": status_code, "message": localise(message, language(request))},
                user=user, status_code=status_code)


def safe_next(target: str | None) -> str:
    """A local path to go back to after signing in (never another site: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    if is_api(request) or request.method != "GET":
        return error(request, 401, "sign in first (a session, or Authorization: Bearer <API token>)")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _forbidden(request: Request, _exc: Exception) -> Response:
    gettext = translations(language(request)).gettext
    return error(request, 403, gettext("Your role does not allow this."))


async def _csrf_rejected(request: Request, _exc: Exception) -> Response:
    gettext = translations(language(request)).gettext
    return error(request, 403, gettext("The form has expired or did not come from this site. Reload the page."))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error(request, exc.status_code, str(exc.detail))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error(request, 400, problems)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    # A number the database cannot hold (an id past 2**63, found by schemathesis): the request is wrong, not us.
    return error(request, 400, f"a number in the request is out of range: {exc}")


# SQLSTATE numeric_value_out_of_range: PostgreSQL's integer ids are 32-bit, so /api/cases/2147483648 gets here.
_NUMERIC_OUT_OF_RANGE = "22003"


async def _out_of_range_on_postgresql(request: Request, exc: Exception) -> Response:
    """What PostgreSQL cannot hold and SQLite can, sent by a client: an id past 32 bits, or text with a NUL
    character (psycopg refuses it before sending, so without a SQLSTATE). The web stores no crawled text,
    so such a value came with the request: a 400 as on SQLite, not a 500."""
    assert isinstance(exc, DataError)
    sqlstate = getattr(exc.orig, "sqlstate", "")
    if sqlstate == _NUMERIC_OUT_OF_RANGE:
        return error(request, 400, "a number in the request is out of range")
    if sqlstate is None and "NUL" in str(exc.orig):
        return error(request, 400, "text in the request contains a NUL character")
    raise exc  # any other data error is ours: a 500
