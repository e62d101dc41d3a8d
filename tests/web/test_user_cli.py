"""`pharmwatch user ...`: accounts and API tokens from the command line, as an admin would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli_env


def pharmwatch(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pharmwatch", *args], env=cli_env(home), cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_user_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = pharmwatch(home, "user", "add", "王芳", "--role", "supervisor", "--password-stdin", "--by", "root",
                       stdin="a long enough password\n")
    assert added.returncode == 0, added.stderr
    assert pharmwatch(home, "user", "add", "王芳", "--role", "monitor", "--password-stdin",
                      stdin="a long enough password\n").returncode == 2  # exists
    short = pharmwatch(home, "user", "add", "li", "--role", "monitor", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    token = pharmwatch(home, "user", "token", "王芳", "--name", "nightly-export")
    assert token.returncode == 0 and token.stdout.startswith("pw_")
    assert pharmwatch(home, "user", "passwd", "王芳", "--password-stdin", stdin="another password!\n").returncode == 0
    users = json.loads(pharmwatch(home, "user", "list", "--format", "json").stdout)
    assert users == [{"name": "王芳", "role": "supervisor", "disabled": False, "created_at": users[0]["created_at"],
                      "sessions": 0, "tokens": ["nightly-export"]}]
    assert pharmwatch(home, "user", "disable", "王芳").returncode == 0
    table = pharmwatch(home, "user", "list").stdout
    assert "王芳  supervisor  disabled" in table and "1 users" in table
    missing = pharmwatch(home, "user", "disable", "nobody")
    assert missing.returncode == 2 and "user list" in missing.stderr
    # Every step is in the audit log, with who did it.
    audit = pharmwatch(home, "audit", "list", "--subject", "user:王芳")
    assert audit.returncode == 0, audit.stderr
    for action in ("user_added", "api_token_created", "password_changed", "user_disabled"):
        assert action in audit.stdout


def test_serve_is_documented_and_takes_host_and_port() -> None:
    from click.testing import CliRunner

    from pharmwatch.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("pharmwatch serve", "pharmwatch user add", "pharmwatch user disable", "pharmwatch user passwd",
                    "pharmwatch user list", "pharmwatch user token"):
        assert command in readme, command
