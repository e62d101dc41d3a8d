"""A real, throwaway PostgreSQL server for the storage tests (the production database), once per session:
see tests/postgres_server.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import throwaway_postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url
