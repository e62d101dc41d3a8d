"""A scan killed with SIGKILL at random points resumes on the next run and completes the work,
with nothing duplicated and nothing half-written."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.server import load_manifest
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, Case, Finding, ScanRun
from tests.conftest import DEMO_CONFIG, ROOT, cli_env, run_cli
from tests.databases import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _start_scan(home: Path, proxy: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(DEMO_CONFIG), "scan"],
                            env=cli_env(home, proxy), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_a_scan_killed_several_times_resumes_and_completes_without_duplicates(
        demo_web: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    for _ in range(3):
        process = _start_scan(home, demo_web)
        time.sleep(chance.uniform(2.0, 7.0))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the scan and its browser, as a crash would
        process.wait()
    final = run_cli("scan", home=home, proxy=demo_web)
    assert final.returncode == 0, f"seed {seed}\n{final.stdout}{final.stderr}"

    engine = make_engine(database_url(home))
    with session_factory(engine)() as session:
        runs = session.scalars(select(ScanRun)).all()
        assert [r.status for r in runs] == ["finished"], f"seed {seed}: one run, resumed, finished"
        duplicates = session.execute(
            select(Capture.url, Capture.rendered, func.count()).group_by(Capture.url, Capture.rendered)
            .having(func.count() > 1)).all()
        assert duplicates == []
        blobs = BlobStore(home / "blobs")
        for capture in session.scalars(select(Capture).where(Capture.error.is_(None))):
            assert capture.body_sha256 and blobs.verify(capture.body_sha256, ".html"), capture.url
        flagged_sites = session.scalar(select(func.count(func.distinct(Finding.site_id)))
                                       .where(Finding.severity.in_(("medium", "high", "critical"))))
        assert session.scalar(select(func.count()).select_from(Case)) == flagged_sites

    report = json.loads(run_cli("report", "daily", "--format", "json", home=home).stdout)
    flagged = {site["domain"] for site in report["sites"]}
    for site in load_manifest():
        assert (site.domain in flagged) == (site.expected == "flagged"), f"seed {seed}: {site.domain}"


def test_a_second_scan_cannot_start_while_one_is_running(demo_web: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    process = _start_scan(home, demo_web)
    try:
        deadline = time.monotonic() + 30
        while not (home / "scan.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        second = run_cli("scan", home=home, proxy=demo_web)
        assert second.returncode == 2 and "another scan" in second.stderr
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_scan_waits_for_a_concurrent_writer_that_holds_the_database(demo_web: str, tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "home"
    assert run_cli("db", "upgrade", home=home).returncode == 0
    process = _start_scan(home, demo_web)
    try:
        time.sleep(2.0)
        blocker = sqlite3.connect(home / "pharmwatch.db", timeout=60)
        blocker.execute("BEGIN EXCLUSIVE")  # another writer (the UI, a second tool) holds the database
        time.sleep(5.0)
        blocker.commit()
        blocker.close()
        assert process.wait(timeout=300) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    with session_factory(make_engine(database_url(home)))() as session:
        run = session.scalars(select(ScanRun)).one()
        assert run.status == "finished" and run.pages > 0 and run.flagged_sites > 0
