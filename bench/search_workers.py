"""The searches of a distributed scan run by 1 and 2 `pharmwatch worker` processes (never asserted).

Starts a throwaway PostgreSQL server and a slow proxy on loopback that answers the demo's mock engine
(`demo/search_engine.py`, host search.test) after `--delay` seconds a result page, and every other host at
once with a 404 (the result sites are not what is measured). For each worker count and `[scan]
searches_per_job` it runs `pharmwatch scan --distributed --no-watchlist` over the demo's queries and prints
the seconds the searches took (the scan's own "search(es) run by workers in N s"), the whole scan's, and
the ratio to the first row. The engine's jobs share one procrastinate lock, so a second worker is not
expected to search one engine faster: what the figures show is that it does not (politeness holds) and
what a job's crawl start costs per query. Everything runs on this machine.
Run: `.venv/bin/python bench/search_workers.py [--delay 0.4 --rounds 1x1,2x1,1x3,2x3]` (workers x queries per job).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.workers import distributed_scan  # noqa: E402
from demo import search_engine  # noqa: E402
from storage import db  # noqa: E402
from storage.models import SearchQueryRun  # noqa: E402
from tests.postgres_server import throwaway_postgres  # noqa: E402


def slow_engine(delay: float) -> ThreadingHTTPServer:
    """A forward proxy: search.test answered by the demo's engine after `delay` s, anything else 404 at once."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if urlsplit(self.path).hostname == search_engine.HOST:
                time.sleep(delay)
                status, headers, body = search_engine.handle(self.path)
            else:
                status, headers, body = 404, [("Content-Type", "text/plain")], b"not here"
            self.send_response(status)
            for name, value in headers:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def one_round(workers: int, per_job: int, *, database_url: str, folder: Path, base_config: str,
              proxy: str) -> tuple[float, float, int]:
    """(seconds of the searches, seconds of the whole scan, result pages stored)."""
    config = folder / f"pharmwatch-{workers}x{per_job}.toml"
    config.write_text(base_config + f"searches_per_job = {per_job}\n", encoding="utf-8")
    seconds, scan = distributed_scan(workers, ["--no-watchlist", "--no-tips"], database_url=database_url,
                                     config=config, home=folder / f"home-{workers}x{per_job}", proxy=proxy)
    searched = re.search(r"search\(es\) run by workers in (\d+) s", scan.stderr)
    with db.session_factory(db.make_engine(database_url))() as session:
        pages = session.scalar(select(func.count()).select_from(SearchQueryRun)) or 0
    return float(searched.group(1)) if searched else float("nan"), seconds, pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.4, help="seconds before the engine answers each page")
    parser.add_argument("--pages", type=int, default=2, help="[search] pages_per_query")
    parser.add_argument("--rounds", default="1x1,2x1,1x3,2x3", help="workers x searches_per_job, comma-separated")
    args = parser.parse_args()
    queries = list(yaml.safe_load(search_engine.DATA_PATH.read_text(encoding="utf-8"))["queries"])
    web = slow_engine(args.delay)
    proxy = f"http://127.0.0.1:{web.server_address[1]}"
    with (throwaway_postgres("pharmwatch-bench-pg-") as database_url,
          tempfile.TemporaryDirectory(prefix="pharmwatch-bench-") as folder):
        listed = ", ".join(f'"{query}"' for query in queries)
        base_config = (f'database_url = "{database_url}"\n[crawl]\nallow_private = ["127.0.0.0/8"]\n'
                       'max_pages_per_site = 1\nrender_first_page = false\n'
                       f'[search]\nengines = ["mock"]\npages_per_query = {args.pages}\nqueries = [{listed}]\n'
                       'query_sets = []\n[scan]\nworker_heartbeat_seconds = 2\nstalled_worker_seconds = 10\n'
                       'sites_per_job = 1000\nmin_captured_share = 0\n')
        print(f"{len(queries)} queries x up to {args.pages} pages on one engine (mock), "
              f"{args.delay * 1000:.0f} ms per result page, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        first = None
        for workers, per_job in (tuple(int(n) for n in r.split("x")) for r in args.rounds.split(",")):
            searching, seconds, pages = one_round(workers, per_job, database_url=database_url, folder=Path(folder),
                                                  base_config=base_config, proxy=proxy)
            first = first or searching
            print(f"workers={workers} searches_per_job={per_job}: {pages} result pages, searches {searching:.0f} s "
                  f"({searching / len(queries):.1f} s a query), x{first / searching:.2f} vs the first row; "
                  f"whole scan {seconds:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    web.shutdown()


if __name__ == "__main__":
    main()
