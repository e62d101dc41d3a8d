"""Helpers of the end-to-end tests that run `pharmwatch` commands as background processes (distributed scans
and their workers): start one with its output in a log, wait for a line in that log."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, cli_env


def start_cli(args: list[str], config: Path, home: Path, proxy: str, log: Path) -> subprocess.Popen[bytes]:
    """`pharmwatch --config CONFIG *args` in its own process group, Chromium off, output to `log`."""
    env = {**cli_env(home, proxy, config), "PHARMWATCH_CRAWL__RENDER_FIRST_PAGE": "false"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(config), *args], env=env,
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def line_in_log(log: Path, marker: str, timeout: float = 120) -> str:
    """The first line of `log` holding `marker`, waiting for it up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if marker in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no {marker!r} in {log.name} in {timeout} s:\n{log.read_text(errors='replace')}")
