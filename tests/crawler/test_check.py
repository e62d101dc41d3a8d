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


def _check_files(*paths: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}
    return CliRunner().invoke(cli, ["check", *map(str, paths), "--json"], env=env, obj={})


def test_files_with_nothing_to_read_are_not_analysed_never_ok(tmp_path: Path) -> None:
    import os

    png = (Path(__file__).resolve().parents[2] / "demo" / "sites" / "tangan-cure.test" / "img" / "banner.png")
    inputs = {
        "random.bin": os.urandom(20_000),
        "picture.html": png.read_bytes(),
        "empty.html": b"",
        "blank.html": b"<html><head></head><body>  </body></html>",
    }
    for name, data in inputs.items():
        (tmp_path / name).write_bytes(data)
    result = _check_files(*(tmp_path / name for name in inputs), tmp_path=tmp_path)
    assert result.exit_code == 4, result.output
    outcomes = {Path(item["target"]).name: item for item in json.loads(result.stdout)}
    for name, item in outcomes.items():
        assert item["analysed"] is False and item["not_analysed"] and item["findings"] == [], name
    assert "PNG" in outcomes["picture.html"]["not_analysed"]
    assert "binary" in outcomes["random.bin"]["not_analysed"]
    assert "empty" in outcomes["empty.html"]["not_analysed"]
    assert "no text" in outcomes["blank.html"]["not_analysed"]


def test_the_table_says_not_analysed(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "empty.html")], env=env, obj={})
    assert result.exit_code == 4 and "NOT ANALYSED: empty" in result.stdout and " ok " not in result.stdout


@pytest.mark.parametrize("endpoint, reason", [
    ("/binary", "binary content"), ("/image", "PNG"), ("/pdf", "PDF"),
    ("/gzip-bomb", "compression bomb"), ("/brotli-bomb", "compression bomb"),
])
def test_hostile_bodies_are_not_analysed(endpoint: str, reason: str, demo_web: str, tmp_path: Path) -> None:
    result = _check(f"http://hostile.test{endpoint}", demo_web, tmp_path)
    assert result.exit_code == 4, result.output
    (item,) = json.loads(result.stdout)
    assert item["analysed"] is False and reason in item["not_analysed"]


def test_an_analysed_page_says_so(demo_web: str, tmp_path: Path) -> None:
    result = _check("http://tongfeng-ling.test/", demo_web, tmp_path)
    (item,) = json.loads(result.stdout)
    assert result.exit_code == 1 and item["analysed"] is True and "not_analysed" not in item


def test_a_body_cut_at_the_fetch_limit_says_so(demo_web: str, tmp_path: Path) -> None:
    result = _check("http://hostile.test/huge?mb=12", demo_web, tmp_path)
    (item,) = json.loads(result.stdout)
    assert item["truncated_at_bytes"] == 10 * 1024 * 1024 and item["analysed"] is True
    small = json.loads(_check("http://tongfeng-ling.test/", demo_web, tmp_path).stdout)[0]
    assert "truncated_at_bytes" not in small
