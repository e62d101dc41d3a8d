"""The hostile web: one scan over every hostile endpoint of the demo web (plus a normal site).

Each case must end recorded, with a clear reason where it failed or was cut; the scan must finish.
The test prints a table (case, survived, what was recorded) and the scan's peak memory, measured
with /usr/bin/time -v: run `pytest tests/reliability -s` to see it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.hostile import CLOAK_TARGET, PRIVATE_TARGETS
from demo.server import DemoWeb
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, ScanRun, Site
from tests.conftest import ROOT, cli_env, run_cli
from tests.databases import database_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIMIT = 2 * 1024 * 1024
Check = Callable[[Capture, list[Capture]], bool]


def error_has(*words: str) -> Check:
    return lambda capture, _all: bool(capture.error) and any(w.lower() in capture.error.lower() for w in words)


def flagged(capture: Capture, _all: list[Capture]) -> bool:
    return capture.error is None and capture.risk in {"high", "critical"}


def truncated_with_evidence(capture: Capture, _all: list[Capture]) -> bool:
    return capture.truncated and capture.error is None and capture.risk in {"high", "critical"}


def captured(capture: Capture, _all: list[Capture]) -> bool:
    return capture.error is None and capture.status_code == 200


def within_budget(capture: Capture, everything: list[Capture]) -> bool:
    same_scan = [c for c in everything if c.scan_run_id == capture.scan_run_id and not c.rendered]
    return capture.error is None and len(same_scan) <= 40  # the per-site page budget held


# (path, rendered in Chromium, what must be recorded)
CASES: list[tuple[str, bool, Check]] = [
    ("/slow", False, error_has("timeout", "took longer")),
    ("/never", False, error_has("timeout", "took longer")),
    ("/reset", False, error_has("dataloss", "connection", "lost")),
    ("/redirect-loop", False, error_has("redirect")),
    ("/redirect-chain", False, error_has("redirect")),
    ("/redirect-private", False, error_has("private or reserved")),
    ("/huge?mb=200", False, truncated_with_evidence),
    ("/gzip-bomb", False, error_has("decompression")),
    ("/brotli-bomb", False, error_has("decompression")),
    ("/gbk-as-utf8", False, flagged),
    ("/utf8-as-gbk", False, flagged),
    ("/no-charset", False, flagged),
    ("/mixed-encoding", False, flagged),
    ("/unclosed", False, flagged),
    ("/nested", False, flagged),
    ("/binary", False, error_has("binary content")),
    ("/pdf", False, error_has("binary content (PDF)")),
    ("/image", False, error_has("binary content (PNG)")),
    ("/many-links", False, within_budget),
    ("/calendar", False, within_budget),
    ("/rate-limited", False, error_has("HTTP 429 (Retry-After: 3600; not waited for)")),
    ("/unavailable", False, error_has("HTTP 503 (Retry-After: 120; not waited for)")),
    ("/retry-after", False, flagged),  # refused unless the client waited the 2 s it was told to
    ("/flapping", False, flagged),
    ("/js-loop", True, error_has("timeout")),
    ("/js-popups", True, flagged),
    ("/js-busy", True, flagged),
    ("/js-private", True, flagged),  # and none of its private addresses reached: asserted below
    ("/cloak-private", True, error_has("private or reserved")),
]


def test_every_hostile_case_ends_recorded_and_the_scan_finishes(demo_server: DemoWeb, tmp_path: Path) -> None:
    demo_web = demo_server.url
    home = tmp_path / "home"
    plain = ", ".join(f'"http://hostile.test{path}"' for path, render, _ in CASES if not render)
    config = tmp_path / "pharmwatch.toml"
    config.write_text(
        f"watchlist = [{plain}, \"http://tangan-cure.test/\"]\n"
        "[crawl]\nallow_private = [\"127.0.0.0/8\"]\nmax_pages_per_site = 40\nmax_depth = 2\n"
        f"render_first_page = false\ndownload_timeout = 6\nmax_body_bytes = {LIMIT}\n",
        encoding="utf-8",
    )
    rendered = tmp_path / "rendered.toml"
    js = ", ".join(f'"http://hostile.test{path}"' for path, render, _ in CASES if render)
    rendered.write_text(f"watchlist = [{js}]\n[crawl]\nallow_private = [\"127.0.0.0/8\"]\nmax_depth = 0\n"
                        "download_timeout = 8\n", encoding="utf-8")
    scans = [_scan_with_time(config, home, demo_web), _scan_with_time(rendered, home, demo_web)]
    peak_kb = [peak for peak, _ in scans]
    reported = "".join(output for _, output in scans)

    with session_factory(make_engine(database_url(home)))() as session:
        runs = session.scalars(select(ScanRun)).all()
        captures = session.scalars(select(Capture).join(Site).where(Site.domain == "hostile.test")).all()
        normal = session.scalars(select(Capture).join(Site).where(Site.domain == "tangan-cure.test")).all()
    assert [run.status for run in runs] == ["finished", "finished"]
    assert any(c.risk == "high" for c in normal), "the normal site in the same scan was still analysed"

    rows, failures = [], []
    for path, render, check in CASES:
        capture = next((c for c in captures if c.url == f"http://hostile.test{path}" and c.rendered == render), None)
        survived = capture is not None and check(capture, captures)
        recorded = "(nothing recorded)" if capture is None else (
            capture.error or f"captured {capture.status_code}, risk {capture.risk}"
            + (", truncated" if capture.truncated else ""))
        rows.append((path + (" [chromium]" if render else ""), survived, recorded))
        if not survived:
            failures.append(path)
    reached = {host: demo_server.hits(host) for host in PRIVATE_TARGETS if demo_server.hits(host)}
    rows.append(("/js-private: private hosts", not reached, f"requests that reached them: {reached or 'none'}"))
    if reached:
        failures.append(f"Chromium reached {reached}")
    # Known limit (crawler/browser.py): a redirect hop inside Chromium is judged only after it was followed.
    rows.append(("/cloak-private: redirect hop", True, f"requests that reached {CLOAK_TARGET}: "
                 f"{demo_server.hits(CLOAK_TARGET)} (followed by Chromium, then refused)"))
    unreported = [c.url for c in captures if c.error and f"not captured: {c.url}: " not in reported]
    assert not unreported, f"failures the scan did not report: {unreported}"
    huge = next(c for c in captures if c.url.endswith("/huge?mb=200"))
    assert len(BlobStore(home / "blobs").get(huge.body_sha256, ".html")) == LIMIT

    table = "\n".join(f"{case:<30} {'yes' if ok else 'NO':<9} {why[:110]}" for case, ok, why in rows)
    print(f"\n\nhostile cases tried: {len(rows)}, survived: {len(rows) - len(failures)}\n"
          f"{'case':<30} {'survived':<9} recorded\n{table}\n"
          f"peak memory (max RSS, /usr/bin/time -v): plain-fetch scan {peak_kb[0] / 1024:.0f} MB, "
          f"Chromium scan {peak_kb[1] / 1024:.0f} MB\n")
    assert failures == [], f"cases not survived: {failures}"


def _scan_with_time(config: Path, home: Path, proxy: str) -> tuple[int, str]:
    """Scan as a user would; returns the peak memory (kB, max RSS) and what the scan printed."""
    env = cli_env(home, proxy)
    time_cmd = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    result = subprocess.run([*time_cmd, sys.executable, "-m", "pharmwatch", "--config", str(config), "scan"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if not time_cmd:
        pytest.skip("/usr/bin/time is not installed")  # pragma: no cover
    return (int(match.group(1)) if match else 0), result.stdout


def test_a_huge_garbage_robots_txt_does_not_stop_a_scan_that_obeys_robots(demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('watchlist = ["http://hostile.test/nested", "http://hostile.test/private/7"]\n'
                      '[crawl]\nallow_private = ["127.0.0.0/8"]\nobey_robots_txt = true\nrender_first_page = false\n'
                      f"max_depth = 0\nmax_body_bytes = {LIMIT}\n", encoding="utf-8")
    result = run_cli("scan", home=tmp_path / "home", proxy=demo_web, config=config)
    assert result.returncode == 0, result.stdout + result.stderr
    with session_factory(make_engine(database_url(tmp_path / "home")))() as session:
        captures = {c.url: c for c in session.scalars(select(Capture))}
    assert captures["http://hostile.test/nested"].risk == "high"
    assert "robots.txt" in (captures["http://hostile.test/private/7"].error or "").lower()
