"""Crawl throughput against the demo web, measured side by side in one run (never asserted).

- baseline: a bare Scrapy spider that fetches the same pages and does nothing with them;
- ours: `pharmwatch scan` of the same sites with Chromium off (plain fetch, text extraction,
  rules, WARC, blobs, database rows, audit events per page);
- ours + Chromium: the same with each site's first page rendered and screenshotted.
Each variant runs in its own process (a Twisted reactor runs once per process). Prints pages/s
and the ratio to the baseline. Run: `.venv/bin/python bench/crawl.py [--copies 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.server import DemoWeb, load_manifest  # noqa: E402

BASELINE = r'''
import json, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor

urls, proxy = json.loads(sys.argv[1]), sys.argv[2]
pages = []

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in urls:
            yield scrapy.Request(url, meta={"proxy": proxy})
    def parse(self, response):
        pages.append(response.url)
        for link in LinkExtractor(allow_domains=[response.url.split("/")[2]]).extract_links(response):
            yield response.follow(link, meta={"proxy": proxy})

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 8, "TELNETCONSOLE_ENABLED": False,
                          "DEPTH_LIMIT": 2, "ROBOTSTXT_OBEY": False})
process.crawl(Bare)
process.start()
print(len(pages))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    urls = [site.start_url for site in load_manifest()]
    with DemoWeb() as web, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", BASELINE, json.dumps(urls), web.url], capture_output=True,
                             text=True, check=True)
        baseline = (int(out.stdout.strip().splitlines()[-1]), time.perf_counter() - start)
        results = {"baseline: bare Scrapy, same pages": baseline}
        variants = (("ours: start-up only (1 page)", ["http://kangjian-pharmacy.test/otc"], "false"),
                    ("ours: scan, Chromium off", urls, "false"),
                    ("ours: scan, first pages in Chromium", urls, "true"))
        for label, watchlist, render in variants:
            home = Path(tmp) / label.replace(" ", "_").replace(":", "").replace(",", "")
            config = home / "pharmwatch.toml"
            home.mkdir()
            config.write_text(f"watchlist = {json.dumps(watchlist)}\n[crawl]\nallow_private = [\"127.0.0.0/8\"]\n"
                              f"render_first_page = {render}\nmax_pages_per_site = 50\nmax_depth = "
                              f"{0 if len(watchlist) == 1 else 2}\n", encoding="utf-8")
            env = dict(os.environ, PHARMWATCH_HOME=str(home), PHARMWATCH_CRAWL__PROXY=f'"{web.url}"')
            subprocess.run([sys.executable, "-m", "pharmwatch", "--config", str(config), "db", "upgrade"], env=env,
                           capture_output=True, check=True)
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "pharmwatch", "--config", str(config), "scan"], env=env,
                                 capture_output=True, text=True, check=True)
            elapsed = time.perf_counter() - start
            pages = int(out.stdout.split("pages=")[1].split()[0])
            results[label] = (pages, elapsed)
    base_rate = baseline[0] / baseline[1]
    print(f"{'run':<40}{'pages':>7}{'seconds':>9}{'pages/s':>9}{'vs baseline':>13}")
    for label, (pages, seconds) in results.items():
        rate = pages / seconds
        print(f"{label:<40}{pages:>7}{seconds:>9.2f}{rate:>9.1f}{rate / base_rate:>12.2f}x")
    startup = results["ours: start-up only (1 page)"][1]
    for label in ("ours: scan, Chromium off", "ours: scan, first pages in Chromium"):
        pages, seconds = results[label]
        print(f"{label}: {1000 * (seconds - startup) / pages:.0f} ms per page after start-up "
              f"(start-up {startup:.1f} s: imports, rule packs, database)")
    print(f"baseline: {1000 * baseline[1] / baseline[0]:.0f} ms per page including its own start-up")


if __name__ == "__main__":
    main()
