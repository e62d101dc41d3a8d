"""Fixtures of the case-work tests: a fresh, migrated SQLite database in a data folder per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import db
from tests.databases import database_url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def sessions(home: Path):  # type: ignore[no-untyped-def]
    url = database_url(home)
    home.mkdir()
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))
