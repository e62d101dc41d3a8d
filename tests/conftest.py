"""Shared fixtures: the one fixture world is the demo web (demo/), started on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.server import DemoWeb

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


def cli_env(home: Path, proxy: str | None = None) -> dict[str, str]:
    """The environment of a `pharmwatch` child process: its own data folder, the demo web as proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHARMWATCH_")}
    env["PHARMWATCH_HOME"] = str(home)
    if proxy:
        env["PHARMWATCH_CRAWL__PROXY"] = f'"{proxy}"'
    return env


def run_cli(*args: str, home: Path, proxy: str | None = None, config: Path | None = DEMO_CONFIG,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `pharmwatch ARGS` in a child process with its own data folder, as a user would."""
    env = cli_env(home, proxy)
    prefix = ["--config", str(config)] if config else []
    return subprocess.run([sys.executable, "-m", "pharmwatch", *prefix, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
