"""Fixtures of the pipeline tests: the shipped rule packs loaded once, and a fresh SQLite database
(migrated, with one running ScanRun) per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rules import RuleSet, load_ruleset
from storage import db
from storage.scans import start_scan_run
from tests.databases import database_url


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_ruleset()


@dataclass
class Store:
    url: str
    blob_dir: Path
    scan_run_id: int

    def settings(self) -> dict[str, object]:
        return {"STORE_DATABASE_URL": self.url, "STORE_BLOB_DIR": str(self.blob_dir),
                "STORE_SCAN_RUN_ID": self.scan_run_id}

    def session(self):  # type: ignore[no-untyped-def]
        return db.session_factory(db.make_engine(self.url))()


@pytest.fixture
def store(tmp_path: Path, ruleset: RuleSet) -> Store:
    url = database_url(tmp_path)
    db.upgrade(url)
    with db.transaction(db.session_factory(db.make_engine(url))) as session:
        run_id = start_scan_run(session, ruleset.digest).id
    return Store(url=url, blob_dir=tmp_path / "blobs", scan_run_id=run_id)
