"""Signing in and out, the language switch and the health check: the only routes open to anonymous users.

The sign-in form is protected against login CSRF by a double-submit token (a random cookie repeated in
a hidden field): before signing in there is no session to derive a token from.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web import auth
from web.app import LANG_COOKIE, page, safe_next
from web.deps import LOGIN_CSRF_COOKIE, SESSION_COOKIE, DbSession, Forbidden, MaybeUser
from web.i18n import LANGUAGES, translations

router = APIRouter()


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.config.secure_cookies


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _login_page(request: Request, next_path: str, message: str = "", status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "login.html", {"next": safe_next(next_path), "message": message, "csrf": token},
                    user=None, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request),
                        path="/login")
    return response


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str = "/") -> Response:  # noqa: A002 - the query name
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next)


@router.post("/login")
def login(request: Request, db: DbSession, name: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1024)], csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    gettext = translations(request.cookies.get(LANG_COOKIE) or request.app.state.config.language).gettext
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not auth.same_secret(csrf_token, expected):
        raise Forbidden()
    config = request.app.state.config
    address = client_address(request)
    name = name.strip()
    if auth.throttled(db, name, address, max_failures=config.login_max_failures,
                      window=timedelta(minutes=config.login_window_minutes)):
        return _login_page(request, next, gettext("Too many failed sign-ins. Wait a few minutes and try again."),
                           status_code=429)
    user = auth.verify_password(db, name, password)
    auth.record_attempt(db, name, address, succeeded=user is not None)
    if user is None:
        db.commit()
        return _login_page(request, next, gettext("Wrong name or password."), status_code=401)
    token = auth.start_session(db, user, hours=config.session_hours, address=address)
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    # Lax, not Strict: a link to a case in the morning digest must arrive signed in; POSTs carry a CSRF token.
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure(request),
                        max_age=int(config.session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, user: MaybeUser) -> Response:
    # MaybeUser has checked the CSRF token of a live session; without one there is nothing to end.
    if user is not None and (cookie := request.cookies.get(SESSION_COOKIE)):
        auth.end_session(db, cookie)
        db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:  # noqa: A002
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, samesite="lax", secure=secure(request), max_age=365 * 86400)
    return response


@router.get("/-/health")
def health() -> Response:
    return JSONResponse({"ok": True})
