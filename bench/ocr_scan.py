"""What OCR costs a scan, measured side by side in one run (never asserted).

1. Throughput of the reader a scan uses (`crawler.ocr.OcrReader`, RapidOCR in its own worker process) on
   the demo shop's four images and the public ones in `bench/ocr_images/`: images/s with a cold worker
   (process start and model loading included), warm (the same worker reading them again, cache
   emptied), and from the cache (by SHA-256, no worker).
2. `pharmwatch scan` of the whole demo web (demo/pharmwatch.toml: watchlist, mock search engine,
   Chromium for first pages) without OCR, with OCR and a cold cache, and with OCR again on the same
   data folder (the results cached by SHA-256 across scans), each in its own process; prints the
   seconds, what OCR added, and how many images were read or skipped, and why.

Run: `.venv/bin/python bench/ocr_scan.py [--skip-throughput] [--skip-scans]`.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.ocr import OcrReader  # noqa: E402
from demo.ocr_images import IMAGE_TEXTS, SITE  # noqa: E402
from demo.server import DemoWeb  # noqa: E402

CONFIG = ROOT / "demo" / "pharmwatch.toml"


def images() -> list[tuple[str, bytes]]:
    public = sorted(p for p in (ROOT / "bench" / "ocr_images").iterdir() if p.suffix in (".png", ".jpg"))
    return [(name, (SITE / name).read_bytes()) for name in IMAGE_TEXTS] + [(p.name, p.read_bytes()) for p in public]


def throughput() -> None:
    batch = images()
    with OcrReader() as reader:
        rates = []
        for label in ("cold worker (start + model load)", "warm worker", "cache hit (SHA-256)"):
            if label == "warm worker":
                reader._memory.clear()  # noqa: SLF001 - read again by the worker, not from the cache
            start = time.perf_counter()
            for _name, data in batch:
                reader.read(data)
            elapsed = time.perf_counter() - start
            rates.append((label, elapsed))
        peak = reader.stats.peak_worker_mb
    print(f"OCR throughput, {len(batch)} images ({sum(len(d) for _, d in batch) // 1024} KB), RapidOCR, 1 thread")
    print(f"  {'':36} {'seconds':>8} {'images/s':>9}")
    for label, elapsed in rates:
        print(f"  {label:36} {elapsed:8.2f} {len(batch) / elapsed:9.2f}")
    print(f"  worker peak memory {peak:.0f} MB")


def scan(home: Path, proxy: str, *, ocr: bool) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHARMWATCH_")}
    env.update(PHARMWATCH_HOME=str(home), PHARMWATCH_CRAWL__PROXY=f'"{proxy}"',
               PHARMWATCH_CRAWL__OCR="true" if ocr else "false")
    command = [sys.executable, "-m", "pharmwatch", "--config", str(CONFIG)]
    subprocess.run([*command, "db", "upgrade"], env=env, cwd=ROOT, capture_output=True, check=True)
    start = time.perf_counter()
    subprocess.run([*command, "scan", "--no-tips"], env=env, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - start


def what_was_read(home: Path) -> str:
    """The OCR blocks of the newest scan run: images read (worker or cache), skipped by reason."""
    import json

    with sqlite3.connect(home / "pharmwatch.db") as db:
        rows = db.execute("SELECT ocr FROM capture WHERE ocr IS NOT NULL AND scan_run_id = "
                          "(SELECT max(id) FROM scan_run)").fetchall()
    kinds: Counter[str] = Counter()
    for (blocks,) in rows:
        for block in json.loads(blocks):
            if "lines" in block:
                kinds["read" + (" (screenshot)" if block["image"] == "screenshot" else "")] += 1
            elif "error" in block:
                kinds["error"] += 1
            else:
                reason = block["skipped"]
                kinds["skipped: " + ("too few bytes" if "bytes, under" in reason else
                                     "too few pixels" if "pixels, under" in reason else
                                     "page not chosen" if reason.startswith("page not read") else reason)] += 1
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))


def scans() -> None:
    with DemoWeb() as web, tempfile.TemporaryDirectory() as tmp:
        plain = scan(Path(tmp) / "plain", web.url, ocr=False)
        cold = scan(Path(tmp) / "ocr", web.url, ocr=True)
        cold_read = what_was_read(Path(tmp) / "ocr")
        warm = scan(Path(tmp) / "ocr", web.url, ocr=True)  # same data folder: OCR results cached by SHA-256
        warm_read = what_was_read(Path(tmp) / "ocr")
    print("Scan of the demo web (demo/pharmwatch.toml), seconds")
    print(f"  {'without OCR':36} {plain:8.1f}")
    print(f"  {'with OCR, cold cache':36} {cold:8.1f}  (+{cold - plain:.1f} s)  {cold_read}")
    print(f"  {'with OCR, results cached':36} {warm:8.1f}  (+{warm - plain:.1f} s)  {warm_read}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-scans", action="store_true")
    args = parser.parse_args()
    if not args.skip_throughput:
        throughput()
    if not args.skip_scans:
        scans()


if __name__ == "__main__":
    main()
