"""`make bench`: every benchmark of bench/ in turn, with arguments that keep the whole run under 10 minutes
on a 2-core machine, each printing its figures beside its baseline and the ratio (measured side by side in
one run, never asserted). A benchmark that fails is reported and the others still run; the exit status
is 1 if any failed. Run: `.venv/bin/python bench/all.py [--only NAME ...]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

#: (script, arguments for the quick run, what it measures)
BENCHMARKS: list[tuple[str, list[str], str]] = [
    ("rules.py", ["--megabytes", "0.5", "--repeat", "1"], "rule engine MB/s vs re loop and raw Hyperscan"),
    ("check.py", ["--repeat", "2"], "check path (decode, extract, analyse) MB/s of HTML vs bare lxml"),
    ("startup.py", ["--rounds", "3"], "crawl child start-up: import and pack load (no cache, cold, warm) in CPU s"),
    ("detect.py", ["--rounds", "1"], "cost of the learned second opinion beside the rules alone"),
    ("networks.py", ["--rounds", "1"], "operator-network update at 100,000 sites vs bare SQL"),
    ("crawl.py", [], "scan pages/s vs a bare Scrapy spider on the demo web"),
    ("browser_capture.py", ["--pages", "20"],
     "rendered pages/min (screenshot, DOM, WARC) at concurrency 1, 2, 4 vs bare Playwright; Chromium memory"),
    ("static_crawl.py", ["--pages", "1000"],
     "scan pages/s vs a bare Scrapy spider on nginx-served static pages (SQLite, PostgreSQL), crawl RSS"),
    ("workers.py", [], "distributed scan pages/s with 1, 2 and 4 workers (200 ms per page)"),
    ("ocr.py", [], "OCR engines: error rate, seconds and memory per image"),
    ("ocr_scan.py", [], "OCR throughput (cold, warm, cached) and the demo scan with and without OCR"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="script names (e.g. rules check)")
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or Path(b[0]).stem in args.only]
    durations: list[tuple[str, float, int]] = []
    for script, arguments, about in chosen:
        print(f"\n=== bench/{script} {' '.join(arguments)} — {about}", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="pharmwatch-bench-") as home:  # never the user's data
            status = subprocess.call([sys.executable, str(BENCH / script), *arguments],
                                     env={**os.environ, "PHARMWATCH_HOME": home})
        durations.append((script, time.monotonic() - started, status))
    print("\n=== summary")
    for script, seconds, status in durations:
        print(f"{script:14s} {seconds:7.1f} s  {'ok' if status == 0 else f'FAILED (exit {status})'}")
    print(f"{'total':14s} {sum(d[1] for d in durations):7.1f} s")
    return 1 if any(d[2] for d in durations) else 0


if __name__ == "__main__":
    sys.exit(main())
