"""Browser capture throughput and Chromium's memory, measured side by side in one run (never asserted).

- baseline: bare Playwright (the same Debian Chromium, the same flags, the same proxy) loading each page
  in a fresh page and closing it: no wait, no screenshot, no DOM, no WARC;
- ours: the scan's own capture path: the `site` spider (plain fetch, then the page rendered in
  Chromium through `crawler.browser.CaptureBrowserHandler`, with the render wait, a full-page
  screenshot and the DOM), each capture written as WARC (`crawler.warc.capture_warc`).
Both run at concurrency 1, 2 and 4 (interleaved), in child processes of their own, against one set of
generated shop pages (one site each, `shopN.test`, ~20 KB of Chinese markup, a stylesheet, three images;
every fifth page builds its catalogue with a script after a 300 ms timer and a fetch, as demo/
js-shop.test does) served on loopback by a small real HTTP server acting as the crawl's egress proxy.
Prints pages/min, the ratio to the baseline, whether the script-built catalogues were in the DOM kept,
the CPU seconds per page of the whole process tree (Python, Playwright's driver, Chromium: steadier
than wall time on a shared machine) and the pages/min they would allow if every CPU were ours, and the
Chromium process tree's memory (RSS and PSS, sampled every 0.5 s). `--memory-pages N` adds a
long run at concurrency 4 printing the memory every N/5 pages (is it flat?).
Run: `.venv/bin/python bench/browser_capture.py [--pages 60] [--memory-pages 500]`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
SCRIPTED_EVERY = 5  # every fifth page builds its catalogue with a script (timer + fetch)
CATALOGUE_MARK = "目录已加载"  # in the DOM only once the script ran


# --- the pages: a small real HTTP server, also the crawl's egress proxy for the `.test` names -------------

def _png(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), ((seed * 37) % 256, (seed * 91) % 256, 180))
    for x in range(0, width, 7):  # some structure, so it is not a trivially compressed flat image
        for y in range(0, height, 5):
            image.putpixel((x, y), ((x * seed) % 256, (y * 3) % 256, (x + y) % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _page(number: int) -> bytes:
    rows = "\n".join(
        f"<li class='prod'><img src='/img/p{i % 2}.png' alt='商品{i}'><div class='title'>【正品保障】"
        f"降糖胶囊 第{i}号 30粒/盒</div><p class='desc'>本品采用传统配方，精选道地药材，调理血糖，"
        f"改善口干多饮、乏力等症状。国药准字Z2002{number:04d}{i}，请在医生指导下使用。</p>"
        f"<div class='price'>¥{99 + i}.00</div><a href='/item/{i}.html'>详情</a></li>"
        for i in range(30))
    scripted = number % SCRIPTED_EVERY == 0
    script = ("<script>setTimeout(function(){fetch('/api/catalogue.json').then(function(r){return r.json()})"
              ".then(function(c){var d=document.createElement('div');d.id='catalogue';d.textContent=c.mark+"
              "' '+c.items.join('，');document.getElementById('app').appendChild(d);});},300);</script>"
              if scripted else
              "<script>document.addEventListener('DOMContentLoaded',function(){var s=document."
              "createElement('span');s.textContent='在线客服';document.body.appendChild(s);});</script>")
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>健康商城 {number} 号店"
            f"</title><link rel='stylesheet' href='/style.css'></head><body><header><img src='/img/logo.png'"
            f" alt='店标'><h1>健康商城 {number} 号店</h1></header><div id='app'></div><ul>{rows}</ul>"
            f"<footer>客服微信 shop{number:04d} · 货到付款</footer>{script}</body></html>").encode()


STYLE = b"body{font-family:sans-serif;margin:0 auto;max-width:960px}.prod{display:flex;gap:8px;" \
        b"padding:8px;border-bottom:1px solid #ddd}.prod img{width:120px;height:90px}.price{color:#c00}"


def _serve(port_out: Any, ready: Any) -> None:
    images = {"/img/logo.png": _png(160, 60, 3), "/img/p0.png": _png(120, 90, 5), "/img/p1.png": _png(120, 90, 7)}
    catalogue = json.dumps({"mark": CATALOGUE_MARK, "items": ["降糖胶囊", "护肝片", "安神口服液"]}).encode()

    class Pages(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            host = parts.netloc or self.headers.get("Host", "")
            path = parts.path if parts.netloc else self.path.split("?")[0]
            body, kind, status = b"not here", "text/plain", 404
            if host.endswith(".test") and host.startswith("shop"):
                if path == "/":
                    body, kind, status = _page(int(host[4:-5])), "text/html; charset=utf-8", 200
                elif path == "/style.css":
                    body, kind, status = STYLE, "text/css", 200
                elif path in images:
                    body, kind, status = images[path], "image/png", 200
                elif path == "/api/catalogue.json":
                    body, kind, status = catalogue, "application/json", 200
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser closed a page mid-response (a capture finished first): not an error

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    port_out.value = server.server_address[1]
    ready.set()
    server.serve_forever()


# --- the two sides, each in a child process ---------------------------------------------------------------

def _bare(urls: list[str], proxy: str, concurrency: int, progress: Progress) -> None:
    from playwright.async_api import async_playwright

    async def run() -> None:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=FLAGS,
                proxy={"server": proxy, "bypass": "localhost,127.0.0.1"})
            queue: asyncio.Queue[str] = asyncio.Queue()
            for url in urls:
                queue.put_nowait(url)

            async def worker() -> None:
                while not queue.empty():
                    url = queue.get_nowait()
                    page = await browser.new_page()
                    await page.goto(url)
                    await page.close()
                    _count(progress)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await browser.close()

    asyncio.run(run())


@dataclass
class Progress:
    """Shared with a child: pages done, the scripted pages whose catalogue was in the DOM kept, and the
    times of the first and last page (so start-up is timed apart from steady throughput)."""

    done: Any
    scripted_seen: Any
    first_at: Any
    last_at: Any

    @classmethod
    def new(cls) -> Progress:
        context = multiprocessing.get_context("spawn")
        return cls(context.Value("i", 0), context.Value("i", 0), context.Value("d", 0.0), context.Value("d", 0.0))

    def reset(self) -> None:
        self.done.value = self.scripted_seen.value = 0
        self.first_at.value = self.last_at.value = 0.0


def _count(progress: Progress) -> None:
    with progress.done.get_lock():
        progress.done.value += 1
        now = time.time()
        if progress.done.value == 1:
            progress.first_at.value = now
        progress.last_at.value = now


# --- where a capture's time goes (`--profile`): wall time per phase, summed in the child ---------------------

_PHASES: dict[str, list[float]] = {}  # phase -> [seconds, times]; stays empty (and costs nothing) unless profiled
_PROFILING = False


class _phase:  # noqa: N801 - used as a `with` block, like a function
    """Adds the wall time of its block to `_PHASES[name]` when profiling."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        if _PROFILING:
            _add(self.name, time.perf_counter() - self.started)


def _add(name: str, seconds: float) -> None:
    entry = _PHASES.setdefault(name, [0.0, 0])
    entry[0] += seconds
    entry[1] += 1


def _timed(owner: Any, attribute: str, name: str) -> None:
    """Wrap the coroutine function `owner.attribute` so its wall time counts as phase `name`."""
    original = getattr(owner, attribute)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _add(name, time.perf_counter() - started)

    setattr(owner, attribute, wrapper)


def _instrument() -> None:
    """Time each phase of a browser capture by wrapping scrapy-playwright's and our handler's steps (the
    profile runs at concurrency 1, so the phases of one page do not overlap another's)."""
    global _PROFILING
    _PROFILING = True
    import scrapy_playwright.handler as scrapy_playwright
    from scrapy_playwright.page import PageMethod

    import crawler.browser as browser

    handler = browser.CaptureBrowserHandler
    _timed(handler, "_create_browser_context", "context: open (+ init script, route)")
    _timed(handler, "_create_page", "page: open (context included)")
    _timed(handler, "_get_response_and_download", "navigation: goto until load")
    _timed(handler, "_apply_page_methods", "page methods (+ load-state checks)")
    _timed(scrapy_playwright, "_get_page_content", "DOM: page.content()")
    _timed(handler, "_download_request_with_page", "scrapy-playwright: page to response")
    _timed(handler, "_close_context", "context: close")
    _timed(handler, "_download_request", "browser download: total")
    plain_download = handler.download_request

    async def download_request(self: Any, request: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await plain_download(self, request, *args)
        finally:
            if not request.meta.get("playwright"):
                _add("plain fetch (Scrapy's HTTP)", time.perf_counter() - started)

    handler.download_request = download_request  # type: ignore[method-assign]
    original_call = PageMethod.__init__

    def timed_method(self: Any, method: Any, *args: Any, **kwargs: Any) -> None:
        if callable(method):
            name = f"page method: {method.__name__}"
            inner = method

            async def method(*a: Any, **k: Any) -> Any:  # noqa: ANN202
                started = time.perf_counter()
                try:
                    return await inner(*a, **k)
                finally:
                    _add(name, time.perf_counter() - started)
        original_call(self, method, *args, **kwargs)

    PageMethod.__init__ = timed_method  # type: ignore[method-assign]


def _print_phases(pages: int) -> None:
    print(f"\nwhere our capture's time goes (wall ms per rendered page, concurrency 1, {pages} pages):")
    for name, (seconds, times) in _PHASES.items():
        print(f"  {name:44s} {1000 * seconds / max(pages, 1):8.1f}   ({times} calls)")


class _WarcOut:
    """The bench's only pipeline: each capture as WARC and its blobs written as StorePipeline writes them
    (body, screenshot, WARC into a BlobStore in a temporary folder), counted."""

    progress: Progress
    blob_dir: str

    def __init__(self) -> None:
        from storage.blobs import BlobStore

        self.blobs = BlobStore(Path(self.blob_dir))

    def process_item(self, item: Any) -> Any:
        from crawler.warc import capture_warc

        with _phase("pipeline: WARC records"):
            warc = capture_warc(item)
        with _phase("pipeline: blob writes"):
            self.blobs.put(item.body, ".html")
            if item.screenshot:
                self.blobs.put(item.screenshot, ".png")
            self.blobs.put(warc, ".warc.gz")
        if item.rendered:
            if item.error or not item.screenshot:
                raise RuntimeError(f"render failed: {item.url}: {item.error}")
            _count(self.progress)
            if CATALOGUE_MARK in (item.html or ""):
                with self.progress.scripted_seen.get_lock():
                    self.progress.scripted_seen.value += 1
        return item


def _ours(urls: list[str], proxy: str, concurrency: int, progress: Progress, overrides: dict[str, Any],
          root: str = "", profile: bool = False, blob_dir: str = "") -> None:
    if root:  # another checkout's crawler (e.g. `main`, for before/after in one run)
        sys.path.insert(0, root)
    if profile:
        _instrument()
    from scrapy.crawler import AsyncCrawlerRunner
    from scrapy.utils.defer import deferred_f_from_coro_f
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    from crawler.run import scrapy_settings
    from crawler.spiders.site import SiteSpider

    _WarcOut.progress = progress
    _WarcOut.blob_dir = tempfile.mkdtemp(dir=blob_dir or None, prefix="blobs-")
    settings = scrapy_settings({
        "EGRESS_PROXY": proxy, "GUARD_ALLOW": ["127.0.0.0/8"], "CONCURRENT_REQUESTS": concurrency,
        "PLAYWRIGHT_MAX_CONTEXTS": concurrency, "CAPTURE_MAX_DEPTH": 0, "FAVICON_ENABLED": False,
        "ITEM_PIPELINES": {_WarcOut: 800}, "EXTENSIONS": {}, "LOG_LEVEL": "ERROR", **overrides,
    })
    install_reactor(settings["TWISTED_REACTOR"])
    configure_logging(settings)
    runner = AsyncCrawlerRunner(settings)
    from twisted.internet import reactor  # only after install_reactor

    async def crawl() -> None:
        await runner.crawl(SiteSpider, targets=urls)

    errors: list[Any] = []
    deferred = deferred_f_from_coro_f(crawl)()
    deferred.addErrback(errors.append)
    deferred.addBoth(lambda _: reactor.stop())  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]
    if errors:
        errors[0].raiseException()
    if profile:
        _print_phases(progress.done.value)


# --- Chromium's memory: the process tree under a child, sampled ------------------------------------------

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_usage(root: int) -> tuple[float, float, float]:
    """The Chromium processes' RSS and PSS (MB; PSS shares shared pages out) under `root`, and the CPU
    seconds of the whole tree (Python, Playwright's driver, Chromium; exited children included)."""
    tree, stack, rss, pss, ticks = _children(), [root], 0, 0, 0
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            if "chrom" not in Path(f"/proc/{pid}/comm").read_text():
                continue
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, pss / 1024, ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    label: str
    pages: int = 0
    seconds: float = 0.0  # wall time, browser start-up included
    steady_seconds: float = 0.0  # from the first page done to the last
    scripted_seen: int = 0
    samples: list[tuple[int, float, float, float]] = field(default_factory=list)  # (pages, RSS MB, PSS MB, CPU s)

    @property
    def per_minute(self) -> float:
        """Steady pages/min: pages after the first, over the time from the first to the last."""
        return 60 * (self.pages - 1) / self.steady_seconds if self.steady_seconds else 0.0

    @property
    def cpu_per_page(self) -> float:
        """CPU seconds per page after the first (start-up excluded), over the whole process tree."""
        steady = [s for s in self.samples if s[0] >= 1]
        if len(steady) < 2 or steady[-1][0] == steady[0][0]:
            return 0.0
        return (steady[-1][3] - steady[0][3]) / (steady[-1][0] - steady[0][0])

    def peak(self) -> tuple[float, float]:
        return (max((s[1] for s in self.samples), default=0.0), max((s[2] for s in self.samples), default=0.0))


def measure(label: str, target: Any, args: tuple[Any, ...], progress: Progress) -> Run:
    progress.reset()
    run = Run(label)
    child = multiprocessing.get_context("spawn").Process(target=target, args=args)
    started = time.perf_counter()
    child.start()
    while child.is_alive():
        done = progress.done.value
        rss, pss, cpu = tree_usage(child.pid or 0)
        if rss:
            run.samples.append((done, rss, pss, cpu))
        child.join(0.5)
    run.seconds = time.perf_counter() - started
    run.pages = progress.done.value
    run.steady_seconds = progress.last_at.value - progress.first_at.value
    run.scripted_seen = progress.scripted_seen.value
    if child.exitcode:
        raise SystemExit(f"{label}: the child failed (exit {child.exitcode})")
    return run


def _row(run: Run, baseline: Run, scripted: str) -> str:
    rss, pss = run.peak()
    ratio = run.per_minute / baseline.per_minute if baseline.per_minute else 0.0
    cpu = run.cpu_per_page
    idle = 60 * (os.cpu_count() or 1) / cpu if cpu else 0.0
    return (f"{run.label:24s} {run.pages:5d} {run.seconds:6.1f} {run.per_minute:9.0f} {ratio:6.2f} {scripted:>11s} "
            f"{rss:11.0f} {pss:11.0f} {cpu * 1000:8.0f} {idle:9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=60, help="pages per concurrency level (default 60)")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--memory-pages", type=int, default=0, help="a long run of ours at concurrency 4 (e.g. 500)")
    parser.add_argument("--before", metavar="CHECKOUT", default="",
                        help="also run another checkout's crawler (e.g. /work/main) between bare and ours")
    parser.add_argument("--profile", type=int, default=0, metavar="PAGES",
                        help="first, where ours (and --before) spend each page's time: phases at concurrency 1")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="crawler settings for our side, e.g. CAPTURE_RENDER_WAIT_MS=1500")
    args = parser.parse_args()
    overrides: dict[str, Any] = {}
    for pair in args.set:
        name, _, value = pair.partition("=")
        overrides[name] = int(value) if value.lstrip("-").isdigit() else value

    context = multiprocessing.get_context("spawn")
    port, ready = context.Value("i", 0), context.Event()
    server = context.Process(target=_serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(30)
    proxy = f"http://127.0.0.1:{port.value}"
    progress = Progress.new()
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs; "
          f"our settings: {overrides or 'defaults'}")
    print("pages/min is steady (first page to last; the wall time in s includes Chromium's start-up); CPU ms "
          "per page: the whole process tree after the first page; 'CPU-bound': pages/min if all CPUs were ours")
    print(f"{'run':24s} {'pages':>5s} {'s':>6s} {'pages/min':>9s} {'ratio':>6s} {'scripted ok':>11s} "
          f"{'peak RSS MB':>11s} {'peak PSS MB':>11s} {'CPU ms/p':>8s} {'CPU-bound':>9s}")
    first = 0
    sides = [("before", args.before)] if args.before else []
    sides.append(("ours", ""))
    if args.profile:
        for label, root in sides:
            urls = [f"http://shop{n}.test/" for n in range(first, first + args.profile)]
            first += args.profile
            print(f"\n{label}:", end="", flush=True)
            run = measure(f"{label} c=1 (profiled)", _ours, (urls, proxy, 1, progress, overrides, root, True), progress)
            print(f"  wall per page (steady) {60_000 / run.per_minute if run.per_minute else 0:8.1f}", flush=True)
        print()
    for concurrency in args.concurrency:
        numbers = range(first, first + args.pages)
        first += args.pages  # fresh hosts each time: nothing cached from an earlier run
        urls = [f"http://shop{n}.test/" for n in numbers]
        wanted = sum(1 for n in numbers if n % SCRIPTED_EVERY == 0)
        bare = measure(f"bare Playwright c={concurrency}", _bare, (urls, proxy, concurrency, progress), progress)
        print(_row(bare, bare, "-"), flush=True)
        for label, root in sides:
            ours = measure(f"{label} c={concurrency}", _ours, (urls, proxy, concurrency, progress, overrides, root),
                           progress)
            print(_row(ours, bare, f"{ours.scripted_seen}/{wanted}"), flush=True)
    if args.memory_pages:
        urls = [f"http://shop{n}.test/" for n in range(first, first + args.memory_pages)]
        run = measure("ours c=4 (memory)", _ours, (urls, proxy, 4, progress, overrides), progress)
        print(f"\nmemory over {run.pages} pages at concurrency 4 ({run.per_minute:.0f} pages/min): the Chromium "
              "tree's highest RSS / PSS (MB) sampled in each stretch of pages")
        step = max(1, args.memory_pages // 5)
        for start in range(0, args.memory_pages, step):
            window = [s for s in run.samples if start <= s[0] < start + step]
            if window:
                print(f"  pages {start:5d}-{start + step - 1:<5d} {max(s[1] for s in window):7.0f} / "
                      f"{max(s[2] for s in window):6.0f}")
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")
    server.terminate()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="pharmwatch-bench-browser-"):
        main()
