"""The hostile corner of the demo web: every case ends recorded with a reason; the scan finishes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, ScanRun
from tests.conftest import run_cli

CASES = ["/huge?mb=30", "/gzip-bomb", "/redirect-loop", "/redirect-chain", "/redirect-private", "/slow",
         "/never", "/reset", "/binary"]
LIMIT = 2 * 1024 * 1024


def test_a_scan_of_the_hostile_endpoints_finishes_and_records_each_outcome(demo_web: str, tmp_path: Path) -> None:
    urls = ", ".join(f'"http://hostile.test{path}"' for path in CASES)
    config = tmp_path / "pharmwatch.toml"
    config.write_text(
        f"watchlist = [{urls}]\n[crawl]\nallow_private = [\"127.0.0.0/8\"]\nmax_pages_per_site = 20\n"
        f"max_depth = 0\nrender_first_page = false\ndownload_timeout = 4\nmax_body_bytes = {LIMIT}\n",
        encoding="utf-8",
    )
    result = run_cli("scan", home=tmp_path / "home", proxy=demo_web, config=config, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    with session_factory(make_engine(f"sqlite:///{tmp_path / 'home' / 'pharmwatch.db'}"))() as session:
        captures = {c.url.removeprefix("http://hostile.test"): c for c in session.scalars(select(Capture))}
        run = session.scalars(select(ScanRun)).one()
    assert run.status == "finished"
    assert set(captures) == set(CASES)

    huge = captures["/huge?mb=30"]
    assert huge.error is None and huge.truncated
    body = BlobStore(tmp_path / "home" / "blobs").get(huge.body_sha256, ".html")
    assert len(body) == LIMIT and "根治糖尿病".encode() in body
    assert huge.risk in {"high", "critical"}  # evidence up to the limit is analysed too

    reasons = {path: captures[path].error or "" for path in CASES}
    assert "decompression" in reasons["/gzip-bomb"].lower() or "maxsize" in reasons["/gzip-bomb"].lower()
    assert "redirect" in reasons["/redirect-loop"].lower()
    assert "redirect" in reasons["/redirect-chain"].lower()
    assert "private or reserved" in reasons["/redirect-private"]
    assert "timeout" in reasons["/slow"].lower() and "timeout" in reasons["/never"].lower()
    assert reasons["/reset"], "a connection reset mid-body must be recorded as a failure"
    assert captures["/binary"].status_code == 200  # captured; nothing to flag, nothing crashed


def test_pages_whose_scripts_loop_pop_up_or_poll_forever_do_not_stall_the_scan(
        demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text(
        'watchlist = ["http://hostile.test/js-loop", "http://hostile.test/js-popups", "http://hostile.test/js-busy",'
        ' "http://tangan-cure.test/"]\n'
        '[crawl]\nallow_private = ["127.0.0.0/8"]\nmax_depth = 0\ndownload_timeout = 8\n',
        encoding="utf-8",
    )
    result = run_cli("scan", home=tmp_path / "home", proxy=demo_web, config=config, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with session_factory(make_engine(f"sqlite:///{tmp_path / 'home' / 'pharmwatch.db'}"))() as session:
        rendered = {c.url: c for c in session.scalars(select(Capture).where(Capture.rendered.is_(True)))}
    assert "Timeout" in rendered["http://hostile.test/js-loop"].error
    for url in ("http://hostile.test/js-popups", "http://hostile.test/js-busy", "http://tangan-cure.test/"):
        assert rendered[url].error is None and rendered[url].screenshot_sha256, url
        assert rendered[url].risk == "high", url  # the claim in a hostile page is still found
