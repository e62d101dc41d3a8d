"""Shared fixtures: the one fixture world is the demo web (demo/), started on a free loopback port; the
database each test stores into (SQLite, or PostgreSQL with PHARMWATCH_TEST_DATABASE=postgresql: tests/databases.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.server import DemoWeb
from pharmwatch.config import Settings
from tests import databases

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "demo" / "pharmwatch.toml"


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoWeb]:
    """The demo web, serving every fixture site and the mock search engine (and counting its hits)."""
    web = DemoWeb()
    web.start()
    yield web
    web.stop()


@pytest.fixture(scope="session")
def demo_web(demo_server: DemoWeb) -> str:
    """The demo web's URL (it is also the crawler's HTTP proxy)."""
    return demo_server.url


@pytest.fixture(scope="session", autouse=True)
def session_database_server() -> Iterator[None]:
    """Stops the session's PostgreSQL server (started by the first test that asks for a database)."""
    yield
    databases.SERVER.stop()


@pytest.fixture(autouse=True)
def test_databases(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """On PostgreSQL: settings without a `database_url` store into their data folder's database there
    (as they would into `<home>/pharmwatch.db`), and the databases this test made are dropped after it."""
    if not databases.ON_POSTGRESQL:
        yield
        return
    monkeypatch.setattr(Settings, "db_url", property(lambda s: s.database_url or databases.database_url(s.home)))
    before = databases.SERVER.created()
    yield
    databases.SERVER.drop(databases.SERVER.created() - before)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database for the whole session, whatever the backend (the distributed queue, the
    scheduler's claim, migrations down and up): its tests reset its schema first."""
    return databases.postgres_database("pharmwatch_shared")


def cli_env(home: Path, proxy: str | None = None, config: Path | None = None) -> dict[str, str]:
    """The environment of a `pharmwatch` child process: its own data folder (and, on PostgreSQL, that
    folder's database unless the settings file `config` names one), the demo web as proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHARMWATCH_")}
    env["PHARMWATCH_HOME"] = str(home)
    names_a_database = (config is not None and config.is_file()
                        and re.search(r"^database_url\s*=", config.read_text("utf-8"), re.M))
    if databases.ON_POSTGRESQL and not names_a_database:
        env["PHARMWATCH_DATABASE_URL"] = databases.database_url(home)
    if proxy:
        env["PHARMWATCH_CRAWL__PROXY"] = f'"{proxy}"'
    return env


def run_cli(*args: str, home: Path, proxy: str | None = None, config: Path | None = DEMO_CONFIG,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `pharmwatch ARGS` in a child process with its own data folder, as a user would."""
    env = cli_env(home, proxy, config)
    prefix = ["--config", str(config)] if config else []
    return subprocess.run([sys.executable, "-m", "pharmwatch", *prefix, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
