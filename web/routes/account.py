"""My account (`/account`, `/api/account`): who I am, my role and my API tokens; creating a token (shown
once, on the page that answers the form: only its digest is stored) and revoking one (`web.auth`).
Any signed-in user, for their own tokens only; an admin sees every user's token names on `/users`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web import auth
from web.app import envelope, error, page
from web.deps import DbSession, Monitor, Principal

router = APIRouter()


def _page(request: Request, db: DbSession, user: Principal, *, new_token: str = "", new_name: str = "",
          status_code: int = 200) -> Response:
    return page(request, "account.html", {"tokens": auth.user_tokens(db, user.name), "new_token": new_token,
                                          "new_name": new_name, "done": request.query_params.get("done")},
                user=user, status_code=status_code)


@router.get("/account")
def account_html(request: Request, db: DbSession, user: Monitor) -> Response:
    return _page(request, db, user)


@router.get("/api/account")
def account_json(db: DbSession, user: Monitor) -> Response:
    return envelope({"name": user.name, "role": user.role, "via": user.via,
                     "tokens": [t.to_json() for t in auth.user_tokens(db, user.name)]})


@router.post("/account/tokens")
def create_token(request: Request, db: DbSession, user: Monitor,
                 name: Annotated[str, Form(max_length=100)]) -> Response:
    try:
        token = auth.new_api_token(db, user.name, name, actor=user.name)
        db.commit()
    except auth.AuthError as exc:
        db.rollback()
        return error(request, 400, str(exc), user)
    # Answered with the page itself, not a redirect: the token exists only in this response.
    return _page(request, db, user, new_token=token, new_name=name.strip())


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: DbSession, user: Monitor, token_id: int) -> Response:
    try:
        auth.revoke_api_token(db, user.name, token_id, actor=user.name)
        db.commit()
    except auth.AuthError as exc:
        db.rollback()
        return error(request, 404, str(exc), user)
    return RedirectResponse("/account?done=revoked", status_code=303)
