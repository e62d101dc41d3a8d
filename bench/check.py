"""The whole path a saved page takes in `pharmwatch check`: decode, extract, analyse (rules and the learned
model), in MB of HTML per second after start-up, beside bare baselines measured in the same run.

Pages: 20 pages of about 100,000 characters of HTML each, assembled from real markup: the saved real pages
of tests/reference/real/ (shop pages, footers, a WeChat article, a hospital page) and the demo web's pages,
their bodies concatenated in a fixed shuffled order under one head (as a long shop or portal page is).

Columns, for the same pages:
- ours: `crawler.charset.decode_html` + `crawler.extract.extract_document` + `RuleSet.analyse` (bundled packs
  and model), i.e. what `check` does per page once loaded;
- extract only: decode + extract (no analysis);
- bare lxml: decode + `lxml.html.document_fromstring(...).text_content()` (a parser and nothing else);
- bare decode: bytes to str only.
Issue #18's target: ours >= 10 MB/s of HTML. Never asserted; run: `.venv/bin/python bench/check.py`.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from crawler.charset import decode_html  # noqa: E402
from crawler.extract import extract_document  # noqa: E402
from rules import load_ruleset  # noqa: E402

PAGE_CHARS = 100_000
_BODY_RE = re.compile(r"<body[^>]*>(.*?)(?:</body>|\Z)", re.S | re.I)


def sources() -> list[str]:
    files = sorted((ROOT / "tests" / "reference" / "real").glob("*.html"))
    files += sorted((ROOT / "demo" / "sites").rglob("*.html"))
    return [decode_html(p.read_bytes()) for p in files]


def pages(count: int) -> list[bytes]:
    """`count` pages of about PAGE_CHARS characters, each the bodies of real and demo pages in a shuffled order."""
    bodies = [m.group(1) if (m := _BODY_RE.search(html)) else html for html in sources()]
    rng = random.Random(18)
    out: list[bytes] = []
    for n in range(count):
        rng.shuffle(bodies)
        parts: list[str] = []
        size = 0
        for body in bodies:
            parts.append(f"<section>{body}</section>")
            size += len(parts[-1])
            if size >= PAGE_CHARS:
                break
        html = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>页面 {n}</title></head>"
                f"<body>{''.join(parts)}</body></html>")
        out.append(html.encode("utf-8"))
    return out


def timed(fn: Callable[[bytes], object], data: list[bytes], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for page in data:
            fn(page)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    args = parser.parse_args()

    data = pages(args.pages)
    mb = sum(map(len, data)) / 1e6
    ruleset = load_ruleset()
    ruleset.analyse(extract_document(decode_html(data[0])))  # start-up: tables, OpenCC, the model

    variants: list[tuple[str, Callable[[bytes], object]]] = [
        ("ours: decode + extract + analyse", lambda b: ruleset.analyse(extract_document(decode_html(b)))),
        ("extract only: decode + extract", lambda b: extract_document(decode_html(b))),
        ("bare lxml: decode + parse + text", lambda b: lxml.html.document_fromstring(decode_html(b)).text_content()),
        ("bare decode", decode_html),
    ]
    text_mb = sum(len(extract_document(decode_html(b)).text.encode("utf-8")) for b in data) / 1e6
    print(f"pages: {len(data)} of ~{PAGE_CHARS:,} characters, {mb:.2f} MB of HTML ({text_mb:.2f} MB of extracted text)")
    rates = {label: mb / timed(fn, data, args.repeat) for label, fn in variants}
    ours = rates[variants[0][0]]
    print(f"{'variant':36s} {'MB/s of HTML':>12s} {'ours / this':>12s}")
    for label, rate in rates.items():
        print(f"{label:36s} {rate:12.2f} {ours / rate:11.2f}x")
    print(f"target: ours >= 10 MB/s of HTML (issue #18); seen {ours:.2f} MB/s "
          f"({ours * text_mb / mb:.2f} MB/s of extracted text)")


if __name__ == "__main__":
    main()
