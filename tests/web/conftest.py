"""Fixtures of the web tests: a fresh database per test (tests/web/world.py), an app built by the factory,
FastAPI's TestClient, and clients signed in as each role (by session cookie) or holding an API token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from storage import db
from tests.web import world as world_module
from tests.web.world import PASSWORD, World
from web import auth
from web.app import WebConfig, create_app


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASHER", world_module.cheap_hasher())


@pytest.fixture
def world(tmp_path: Path) -> World:
    return world_module.build(tmp_path / "home")


@pytest.fixture
def config(world: World) -> WebConfig:
    return WebConfig(blob_dir=world.blob_dir, login_max_failures=3)


@pytest.fixture
def app(world: World, config: WebConfig):  # type: ignore[no-untyped-def]
    return create_app(config, world.sessions.kw["bind"])


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form as a browser does; returns the page's CSRF token."""
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return page_csrf(client)


def page_csrf(client: TestClient) -> str:
    html = client.get("/daily").text
    return html.split('name="csrf_token" value="')[1].split('"')[0]


@pytest.fixture
def signed_in(app) -> Callable[[str], TestClient]:  # type: ignore[no-untyped-def]
    """A client signed in as `name` (a session row made directly: the sign-in form has its own tests)."""
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        factory = app.state.sessions
        with db.transaction(factory) as session:
            user = session.scalar(auth.select(auth.UserAccount).where(auth.UserAccount.name == name))
            token = auth.start_session(session, user, hours=1)
        c = TestClient(app, base_url="http://testserver", cookies={"pw_session": token})
        c.headers["X-CSRF-Token"] = auth.csrf_token(token)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def api_client(app) -> Callable[[str], TestClient]:  # type: ignore[no-untyped-def]
    def make(name: str) -> TestClient:
        with db.transaction(app.state.sessions) as session:
            token = auth.new_api_token(session, name, "tests", actor="test")
        return TestClient(app, base_url="http://testserver", headers={"Authorization": f"Bearer {token}"})

    return make
