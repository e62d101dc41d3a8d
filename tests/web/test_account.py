"""My account: a user creates an API token (shown once, never again), uses it on the JSON twins with their
own role, and revokes it (it stops at once); nobody reaches another user's tokens; an admin sees names only."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.web.world import World


def _create(client: TestClient, name: str) -> str:
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    [token] = re.findall(r'<code class="token">(pw_[\w-]+)</code>', response.text)
    return token


def test_a_token_is_shown_once_works_with_its_role_and_stops_when_revoked(
        world: World, app, signed_in: Callable[[str], TestClient]) -> None:  # type: ignore[no-untyped-def]
    mona = signed_in("mona")
    token = _create(mona, "监测脚本")
    page = mona.get("/account").text
    assert "监测脚本" in page and token not in page  # listed by name; the token itself only once
    [listed] = mona.get("/api/account").json()["data"]["tokens"]
    assert listed["name"] == "监测脚本" and listed["last_used_at"] is None and token not in str(listed)

    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get(f"/api/daily?date={world.day}").json()["data"]["total"] == 2
        assert script.get("/api/audit").status_code == 403  # a monitor's token has a monitor's role
        assert script.get("/daily", follow_redirects=False).status_code == 303  # tokens are for /api/ only
        assert script.get("/api/account").json()["data"]["via"] == "token"
        assert mona.get("/api/account").json()["data"]["tokens"][0]["last_used_at"] is not None

        revoke = mona.post(f"/account/tokens/{listed['id']}/revoke", follow_redirects=False)
        assert revoke.status_code == 303
        assert script.get("/api/daily").status_code == 401
    assert mona.get("/api/account").json()["data"]["tokens"] == []
    events = signed_in("sam").get("/api/audit?subject=user:mona").json()["data"]["events"]
    assert [e["action"] for e in events][:2] == ["api_token_revoked", "api_token_created"]


def test_nobody_reaches_another_users_tokens_and_an_admin_sees_names_only(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona, ada = signed_in("mona"), signed_in("ada")
    token = _create(mona, "nightly export")
    token_id = mona.get("/api/account").json()["data"]["tokens"][0]["id"]
    assert ada.post(f"/account/tokens/{token_id}/revoke").status_code == 404  # even an admin: it is mona's
    assert ada.get("/api/account").json()["data"]["tokens"] == []
    [record] = [u for u in ada.get("/api/users").json()["data"] if u["name"] == "mona"]
    assert record["tokens"] == ["nightly export"]
    assert token not in ada.get("/users").text and "nightly export" in ada.get("/users").text


def test_a_token_name_is_needed_and_unique_and_the_form_needs_its_csrf_token(
        world: World, app, signed_in: Callable[[str], TestClient]) -> None:  # type: ignore[no-untyped-def]
    mona = signed_in("mona")
    _create(mona, "one")
    assert mona.post("/account/tokens", data={"name": "one"}).status_code == 400
    assert mona.post("/account/tokens", data={"name": "  "}).status_code == 400
    del mona.headers["X-CSRF-Token"]
    assert mona.post("/account/tokens", data={"name": "two"}).status_code == 403
    assert len(mona.get("/api/account").json()["data"]["tokens"]) == 1
