"""Reading text in images for the rules: `OcrReader.read(image_bytes) -> OcrResult`.

Owns the OCR worker (a spawned process, recycled after `recycle_images` images or once it holds more
than `recycle_mb` MB: RapidOCR's memory grows with use, RapidOCR#187), the deadline per image (a hung
engine is killed, the next image gets a fresh worker) and the cache of results by the image's SHA-256
and engine version (in memory per reader, and as JSON files across runs when given a directory).
Also how OCR text joins a page's `TextDocument` (`with_ocr_text`: one section of scope `ocr` per image,
one line per line read) and how a finding's offsets lead back to the image and the line's box.
The engines themselves are `crawler/ocr_engines.py`.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import hashlib
import importlib
import json
import multiprocessing
import os
import re
import resource
import signal
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from crawler.ocr_engines import ENGINES, Box, OcrLine
from rules import TextDocument
from rules.document import Section

DEFAULT_ENGINE = "rapidocr"
#: Seconds one image may take, model loading of a fresh worker included (about 2 s for RapidOCR).
DEFAULT_TIMEOUT = 60.0
DEFAULT_RECYCLE_IMAGES = 200
DEFAULT_RECYCLE_MB = 1500
_MEMORY_CACHE_SIZE = 256


class OcrError(Exception):
    """An image that could not be read: not an image, too large, the engine failed or timed out."""


@dataclass
class OcrResult:
    """What one image says. `seconds` is the engine's time when it was read (kept when cached)."""

    sha256: str
    engine: str
    seconds: float
    lines: list[OcrLine]
    cached: bool = False

    @property
    def text(self) -> str:
        """The lines, one per line: each line of an image is a phrase of its own, as a block on a page."""
        return "\n".join(line.text for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        # Not `cached`: the same image gives the same block whether it was read now or earlier.
        return {"sha256": self.sha256, "engine": self.engine, "seconds": round(self.seconds, 3),
                "lines": [line.as_json() for line in self.lines]}


@dataclass
class OcrStats:
    """Counters of one reader (for tests, the bench and a scan's stats later)."""

    images: int = 0  # read by a worker
    cache_hits: int = 0
    workers_started: int = 0
    recycled: int = 0
    timeouts: int = 0
    peak_worker_mb: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OcrSpan:
    """Where one line read from an image sits in a document's text."""

    start: int
    end: int
    sha256: str
    line: int  # index into the image's lines
    box: Box


def with_ocr_text(document: TextDocument, results: list[OcrResult]) -> tuple[TextDocument, list[OcrSpan]]:
    """`document` with the lines of each image appended, a section of scope `ocr` per image, and where
    each line went. Lines are joined by newlines: a line in a picture is a phrase of its own."""
    text = document.text
    sections = list(document.sections) or ([Section("body", 0, len(text))] if text else [])
    pieces, spans, pos = [text], [], len(text)
    for result in results:
        if not result.lines:
            continue
        if pos:
            pieces.append("\n")
            pos += 1
        start = pos
        for index, line in enumerate(result.lines):
            if index:
                pieces.append("\n")
                pos += 1
            spans.append(OcrSpan(pos, pos + len(line.text), result.sha256, index, line.box))
            pieces.append(line.text)
            pos += len(line.text)
        sections.append(Section("ocr", start, pos))
    return TextDocument("".join(pieces), sections), spans


def ocr_origin(spans: list[OcrSpan], start: int, end: int) -> OcrSpan | None:
    """The OCR line a match `[start, end)` was read in (the one it starts in), or None."""
    return next((span for span in spans if span.start <= start < span.end or start == end == span.end), None)


def read_in(matches: list[tuple[int, int]], ocr_spans: list[OcrSpan]) -> list[dict[str, Any]]:
    """The image lines a finding's matches were read in, each once, in match order (`findings[].ocr`)."""
    origins: dict[tuple[str, int], OcrSpan] = {}
    for start, end in matches:
        if (origin := ocr_origin(ocr_spans, start, end)) is not None:
            origins.setdefault((origin.sha256, origin.line), origin)
    return [{"sha256": o.sha256, "line": o.line, "box": o.box} for o in origins.values()]


def data_uri_bytes(source: str, limit: int) -> bytes | str:
    """The bytes of an inline `data:` image, or why not (does not decode, larger than `limit`)."""
    header, _, payload = source.partition(",")
    try:
        data = base64.b64decode(payload) if header.lower().endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return "a data: URI that does not decode"
    return data if len(data) <= limit else f"larger than {limit} bytes"


def engine_version(engine: str) -> str:
    """The engine's name and version, part of the cache key: a new engine version reads images anew."""
    if engine in ENGINES:
        return ENGINES[engine][1]()
    return engine  # "module:function", a test's engine


class OcrReader:
    """Reads images in a worker process of its own. Use as a context manager (or call `close`)."""

    def __init__(self, engine: str = DEFAULT_ENGINE, *, timeout: float = DEFAULT_TIMEOUT,
                 recycle_images: int = DEFAULT_RECYCLE_IMAGES, recycle_mb: float = DEFAULT_RECYCLE_MB,
                 cache_dir: Path | None = None) -> None:
        if engine not in ENGINES and ":" not in engine:
            raise ValueError(f"unknown OCR engine {engine!r}; known: {', '.join(ENGINES)}")
        self.engine = engine
        self.timeout = timeout
        self.recycle_images = recycle_images
        self.recycle_mb = recycle_mb
        self.cache_dir = cache_dir
        self.stats = OcrStats()
        self._version: str | None = None
        self._memory: OrderedDict[str, OcrResult] = OrderedDict()
        self._process: Any = None
        self._conn: Connection | None = None
        self._served = 0  # images the current worker has read

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = engine_version(self.engine)
        return self._version

    def __enter__(self) -> OcrReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, data: bytes) -> OcrResult:
        """The text of one image; raises OcrError naming the image (by hash) and the reason."""
        sha256 = hashlib.sha256(data).hexdigest()
        cached = self._cached(sha256)
        if cached is not None:
            self.stats.cache_hits += 1
            return cached
        reply = self._ask(sha256, data)
        if reply["status"] != "ok":
            self.stats.errors.append(reply["error"])
            raise OcrError(f"image {sha256[:12]}: {reply['error']}")
        lines = [OcrLine(line["text"], line["confidence"], line["box"]) for line in reply["lines"]]
        result = OcrResult(sha256, self.version, reply["seconds"], lines)
        self._remember(result)
        return result

    def close(self) -> None:
        """Stop the worker (politely, then by force)."""
        process, conn = self._process, self._conn
        self._process, self._conn, self._served = None, None, 0
        if process is None:
            return
        try:
            if conn is not None:
                conn.send(None)
        except (OSError, ValueError):
            pass
        process.join(2)
        if process.is_alive():
            process.kill()
            process.join(2)
        if conn is not None:
            conn.close()

    # --- cache ----------------------------------------------------------------------------------

    def _cache_file(self, sha256: str) -> Path | None:
        if self.cache_dir is None:
            return None
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", self.version).strip("-")
        return self.cache_dir / slug / sha256[:2] / f"{sha256}.json"

    def _cached(self, sha256: str) -> OcrResult | None:
        if sha256 in self._memory:
            self._memory.move_to_end(sha256)
            return _as_cached(self._memory[sha256])
        path = self._cache_file(sha256)
        if path is None or not path.is_file():
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            lines = [OcrLine(line["text"], line["confidence"], line["box"]) for line in stored["lines"]]
            result = OcrResult(sha256, stored["engine"], stored["seconds"], lines)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache file is read again, and rewritten
        self._memory[sha256] = result
        return _as_cached(result)

    def _remember(self, result: OcrResult) -> None:
        self._memory[result.sha256] = result
        while len(self._memory) > _MEMORY_CACHE_SIZE:
            self._memory.popitem(last=False)
        path = self._cache_file(result.sha256)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(result.as_json(), ensure_ascii=False), encoding="utf-8")
            temporary.replace(path)  # never a half-written file under the real name

    # --- worker ---------------------------------------------------------------------------------

    def _ask(self, sha256: str, data: bytes) -> dict[str, Any]:
        if self._process is not None and self._served >= self.recycle_images:
            self._recycle()
        if self._process is None:
            self._start()
        assert self._conn is not None
        try:
            self._conn.send(data)
            answered = self._conn.poll(self.timeout)
            reply: dict[str, Any] = self._conn.recv() if answered else {}
        except (EOFError, OSError):
            code = self._process.exitcode if self._process is not None else None
            self.close()
            return {"status": "error", "error": f"the OCR worker died (exit code {code}); the next image "
                                                "gets a new one"}
        if not answered:
            self.stats.timeouts += 1
            self.close()
            return {"status": "error", "error": f"OCR took longer than {self.timeout:g} s and was stopped "
                                                "(the next image gets a new worker)"}
        self._served += 1
        self.stats.images += 1
        self.stats.peak_worker_mb = max(self.stats.peak_worker_mb, reply["rss_mb"])
        if reply["rss_mb"] > self.recycle_mb:
            self._recycle()
        return reply

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork: the caller may hold threads and locks
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(self.engine, child), name="pharmwatch-ocr", daemon=True)
        try:
            process.start()
        finally:
            child.close()
        self._process, self._conn = process, parent
        self.stats.workers_started += 1

    def _recycle(self) -> None:
        self.stats.recycled += 1
        self.close()


def _as_cached(result: OcrResult) -> OcrResult:
    return OcrResult(result.sha256, result.engine, result.seconds, result.lines, cached=True)


def _engine_function(engine: str) -> Callable[[bytes], list[OcrLine]]:
    if engine in ENGINES:
        return ENGINES[engine][0]
    module, _, name = engine.partition(":")
    function: Callable[[bytes], list[OcrLine]] = getattr(importlib.import_module(module), name)
    return function


def _rss_mb() -> float:
    """Memory the worker holds now (not its peak: recycling is about growth that stays)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(engine: str, conn: Connection) -> None:
    """The worker's loop: image bytes in, a reply dict out, until it is sent None."""
    try:  # Linux: die with the parent, so no orphan worker holds its memory after a crash
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    read = _engine_function(engine)
    while True:
        try:
            data = conn.recv()
        except (EOFError, OSError):
            return
        if data is None:
            return
        started = time.perf_counter()
        try:
            lines = read(data)
            reply: dict[str, Any] = {"status": "ok", "lines": [line.as_json() for line in lines]}
        except Exception as exc:  # noqa: BLE001 - reported to the parent as this image's error
            reply = {"status": "error", "error": str(exc) or type(exc).__name__}
        reply.update(seconds=time.perf_counter() - started, rss_mb=_rss_mb())
        conn.send(reply)
