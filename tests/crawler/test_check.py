"""`pharmwatch check URL`: every redirect hop is put to the address policy before it is fetched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo.server import DemoWeb
from pharmwatch.cli import cli


def _check(url: str, demo_web: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_HOME": str(tmp_path), "PHARMWATCH_CONFIG": "",
           "PHARMWATCH_CRAWL__PROXY": demo_web, "PHARMWATCH_CRAWL__ALLOW_PRIVATE": '["127.0.0.0/8"]'}
    return CliRunner().invoke(cli, ["check", url, "--json"], env=env, obj={})


@pytest.mark.parametrize("target", ["10.0.0.1", "169.254.169.254", "192.168.1.1", "[::1]", "0.0.0.0"])
def test_a_redirect_to_a_private_address_is_refused_and_never_asked(
        target: str, demo_server: DemoWeb, demo_web: str, tmp_path: Path) -> None:
    host = target.strip("[]")
    before = demo_server.hits(host)
    result = _check(f"http://hostile.test/redirect-private?to={target}", demo_web, tmp_path)
    assert result.exit_code == 2, result.output
    (outcome,) = json.loads(result.stdout)
    assert "redirected (HTTP 302)" in outcome["error"] and "private or reserved" in outcome["error"]
    assert outcome["flagged"] is False and outcome["findings"] == []
    assert demo_server.hits(host) == before  # the proxy was never asked for the private address


def test_an_allow_listed_redirect_target_is_followed(demo_server: DemoWeb, demo_web: str, tmp_path: Path) -> None:
    # The demo allow-lists loopback: a redirect there is followed (the demo web answers it).
    before = demo_server.hits("127.0.0.1")
    result = _check("http://hostile.test/redirect-private?to=127.0.0.1", demo_web, tmp_path)
    assert "private or reserved" not in result.output
    assert demo_server.hits("127.0.0.1") == before + 1


def test_ordinary_redirect_chains_are_followed_to_their_end(demo_web: str, tmp_path: Path) -> None:
    result = _check("http://hostile.test/redirect-chain?hop=25", demo_web, tmp_path)
    assert result.exit_code == 0, result.output
    assert "error" not in json.loads(result.stdout)[0]
