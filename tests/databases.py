"""Which database the tests store into: a SQLite file per data folder (the default), or, with
`PHARMWATCH_TEST_DATABASE=postgresql`, a fresh database per data folder on one throwaway PostgreSQL server
for the whole session (tests/postgres_server.py). `make test` runs the storage-touching tests both ways.

A test names its database by its data folder (`database_url(home)`), exactly as `Settings.db_url` derives
it when no `database_url` is configured, so fixtures, in-process commands and `pharmwatch` child processes
(tests.conftest.cli_env) all meet in the same database.
"""

from __future__ import annotations

import itertools
import os
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import Engine, text

from storage import db
from tests.postgres_server import throwaway_postgres

BACKENDS = ("sqlite", "postgresql")
BACKEND = os.environ.get("PHARMWATCH_TEST_DATABASE") or "sqlite"
if BACKEND not in BACKENDS:
    raise RuntimeError(f"PHARMWATCH_TEST_DATABASE={BACKEND!r}: use one of {', '.join(BACKENDS)}")
ON_POSTGRESQL = BACKEND == "postgresql"


class SessionServer:
    """The session's PostgreSQL server, started on first use; one database per data folder."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._admin: Engine | None = None
        self._base = ""
        self._by_home: dict[str, str] = {}
        self._names = (f"pw_{n}" for n in itertools.count(1))

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            url = self._stack.enter_context(throwaway_postgres(prefix="pharmwatch-test-pg-"))
            self._base = url.rsplit("/", 1)[0]
            # CREATE/DROP DATABASE cannot run inside a transaction.
            self._admin = db.make_engine(url, isolation_level="AUTOCOMMIT")
        return self._admin

    def database(self, name: str) -> str:
        """A database of this name (created empty if new); its URL."""
        admin = self._admin_engine()
        with admin.connect() as connection:
            if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        return f"{self._base}/{name}"

    def for_home(self, home: Path) -> str:
        key = str(Path(home).resolve())
        if key not in self._by_home:
            self._by_home[key] = next(self._names)
        return self.database(self._by_home[key])

    def created(self) -> set[str]:
        return set(self._by_home.values())

    def drop(self, names: set[str]) -> None:
        """Drop these per-folder databases, closing whatever connections the test left open (a server
        connection is a process: hundreds of tests' idle pools would exhaust the server otherwise)."""
        if not names:
            return
        with self._admin_engine().connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._by_home = {home: name for home, name in self._by_home.items() if name not in names}

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        self._stack.close()


SERVER = SessionServer()


def database_url(home: Path) -> str:
    """The database of the data folder `home`: `home/pharmwatch.db`, or its own PostgreSQL database."""
    if ON_POSTGRESQL:
        return SERVER.for_home(home)
    return f"sqlite:///{Path(home) / 'pharmwatch.db'}"


def schema_differences(url: str) -> list[object]:
    """What alembic's autogenerate would change to make the migrated database at `url` match our models
    (empty when they agree). Procrastinate's queue tables, which migration 0015 creates on PostgreSQL
    only, are not our models and are left out."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    def ours(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
        return not (name or "").startswith("procrastinate")

    with db.make_engine(url).connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection, opts={"include_object": ours}),
                                     Base.metadata))


def postgres_database(name: str) -> str:
    """A database of the session's PostgreSQL server kept for the whole session (tests that need
    PostgreSQL whatever the backend, e.g. the distributed queue)."""
    return SERVER.database(name)
