"""Accounts (admin only): the list (`/users`, `/api/users`), adding one and disabling one (`web.auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from storage.models import ROLES
from web import auth
from web.app import envelope, error, page
from web.deps import Admin, DbSession

router = APIRouter()


@router.get("/users")
def users_html(request: Request, db: DbSession, user: Admin) -> Response:
    return page(request, "users.html", {"users": auth.list_users(db), "roles": ROLES,
                                        "done": request.query_params.get("done")}, user=user)


@router.get("/api/users")
def users_json(db: DbSession, user: Admin) -> Response:
    return envelope([record.to_json() for record in auth.list_users(db)])


@router.post("/users")
def add_user(request: Request, db: DbSession, user: Admin, name: Annotated[str, Form(max_length=100)],
             role: Annotated[str, Form()], password: Annotated[str, Form(max_length=1024)]) -> Response:
    try:
        auth.add_user(db, name, role, password, actor=user.name)
        db.commit()
    except auth.AuthError as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    return RedirectResponse("/users?done=added", status_code=303)


@router.post("/users/{name}/disable")
def disable_user(request: Request, db: DbSession, user: Admin, name: str) -> Response:
    try:
        auth.disable_user(db, name, actor=user.name)
        db.commit()
    except auth.AuthError as exc:
        db.rollback()
        return error(request, 404, str(exc), user)
    return RedirectResponse("/users?done=disabled", status_code=303)
