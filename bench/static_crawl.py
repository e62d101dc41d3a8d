"""Static crawl and memory: the full scan pipeline against a bare Scrapy spider on pages nginx serves.

Generates `--pages` real-looking shop pages (bench/static_web.py: 30-100 KB, nav, footer, scripts, corpus
text, one product page in ten flagged) on sites of `--pages-per-site` pages, serves them with Debian's nginx
on loopback (the crawl's proxy, as the demo web is), then measures side by side in one run:
- baseline: a bare Scrapy spider (same concurrency, same depth) fetching the same pages and discarding them;
- ours: `pharmwatch scan --no-search` of the same sites with Chromium off (fetch, extract, analyse, WARC,
  blobs, database rows, audit events), on SQLite and on a throwaway PostgreSQL server.
Prints pages/s and the ratio to the baseline (whole command, and steady state: first to last page, i.e.
without start-up and the settling that follows the crawl), and memory: the crawl process's RSS when the
scan passes 1k, 2k, 5k, 10k, 20k, 50k and 100k pages, and its peak. Figures are never asserted.
`--profile` instead runs the site spider in this process under cProfile and prints where the time goes.

Figures (2026-12-07, 2 CPUs at load 18-24; docs/scaling.md has the rest): 1,000 pages of ~55 KB, bare
Scrapy 14.6 pages/s, the scan 0.12x on SQLite and 0.15x on PostgreSQL (first to last page); the crawl's
RSS 309-322 MB (bare spider 106 MB); at load 0.5-2, 500 pages: bare 249 pages/s, the scan 46 (0.18x)
and 34.5 (0.14x); page analysis ~60% and the store step ~40% of the pipelines' time. After the analysis moved
to worker processes and the store step to one thread in batches (2026-12-08, load 12-15, 1,000 pages,
SQLite, `--compare-with` main in the same run): first to last page 23.7 pages/s against main's 12.0 (bare
spider 128.8: 0.18x against 0.09x).
Run: `.venv/bin/python bench/static_crawl.py [--pages 5000] [--databases sqlite,postgresql]
[--no-baseline] [--profile] [--compare-with ../main-worktree]`;
the memory run: `--pages 100000 --databases sqlite --no-baseline`.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.static_web import StaticNginx, StaticWeb, build_static_web  # noqa: E402

CHECKPOINTS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)

BASELINE = r'''
import json, resource, sys, time
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor

urls, proxy, concurrency = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
times = []

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in urls:
            yield scrapy.Request(url, meta={"proxy": proxy})
    def parse(self, response):
        times.append(time.monotonic())
        for link in LinkExtractor(allow_domains=[response.url.split("/")[2]]).extract_links(response):
            yield response.follow(link, meta={"proxy": proxy})

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": concurrency,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, concurrency // 2), "TELNETCONSOLE_ENABLED": False,
                          "DEPTH_LIMIT": 2, "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False})
process.crawl(Bare)
process.start()
print(json.dumps({"pages": len(times), "steady": times[-1] - times[0],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM: the peak) of one process in MB; zeros once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines()
              if line.startswith(("VmRSS", "VmHWM"))}
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def run_baseline(web: StaticWeb, proxy: str, concurrency: int) -> dict[str, float]:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", BASELINE, json.dumps(web.entry_urls), proxy, str(concurrency)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "seconds": time.monotonic() - start}


def write_config(home: Path, web: StaticWeb, database_url: str | None, pages_per_site: int,
                 concurrency: int) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "pharmwatch.toml"
    database = f"database_url = {json.dumps(database_url)}\n" if database_url else ""
    config.write_text(f"{database}watchlist = {json.dumps(web.entry_urls)}\n[crawl]\n"
                      f'allow_private = ["127.0.0.0/8"]\nrender_first_page = false\n'
                      f"max_pages_per_site = {pages_per_site}\nmax_depth = 2\nconcurrency = {concurrency}\n",
                      encoding="utf-8")
    return config


def run_scan(label: str, config: Path, home: Path, proxy: str, checkout: Path = ROOT) -> dict[str, float]:
    """`pharmwatch scan --no-search` of `checkout` (this one, or another version to compare with), watching
    its progress lines and its processes' memory."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PHARMWATCH_")},
           "PHARMWATCH_HOME": str(home), "PHARMWATCH_CRAWL__PROXY": json.dumps(proxy)}
    command = [sys.executable, "-m", "pharmwatch", "--config", str(config)]
    subprocess.run([*command, "db", "upgrade"], env=env, cwd=checkout, capture_output=True, check=True)
    start = time.monotonic()
    scan = subprocess.Popen([*command, "scan", "--no-search", "--no-tips"], env=env, cwd=checkout,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pages, first, last, peak = 0, 0.0, 0.0, 0.0
    checkpoints = list(CHECKPOINTS)
    tail: list[str] = []

    def sample() -> tuple[float, float]:
        """(RSS of the largest process of the scan: the crawl child, MB; its peak so far)."""
        return max((memory_mb(pid) for pid in process_tree(scan.pid)), default=(0.0, 0.0))

    def sampler() -> None:
        nonlocal peak
        while scan.poll() is None:
            peak = max(peak, sample()[1])
            time.sleep(1)

    threading.Thread(target=sampler, daemon=True).start()
    for line in scan.stderr:  # type: ignore[union-attr]
        if "[page]" not in line:
            tail = (tail + [line])[-20:]
            continue
        pages += 1
        last = time.monotonic()
        first = first or last
        if checkpoints and pages >= checkpoints[0]:
            checkpoints.pop(0)
            rss, hwm = sample()
            peak = max(peak, hwm)
            print(f"  {label}: {pages:>7} pages after {last - start:7.1f} s: crawl process RSS {rss:7.0f} MB "
                  f"(peak {hwm:.0f} MB)", flush=True)
    stdout = scan.stdout.read()  # type: ignore[union-attr]
    if scan.wait() != 0:
        raise SystemExit(f"{label}: scan failed\n{stdout}{''.join(tail)}")
    stored = int(stdout.split("pages=")[1].split()[0])
    end = time.monotonic()
    return {"pages": stored, "seconds": end - start, "steady": last - first, "rss_mb": peak,
            "before_first": first - start, "after_last": end - last}


def profile(web: StaticWeb, proxy: str, pages_per_site: int, concurrency: int, top: int,
            memory: bool = False) -> None:
    """The site spider in this process under cProfile (SQLite), then the functions that took the time;
    with `memory`, under tracemalloc instead: what the Python heap gained between a snapshot a minute
    into the crawl and the last one before its end, by line (what grows with the pages crawled)."""
    from crawler.run import CrawlTargets, run_spiders, scrapy_settings
    from rules import load_ruleset
    from storage.db import make_engine, session_factory, transaction, upgrade
    from storage.scans import start_scan_run

    with tempfile.TemporaryDirectory(prefix="pharmwatch-bench-") as folder:
        url = f"sqlite:///{folder}/pharmwatch.db"
        upgrade(url)
        with transaction(session_factory(make_engine(url))) as session:
            run_id = start_scan_run(session, load_ruleset().digest, "scan").id
        settings = scrapy_settings({
            "STORE_DATABASE_URL": url, "STORE_BLOB_DIR": f"{folder}/blobs", "STORE_SCAN_RUN_ID": run_id,
            "EGRESS_PROXY": proxy, "GUARD_ALLOW": ["127.0.0.0/8"], "CAPTURE_RENDER_FIRST_PAGE": False,
            "CAPTURE_MAX_PAGES_PER_SITE": pages_per_site, "CONCURRENT_REQUESTS": concurrency,
            "EXTENSIONS": {}, "LOG_LEVEL": "ERROR"})
        if memory:
            trace_memory(lambda: run_spiders(CrawlTargets(urls=web.entry_urls), settings), top)
            return
        profiler = cProfile.Profile()
        start = time.monotonic()
        profiler.runcall(run_spiders, CrawlTargets(urls=web.entry_urls), settings)
        print(f"profiled crawl: {time.monotonic() - start:.1f} s for {web.pages} pages")
        profiler.dump_stats(f"{tempfile.gettempdir()}/pharmwatch-static-crawl.prof")  # for pstats/snakeviz
        print(f"stats saved to {tempfile.gettempdir()}/pharmwatch-static-crawl.prof")
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(top)
        stats.sort_stats("tottime").print_stats(top)


def trace_memory(crawl: Callable[[], None], top: int) -> None:
    import tracemalloc

    tracemalloc.start(3)
    snapshots: list[tracemalloc.Snapshot] = []
    done = threading.Event()

    def snap() -> None:
        while not done.wait(60):
            snapshots.append(tracemalloc.take_snapshot())
            del snapshots[1:-1]  # the first and the newest
            print(f"  python heap {tracemalloc.get_traced_memory()[0] / 2**20:.0f} MB, "
                  f"process RSS {memory_mb(os.getpid())[0]:.0f} MB", flush=True)

    threading.Thread(target=snap, daemon=True).start()
    crawl()
    done.set()
    if len(snapshots) < 2:
        print("the crawl ended within two minutes: crawl more pages to see what grows")
        return
    print(f"grown between the first snapshot and the last ({top} largest):")
    for stat in snapshots[-1].compare_to(snapshots[0], "traceback")[:top]:
        print(f"  {stat.size_diff / 2**20:+7.1f} MB {stat.count_diff:+8d} blocks  "
              + " -> ".join(f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages in all (default 5000)")
    parser.add_argument("--pages-per-site", type=int, default=20, help="each site's page budget (default 20)")
    parser.add_argument("--distinct-pages", type=int, default=10_000,
                        help="pages written to disk; larger webs reuse them under other host names")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--concurrency", type=int, default=8, help="[crawl] concurrency, and the spider's")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare spider (the memory run)")
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT",
                        help="also scan with another checkout (e.g. a worktree of main), alternating with this one")
    parser.add_argument("--profile", action="store_true", help="profile the site spider (SQLite) instead")
    parser.add_argument("--trace-memory", action="store_true",
                        help="trace the site spider's Python heap instead (what grows, by line)")
    args = parser.parse_args()
    sites = max(1, args.pages // args.pages_per_site)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pharmwatch-bench-web-")))
        began = time.monotonic()
        web = build_static_web(folder / "web", sites=sites, pages_per_site=args.pages_per_site,
                               distinct_sites=max(1, args.distinct_pages // args.pages_per_site))
        nginx = stack.enter_context(StaticNginx(web.root))
        print(f"{web.pages} pages on {sites} sites (~{web.bytes_per_page / 1024:.0f} KB a page, written in "
              f"{time.monotonic() - began:.0f} s), nginx on {nginx.url}; concurrency {args.concurrency}; "
              f"{os.cpu_count()} CPUs, load {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
        if args.profile or args.trace_memory:
            profile(web, nginx.url, args.pages_per_site, args.concurrency, top=40 if args.profile else 15,
                    memory=args.trace_memory)
            return
        results: dict[str, dict[str, float]] = {}
        if not args.no_baseline:
            results["baseline: bare Scrapy, same pages"] = run_baseline(web, nginx.url, args.concurrency)
        for database in args.databases.split(","):
            home = folder / f"home-{database}"
            if database == "postgresql":
                from tests.postgres_server import throwaway_postgres
                url = stack.enter_context(throwaway_postgres("pharmwatch-bench-pg-"))
            else:
                url = None  # the home's SQLite database, as a user gets it
            config = write_config(home, web, url, args.pages_per_site, args.concurrency)
            label = f"ours: scan on {database}"
            results[label] = run_scan(label, config, home, nginx.url)
            if args.compare_with:
                if database == "postgresql":
                    url = stack.enter_context(throwaway_postgres("pharmwatch-bench-pg-"))
                home = folder / f"home-{database}-other"
                config = write_config(home, web, url, args.pages_per_site, args.concurrency)
                label = f"{args.compare_with.name}: scan on {database}"
                results[label] = run_scan(label, config, home, nginx.url, args.compare_with.resolve())
        print(f"\n{'run':<36}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'ratio':>8}{'steady p/s':>12}{'ratio':>8}"
              f"{'peak RSS':>10}{'to 1st page':>13}{'after last':>12}")
        base = results.get("baseline: bare Scrapy, same pages")
        for label, r in results.items():
            rate, steady = r["pages"] / r["seconds"], r["pages"] / max(r["steady"], 1e-9)
            ratio = f"{rate / (base['pages'] / base['seconds']):.2f}x" if base else "-"
            steady_ratio = f"{steady / (base['pages'] / base['steady']):.2f}x" if base else "-"
            print(f"{label:<36}{r['pages']:>7.0f}{r['seconds']:>9.1f}{rate:>9.1f}{ratio:>8}{steady:>12.1f}"
                  f"{steady_ratio:>8}{r['rss_mb']:>7.0f} MB{r.get('before_first', 0):>11.1f} s"
                  f"{r.get('after_last', 0):>10.1f} s")
        print(f"load after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}; this process peak "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
