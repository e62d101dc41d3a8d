"""Every route checks the role on the server: the route table, and each route tried anonymously, as each
role by session cookie and by API token (401/403/200 as the table says)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.world import World

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/lang/{code}"),
          ("GET", "/-/health")}
# (method, path) → the least role the route admits.
ROUTES = {
    ("GET", "/"): "monitor", ("GET", "/daily"): "monitor", ("GET", "/api/daily"): "monitor",
    ("GET", "/cases"): "monitor", ("GET", "/api/cases"): "monitor",
    ("GET", "/cases/{case_id}"): "monitor", ("GET", "/api/cases/{case_id}"): "monitor",
    ("POST", "/cases/{case_id}/{action}"): "monitor", ("POST", "/api/cases/{case_id}/{action}"): "monitor",
    ("GET", "/captures/{capture_id}/screenshot"): "monitor", ("GET", "/captures/{capture_id}/page"): "monitor",
    ("GET", "/captures/{capture_id}/images/{sha256}"): "monitor",
    ("GET", "/users"): "admin", ("GET", "/api/users"): "admin", ("POST", "/users"): "admin",
    ("POST", "/users/{name}/disable"): "admin",
    ("GET", "/dashboard"): "monitor", ("GET", "/api/dashboard"): "monitor",
    ("GET", "/networks"): "monitor", ("GET", "/api/networks"): "monitor",
    ("GET", "/networks/{network_id}"): "monitor", ("GET", "/api/networks/{network_id}"): "monitor",
    ("GET", "/blacklist"): "monitor", ("GET", "/api/blacklist"): "monitor",
    ("POST", "/blacklist"): "supervisor", ("POST", "/api/blacklist"): "supervisor",
    ("POST", "/blacklist/{entry_id}/lift"): "supervisor", ("POST", "/api/blacklist/{entry_id}/lift"): "supervisor",
    ("GET", "/referrals"): "monitor", ("GET", "/api/referrals"): "monitor",
    ("GET", "/referrals/{referral_id}"): "monitor", ("GET", "/api/referrals/{referral_id}"): "monitor",
    ("GET", "/referrals/{referral_id}/letter"): "monitor",
    ("POST", "/referrals/{referral_id}/status"): "supervisor",
    ("POST", "/api/referrals/{referral_id}/status"): "supervisor",
    ("GET", "/tips"): "monitor", ("GET", "/api/tips"): "monitor",
    ("POST", "/tips"): "monitor", ("POST", "/api/tips"): "monitor",
    ("GET", "/scans"): "monitor", ("GET", "/api/scans"): "monitor",
    ("POST", "/cases/{case_id}/referral"): "supervisor", ("POST", "/api/cases/{case_id}/referral"): "supervisor",
    ("POST", "/cases/{case_id}/evidence"): "supervisor", ("POST", "/api/cases/{case_id}/evidence"): "supervisor",
    ("POST", "/cases/{case_id}/recheck"): "monitor", ("POST", "/api/cases/{case_id}/recheck"): "monitor",
    ("GET", "/cases/{case_id}/recheck"): "monitor", ("GET", "/api/cases/{case_id}/recheck"): "monitor",
    ("POST", "/tips/{tip_id}/check"): "monitor", ("POST", "/api/tips/{tip_id}/check"): "monitor",
    ("GET", "/tips/{tip_id}/check"): "monitor", ("GET", "/api/tips/{tip_id}/check"): "monitor",
    ("GET", "/orders"): "monitor", ("GET", "/api/orders"): "monitor",
    ("GET", "/ads"): "monitor", ("GET", "/api/ads"): "monitor",
    ("GET", "/audit"): "supervisor", ("GET", "/api/audit"): "supervisor",
    ("GET", "/account"): "monitor", ("GET", "/api/account"): "monitor",
    ("POST", "/account/tokens"): "monitor", ("POST", "/account/tokens/{token_id}/revoke"): "monitor",
    ("GET", "/api/openapi.json"): "monitor",
    ("GET", "/schedules"): "admin", ("GET", "/api/schedules"): "admin",
    ("POST", "/schedules"): "admin", ("POST", "/api/schedules"): "admin",
    ("POST", "/schedules/{name}/{action}"): "admin", ("POST", "/api/schedules/{name}/{action}"): "admin",
    ("GET", "/registries"): "admin", ("GET", "/api/registries"): "admin",
    ("POST", "/registries/{kind}/import"): "admin", ("POST", "/api/registries/{kind}/import"): "admin",
    ("GET", "/rules"): "admin", ("GET", "/api/rules"): "admin",
    ("POST", "/cases/{case_id}/order"): "supervisor", ("POST", "/api/cases/{case_id}/order"): "supervisor",
    ("GET", "/api/cases/{case_id}/packages"): "supervisor",
    ("POST", "/referrals/{referral_id}/letter.pdf"): "supervisor",
    ("POST", "/api/referrals/{referral_id}/letter.pdf"): "supervisor",
    ("POST", "/tips/import"): "monitor", ("POST", "/api/tips/import"): "monitor",
    ("POST", "/blacklist/import"): "supervisor", ("POST", "/api/blacklist/import"): "supervisor",
    ("POST", "/orders/check-due"): "supervisor", ("POST", "/api/orders/check-due"): "supervisor",
    ("POST", "/referrals/{referral_id}/package"): "supervisor",
    ("POST", "/api/referrals/{referral_id}/package"): "supervisor",
}
ROLE_OF = {"mona": "monitor", "sam": "supervisor", "ada": "admin"}
RANK = ["monitor", "supervisor", "admin"]


def _required_roles(dependant) -> set[str]:  # type: ignore[no-untyped-def]
    found = {getattr(dependant.call, "required_role", None)} - {None}
    for sub in dependant.dependencies:
        found |= _required_roles(sub)
    return found  # type: ignore[return-value]


def _api_routes(routes) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    """The app's routes, looking inside included routers (FastAPI keeps them as wrappers; no prefixes here)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def test_every_route_is_in_the_table_and_declares_its_role(app) -> None:  # type: ignore[no-untyped-def]
    seen = {}
    for route in _api_routes(app.routes):
        for method in route.methods:
            seen[(method, route.path)] = _required_roles(route.dependant)
    assert set(seen) == set(ROUTES) | PUBLIC, "a new route needs a row in ROUTES (and a role) or in PUBLIC"
    for key, role in ROUTES.items():
        assert seen[key] == {role}, key
    for key in PUBLIC:
        assert seen[key] == set(), key


def _get_paths(world: World) -> dict[str, str]:
    return {"/": "monitor", f"/daily?date={world.day}": "monitor", "/api/daily": "monitor", "/cases": "monitor",
            "/api/cases": "monitor", f"/cases/{world.case_id}": "monitor", f"/api/cases/{world.case_id}": "monitor",
            f"/captures/{world.capture_id}/screenshot": "monitor", f"/captures/{world.capture_id}/page": "monitor",
            "/users": "admin", "/api/users": "admin", "/networks": "monitor", "/api/networks": "monitor",
            "/dashboard": "monitor", "/api/dashboard": "monitor",
            f"/networks/{world.network_id}": "monitor", f"/api/networks/{world.network_id}": "monitor",
            "/blacklist": "monitor", "/api/blacklist": "monitor", "/referrals": "monitor", "/api/referrals": "monitor",
            f"/referrals/{world.referral_id}": "monitor", f"/api/referrals/{world.referral_id}": "monitor",
            f"/referrals/{world.referral_id}/letter": "monitor", "/tips": "monitor", "/api/tips": "monitor",
            "/scans": "monitor", "/api/scans": "monitor",
            f"/cases/{world.case_id}/recheck": "monitor", f"/api/cases/{world.case_id}/recheck": "monitor",
            "/orders": "monitor", "/api/orders": "monitor",
            "/ads": "monitor", "/api/ads": "monitor", "/audit": "supervisor", "/api/audit": "supervisor",
            "/account": "monitor", "/api/account": "monitor", "/api/openapi.json": "monitor",
            "/schedules": "admin", "/api/schedules": "admin", "/registries": "admin", "/api/registries": "admin",
            "/rules": "admin", "/api/rules": "admin",
            f"/api/cases/{world.case_id}/packages": "supervisor"}


def test_anonymous_pages_go_to_sign_in_and_the_api_answers_401(world: World, client: TestClient) -> None:
    for path in _get_paths(world):
        response = client.get(path, follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, path
            assert response.json()["ok"] is False
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
    for path in (f"/cases/{world.case_id}/review", "/users", "/users/mona/disable",
                 f"/api/cases/{world.case_id}/review", "/blacklist", "/blacklist/1/lift", "/api/blacklist",
                 f"/referrals/{world.referral_id}/status", f"/api/referrals/{world.referral_id}/status", "/tips",
                 "/api/tips", f"/cases/{world.case_id}/referral", f"/api/cases/{world.case_id}/referral",
                 f"/cases/{world.case_id}/evidence", f"/api/cases/{world.case_id}/evidence",
                 f"/cases/{world.case_id}/recheck", f"/api/cases/{world.case_id}/recheck", "/tips/1/check",
                 "/api/tips/1/check", "/account/tokens", "/account/tokens/1/revoke", "/schedules", "/api/schedules",
                 "/schedules/nightly/pause", "/api/schedules/nightly/pause", "/registries/device/import",
                 "/api/registries/device/import",
                 f"/cases/{world.case_id}/order", f"/api/cases/{world.case_id}/order",
                 f"/referrals/{world.referral_id}/letter.pdf", f"/api/referrals/{world.referral_id}/letter.pdf",
                 "/tips/import", "/api/tips/import", "/blacklist/import", "/api/blacklist/import",
                 "/orders/check-due", "/api/orders/check-due", f"/referrals/{world.referral_id}/package",
                 f"/api/referrals/{world.referral_id}/package"):
        assert client.post(path, data={}, follow_redirects=False).status_code == 401, path


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_each_role_by_session(world: World, signed_in: Callable[[str], TestClient], name: str) -> None:
    client = signed_in(name)
    for path, role in _get_paths(world).items():
        expected = 200 if RANK.index(ROLE_OF[name]) >= RANK.index(role) else 403
        assert client.get(path, follow_redirects=False).status_code == expected, (name, path)


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_each_role_by_api_token(world: World, api_client: Callable[[str], TestClient], name: str) -> None:
    client = api_client(name)
    for path, role in _get_paths(world).items():
        response = client.get(path, follow_redirects=False)
        if not path.startswith("/api/"):
            assert response.status_code == 303, path  # a token is for the API, not for pages
            continue
        expected = 200 if RANK.index(ROLE_OF[name]) >= RANK.index(role) else 403
        assert response.status_code == expected, (name, path)
        if path != "/api/openapi.json":  # the schema itself, as OpenAPI tools expect it, not in the envelope
            assert response.json()["ok"] is (expected == 200)


@pytest.mark.parametrize("name", list(ROLE_OF))
def test_posting_needs_the_role_of_the_step(world: World, signed_in: Callable[[str], TestClient], name: str) -> None:
    client = signed_in(name)
    role = ROLE_OF[name]
    # Closing a decided case is a supervisor's step: a monitor is refused before the lifecycle is asked.
    response = client.post(f"/cases/{world.case_id}/close", data={"reason": "x"}, follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 409)  # 409: the case is open, not confirmed
    response = client.post(f"/cases/{world.case_id}/review", follow_redirects=False)
    assert response.status_code == 303
    response = client.post("/users", data={"name": f"new-{name}", "role": "monitor", "password": "p" * 10},
                           follow_redirects=False)
    assert response.status_code == (303 if role == "admin" else 403)
    response = client.post("/users/mona/disable", follow_redirects=False)
    assert response.status_code == (303 if role == "admin" else 403)
    # The blacklist and referral steps are a supervisor's; a tip is anyone's.
    response = client.post("/blacklist", data={"kind": "site", "value": f"{name}.test", "reason": "x"},
                           follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 303)
    response = client.post(f"/referrals/{world.referral_id}/status", data={"status": "acknowledged"},
                           follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 409)  # 409: a draft is sent first
    response = client.post("/tips", data={"url": f"http://{name}.example.com/"}, follow_redirects=False)
    assert response.status_code == 303
    # Referring and exporting evidence are a supervisor's (409: the case is not confirmed; 503: this test app has
    # no pharmwatch command to export with); a re-check is anyone's (503 here for the same reason).
    response = client.post(f"/cases/{world.case_id}/referral", data={"authority": "police"}, follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 409)
    response = client.post(f"/cases/{world.case_id}/evidence", follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 503)
    assert client.post(f"/cases/{world.case_id}/recheck", follow_redirects=False).status_code == 503
    # The admin pages' steps are an admin's (503 for schedules: this test app has no scheduler settings;
    # 400 for the import: the file is not a registry CSV).
    response = client.post("/schedules/nightly/pause", follow_redirects=False)
    assert response.status_code == (503 if role == "admin" else 403)
    response = client.post("/registries/device/import", files={"file": ("x.csv", b"nonsense\n", "text/csv")},
                           follow_redirects=False)
    assert response.status_code == (400 if role == "admin" else 403)
    # Ordering a correction and writing the letter PDF are a supervisor's (409: the case is open, not confirmed);
    # importing a tip file is anyone's, another office's blacklist a supervisor's (400: the file is empty).
    response = client.post(f"/cases/{world.case_id}/order", data={"kind": "correct", "deadline": "2099-01-01"},
                           follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 409)
    response = client.post(f"/referrals/{world.referral_id}/letter.pdf", follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 200)
    empty = {"file": ("tips.csv", b"", "text/csv")}
    assert client.post("/tips/import", files=empty, follow_redirects=False).status_code == 400
    response = client.post("/blacklist/import", files=empty, data={"source": "x"}, follow_redirects=False)
    assert response.status_code == (403 if role == "monitor" else 400)
    response = client.post("/orders/check-due", follow_redirects=False)  # 503: no pharmwatch command here
    assert response.status_code == (403 if role == "monitor" else 503)


def test_an_unknown_token_or_a_session_cookie_of_nobody_is_anonymous(world: World, app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, headers={"Authorization": "Bearer pw_made-up"}) as client:
        assert client.get("/api/daily").status_code == 401
    with TestClient(app, cookies={"pw_session": "made-up"}) as client:
        assert client.get("/", follow_redirects=False).status_code == 303
