"""`pharmwatch serve` runs the scheduler beside the web UI: it holds the one-scheduler claim while it serves
(a second scheduler is refused, naming it) and gives the claim up when stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import db
from storage.models import SchedulerClaim
from tests.conftest import ROOT, cli_env, run_cli
from tests.databases import database_url

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _claim(home: Path) -> SchedulerClaim | None:
    with db.session_factory(db.make_engine(database_url(home)))() as session:
        return session.scalar(select(SchedulerClaim))


def test_serve_runs_the_scheduler_and_releases_its_claim_when_stopped(tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('[search]\nengines = []\nquery_sets = []\n[schedule]\nnightly = "0 2 1 1 *"\ndigest = ""\n'
                      'recheck = ""\nheartbeat_seconds = 0.5\n', encoding="utf-8")
    home, port = tmp_path / "home", _free_port()
    assert run_cli("db", "upgrade", home=home, config=config).returncode == 0
    server = subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(config), "serve", "--port",
                               str(port)], env=cli_env(home), cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=2) as answer:
                    if answer.status == 200 and (claim := _claim(home)) is not None:
                        break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.3)
        assert claim.pid == server.pid
        second = run_cli("schedule", "run", home=home, config=config, timeout=60)
        assert second.returncode == 2 and f"pid {server.pid}" in second.stderr
    finally:
        os.kill(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert "scheduler: scheduler claimed the database" in stderr
    assert _claim(home) is None  # released on the way out
