"""Request dependencies: the database session, who is asking (session cookie or API token), role checks
and CSRF; the exceptions they raise become a sign-in redirect, 401, 403 or 400 in `web.app`.

Every route but sign-in, static files and the health check depends on `require(role)`, so the
permission check happens on the server for every request. A request authenticated by the session
cookie with an unsafe method must carry the session's CSRF token (form field `csrf_token` or
header `X-CSRF-Token`, which htmx sends from `hx-headers`); an API token in `Authorization: Bearer`
is not sent by browsers on their own, so it needs none and is accepted under /api/ only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from web import auth

SESSION_COOKIE = "pw_session"
LOGIN_CSRF_COOKIE = "pw_login_csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class SignInRequired(Exception):
    """Nobody (or an ended session) is asking for a page that needs a user."""


class Forbidden(Exception):
    """The user's role does not allow this."""


class CsrfRejected(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user, their role, how they proved it, and (for a browser session) its CSRF token."""

    name: str
    role: str
    via: Literal["session", "token"]
    csrf: str = ""

    def can(self, role: str) -> bool:
        return auth.role_allows(self.role, role)


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; routes that change something commit it themselves before answering,
    so the response never claims a change that is not stored."""
    with request.app.state.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def optional_principal(request: Request, db: DbSession) -> Principal | None:
    """The signed-in user, or None; raises CsrfRejected for a cookie-authenticated unsafe request
    without the right token."""
    principal = None
    token = bearer_token(request)
    if token is not None and request.url.path.startswith("/api/"):
        user = auth.token_user(db, token)
        if user is not None:
            principal = Principal(user.name, user.role, "token")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        user = auth.session_user(db, cookie)
        if user is not None:
            principal = Principal(user.name, user.role, "session", auth.csrf_token(cookie))
    db.commit()  # last_seen / last_used_at
    if principal is not None and principal.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette: the route's Form parameters read it again
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
        if not sent or not auth.same_secret(sent, principal.csrf):
            raise CsrfRejected()
    return principal


MaybeUser = Annotated[Principal | None, Depends(optional_principal)]


def require(role: str) -> Callable[[Principal | None], Principal]:
    """A dependency admitting users of `role` or a higher one."""

    def check(principal: MaybeUser) -> Principal:
        if principal is None:
            raise SignInRequired()
        if not principal.can(role):
            raise Forbidden()
        return principal

    check.required_role = role  # type: ignore[attr-defined]  # read by the route-coverage test
    return check


Monitor = Annotated[Principal, Depends(require("monitor"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
Admin = Annotated[Principal, Depends(require("admin"))]
