"""Accounts, passwords, server-side sessions, API tokens and sign-in throttling of the web UI.

Plain functions over the database, called by the web routes and by `pharmwatch user ...`; each change
is audited in the caller's transaction. Passwords are argon2id hashes; session and API tokens are
random, shown once, and stored only as SHA-256 (high-entropy secrets need no slow hash), so a copy
of the database signs nobody in. Roles are ranked: each can do what the ones before it can.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.audit import record_event
from storage.models import ROLES, ApiToken, LoginAttempt, UserAccount, WebSession, utcnow

# argon2id with the library's defaults (RFC 9106's low-memory profile). Stateless, so one is shared.
HASHER = PasswordHasher()
MIN_PASSWORD = 8
_NAME_RE = re.compile(r"^[\w.@-]{1,100}$")  # \w includes CJK: monitors may use their Chinese names
# last_seen is written at most this often: a page view should not always be a database write.
_TOUCH_EVERY = timedelta(minutes=1)


class AuthError(Exception):
    """An account operation that cannot be done as asked; the message says why and what to do."""


def role_allows(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of its secret cookie, so it needs no storage and an attacker
    who cannot read the cookie cannot compute it (the synchronizer-token pattern, stateless)."""
    return hmac.new(session_token.encode(), b"pharmwatch-csrf", hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass
class UserRecord:
    name: str
    role: str
    disabled: bool
    created_at: str  # ISO 8601, UTC
    sessions: int  # live sessions
    tokens: list[str]  # names of live API tokens

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _user(session: Session, name: str) -> UserAccount:
    user = session.scalar(select(UserAccount).where(UserAccount.name == name))
    if user is None:
        raise AuthError(f"no user {name!r}; `pharmwatch user list` shows them")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password must have at least {MIN_PASSWORD} characters")


def add_user(session: Session, name: str, role: str, password: str, *, actor: str) -> UserAccount:
    name = name.strip()
    if not _NAME_RE.match(name):
        raise AuthError(f"user name {name!r}: letters, digits, '.', '@', '_' and '-' only, 1-100 characters")
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if session.scalar(select(UserAccount.id).where(UserAccount.name == name)) is not None:
        raise AuthError(f"user {name!r} exists; `pharmwatch user passwd {name}` changes the password")
    _check_password(password)
    user = UserAccount(name=name, role=role, password_hash=HASHER.hash(password))
    session.add(user)
    session.flush()
    record_event(session, actor=actor, action="user_added", subject=f"user:{name}", details={"role": role})
    return user


def end_sessions(session: Session, user: UserAccount) -> int:
    """Revoke every live session of `user`; returns how many."""
    result = session.execute(update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return result.rowcount  # type: ignore[attr-defined, no-any-return]


def disable_user(session: Session, name: str, *, actor: str) -> UserAccount:
    """Disable an account: its sessions and API tokens stop working at once."""
    user = _user(session, name)
    user.disabled = True
    ended = end_sessions(session, user)
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
    record_event(session, actor=actor, action="user_disabled", subject=f"user:{name}", details={"sessions": ended})
    return user


def set_password(session: Session, name: str, password: str, *, actor: str) -> UserAccount:
    """A new password; the user's sessions end (someone who knew the old one is signed out)."""
    user = _user(session, name)
    _check_password(password)
    user.password_hash = HASHER.hash(password)
    ended = end_sessions(session, user)
    record_event(session, actor=actor, action="password_changed", subject=f"user:{name}", details={"sessions": ended})
    return user


def list_users(session: Session) -> list[UserRecord]:
    now = utcnow()
    records = []
    for user in session.scalars(select(UserAccount).order_by(UserAccount.name)):
        live = session.scalar(select(func.count()).select_from(WebSession).where(
            WebSession.user_id == user.id, WebSession.revoked_at.is_(None), WebSession.expires_at > now)) or 0
        tokens = list(session.scalars(select(ApiToken.name).where(ApiToken.user_id == user.id,
                                                                  ApiToken.revoked_at.is_(None))
                                      .order_by(ApiToken.name)))
        records.append(UserRecord(user.name, user.role, user.disabled,
                                  user.created_at.replace(tzinfo=UTC).isoformat(timespec="seconds"), live, tokens))
    return records


def new_api_token(session: Session, name: str, token_name: str, *, actor: str) -> str:
    """A new API token for user `name` (returned once; only its digest is kept)."""
    user = _user(session, name)
    if user.disabled:
        raise AuthError(f"user {name!r} is disabled")
    token_name = token_name.strip()
    if not token_name:
        raise AuthError("an API token needs a name (--name), e.g. the script that uses it")
    if session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == token_name)):
        raise AuthError(f"user {name!r} already has (or had: revoked tokens keep their names) a token named "
                        f"{token_name!r}; choose another name")
    token = "pw_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_sha256=token_digest(token), user_id=user.id, name=token_name))
    record_event(session, actor=actor, action="api_token_created", subject=f"user:{name}",
                 details={"name": token_name})
    return token


@dataclass
class TokenRecord:
    """An API token as its owner sees it: never the token itself (only its digest is kept)."""

    id: int
    name: str
    created_at: str  # ISO 8601, UTC
    last_used_at: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat(timespec="seconds") if moment else None


def user_tokens(session: Session, name: str) -> list[TokenRecord]:
    """The live (not revoked) API tokens of user `name`, by name."""
    user = _user(session, name)
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                           .order_by(ApiToken.name))
    return [TokenRecord(row.id, row.name, _iso(row.created_at) or "", _iso(row.last_used_at)) for row in rows]


def revoke_api_token(session: Session, name: str, token_id: int, *, actor: str) -> str:
    """Revoke user `name`'s live token `token_id` (it stops working at once); returns its name. Another
    user's token is "not found" rather than "forbidden", so ids of others' tokens are not revealed."""
    user = _user(session, name)
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id,
                                                ApiToken.revoked_at.is_(None)))
    if row is None:
        raise AuthError(f"user {name!r} has no live API token {token_id}")
    row.revoked_at = utcnow()
    record_event(session, actor=actor, action="api_token_revoked", subject=f"user:{name}",
                 details={"name": row.name})
    return row.name


# --- signing in ---------------------------------------------------------------------------------
_DUMMY_HASH = HASHER.hash("not a password of anyone")


def verify_password(session: Session, name: str, password: str) -> UserAccount | None:
    """The enabled user with this name and password, else None. An unknown name costs a hash too, so
    the answer's timing does not tell which names exist."""
    user = session.scalar(select(UserAccount).where(UserAccount.name == name))
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if HASHER.check_needs_rehash(user.password_hash):  # parameters raised since it was set
        user.password_hash = HASHER.hash(password)
    return user


def throttled(session: Session, name: str, address: str, *, max_failures: int, window: timedelta) -> bool:
    """Too many failed sign-ins for this name, or from this address, in the window (since the last success)."""
    since = utcnow() - window
    for column, value in ((LoginAttempt.name, name), (LoginAttempt.address, address)):
        last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(column == value,
                                                                          LoginAttempt.succeeded.is_(True)))
        start = max(since, last_ok) if last_ok else since
        failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at > start)) or 0
        if failures >= max_failures:
            return True
    return False


def record_attempt(session: Session, name: str, address: str, *, succeeded: bool) -> None:
    session.add(LoginAttempt(name=name[:100], address=address[:64], succeeded=succeeded))
    if not succeeded:
        record_event(session, actor=name[:100] or "-", action="login_failed", subject=f"user:{name[:90]}",
                     details={"address": address})


def start_session(session: Session, user: UserAccount, *, hours: float, address: str = "") -> str:
    """A new session for `user`; returns its token (the cookie value), kept only as a digest."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebSession(token_sha256=token_digest(token), user_id=user.id, created_at=now, last_seen=now,
                           expires_at=now + timedelta(hours=hours)))
    record_event(session, actor=user.name, action="login", subject=f"user:{user.name}", details={"address": address})
    return token


def session_user(session: Session, token: str) -> UserAccount | None:
    """The user of a live session (not revoked, not expired, user enabled), else None."""
    row = session.scalar(select(WebSession).where(WebSession.token_sha256 == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.user.disabled:
        return None
    if now - row.last_seen > _TOUCH_EVERY:
        row.last_seen = now
    return row.user


def end_session(session: Session, token: str) -> UserAccount | None:
    """Log out: revoke the session (the cookie is worthless from now on); returns its user."""
    row = session.scalar(select(WebSession).where(WebSession.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = utcnow()
    record_event(session, actor=row.user.name, action="logout", subject=f"user:{row.user.name}")
    return row.user


def token_user(session: Session, token: str) -> UserAccount | None:
    """The user of a live API token, else None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None or row.user.disabled:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
    return row.user
