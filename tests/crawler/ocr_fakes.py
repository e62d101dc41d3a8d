"""OCR engines for tests, named to `OcrReader` as "tests.crawler.ocr_fakes:NAME" (run in its worker)."""

from __future__ import annotations

import os
import time

from crawler.ocr_engines import OcrLine

_BOX = [[0, 0], [10, 0], [10, 10], [0, 10]]


def echo(data: bytes) -> list[OcrLine]:
    """The bytes as text, one line per line; b"hang" never returns (a stuck engine)."""
    if data == b"hang":
        time.sleep(3600)
    return [OcrLine(line, 0.99, _BOX) for line in data.decode("utf-8").splitlines()]


def pid(data: bytes) -> list[OcrLine]:
    """Which worker process read the image."""
    return [OcrLine(str(os.getpid()), 1.0, _BOX)]


def fail(data: bytes) -> list[OcrLine]:
    raise RuntimeError("engine failed on purpose")
