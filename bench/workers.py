"""Distributed scan throughput with 1, 2 and 4 `pharmwatch worker` processes (never asserted).

Starts a throwaway PostgreSQL server and a slow web on loopback (every page answered after
`--delay` seconds, 0.2 by default: a far-away seller), which is also the crawler's proxy, then for
each worker count runs `pharmwatch scan --distributed --no-search` over `--sites` generated sites of
`--pages` pages each and prints pages/s, seconds per site and the ratio to one worker. Everything
runs on this machine, so the ratio is bounded by its CPUs as well as by the latency.
Run: `.venv/bin/python bench/workers.py [--sites 8 --pages 20 --sites-per-job 1 --concurrency 8 --workers 1,2,4]`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from storage import db  # noqa: E402
from storage.models import Capture  # noqa: E402
from tests.postgres_server import throwaway_postgres  # noqa: E402

PARAGRAPH = "本店常年销售各类保健品与家用医疗器械，正品保障，全国包邮，欢迎咨询客服了解详情。" * 20


def slow_web(delay: float, pages: int) -> ThreadingHTTPServer:
    """Every `http://bench-N.test/pK` after `delay` seconds; page 0 links to all the others."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            time.sleep(delay)
            target = urlsplit(self.path)
            number = int(target.path.strip("/p") or 0) if target.path.strip("/p").isdigit() else 0
            links = "".join(f'<li><a href="/p{k}">第 {k} 页</a></li>' for k in range(1, pages)) if number == 0 else ""
            body = (f"<!doctype html><html><head><meta charset=utf-8><title>{target.hostname} {number}</title>"
                    f"</head><body><h1>页面 {number}</h1><p>{PARAGRAPH}</p><ul>{links}</ul></body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def distributed_scan(workers: int, scan_args: list[str], *, database_url: str, config: Path, home: Path,
                     proxy: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """On a fresh schema, `workers` worker processes and one `pharmwatch scan --distributed *scan_args`:
    (seconds from the scan's start to its exit, the finished scan). Workers are killed afterwards."""
    with db.make_engine(database_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(database_url)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PHARMWATCH_")},
           "PHARMWATCH_HOME": str(home), "PHARMWATCH_CRAWL__PROXY": f'"{proxy}"'}
    command = [sys.executable, "-m", "pharmwatch", "--config", str(config)]
    started = [subprocess.Popen([*command, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(workers)]
    try:
        time.sleep(3)  # workers up and listening: the round times the scan, not their start-up
        begin = time.monotonic()
        scan = subprocess.run([*command, "scan", "--distributed", *scan_args], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        seconds = time.monotonic() - begin
        if scan.returncode != 0:
            raise SystemExit(f"scan failed with {workers} worker(s):\n{scan.stdout}{scan.stderr}")
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return seconds, scan


def one_round(workers: int, *, database_url: str, config: Path, home: Path, proxy: str) -> tuple[float, int]:
    """(seconds from `scan` start to its exit, pages captured) with `workers` workers."""
    seconds, _scan = distributed_scan(workers, ["--no-search"], database_url=database_url, config=config,
                                      home=home, proxy=proxy)
    with db.session_factory(db.make_engine(database_url))() as session:
        pages = session.scalar(select(func.count()).select_from(Capture).where(Capture.error.is_(None))) or 0
    return seconds, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--pages", type=int, default=20, help="pages per site (its page budget)")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds before the server answers each page")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sites-per-job", type=int, default=1, help="[scan] sites_per_job")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="[crawl] concurrency of each crawl (a site gets half: 2 means one page at a time)")
    args = parser.parse_args()
    web = slow_web(args.delay, args.pages)
    proxy = f"http://127.0.0.1:{web.server_address[1]}"
    with (throwaway_postgres("pharmwatch-bench-pg-") as database_url,
          tempfile.TemporaryDirectory(prefix="pharmwatch-bench-") as folder):
        config = Path(folder) / "pharmwatch.toml"
        sites = ", ".join(f'"http://bench-{n}.test/"' for n in range(args.sites))
        config.write_text(f'database_url = "{database_url}"\nwatchlist = [{sites}]\n[crawl]\n'
                          f'allow_private = ["127.0.0.0/8"]\nmax_pages_per_site = {args.pages}\n'
                          f'concurrency = {args.concurrency}\n'
                          'render_first_page = false\n[scan]\nworker_heartbeat_seconds = 2\n'
                          f'stalled_worker_seconds = 10\nsites_per_job = {args.sites_per_job}\n', encoding="utf-8")
        print(f"{args.sites} sites x {args.pages} pages, {args.delay * 1000:.0f} ms per page, "
              f"crawl concurrency {args.concurrency} ({max(1, args.concurrency // 2)} per site), "
              f"{args.sites_per_job} site(s) per job, "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        first = None
        for workers in (int(n) for n in args.workers.split(",")):
            seconds, pages = one_round(workers, database_url=database_url, config=config,
                                       home=Path(folder) / f"home-{workers}", proxy=proxy)
            rate = pages / seconds
            first = first or rate
            print(f"workers={workers}: {pages} pages in {seconds:.1f} s = {rate:.2f} pages/s, "
                  f"{seconds * workers / args.sites:.1f} worker-s per site, x{rate / first:.2f} vs one worker "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    web.shutdown()


if __name__ == "__main__":
    main()
