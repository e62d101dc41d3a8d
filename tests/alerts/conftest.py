"""Fixtures of the alert tests: a fresh, migrated SQLite database per test."""

from __future__ import annotations

import pytest

from storage import db


@pytest.fixture
def sessions(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'pharmwatch.db'}"
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))
