"""OCR engines as plain functions: image bytes in, lines of text (with confidence and box) out.

Owns image decoding (size limits, EXIF orientation, slicing of long detail images) and the two
engines measured by `bench/ocr.py`: RapidOCR (PP-OCR models shipped in its wheel, the default) and
Tesseract (`tesseract` binary, Debian's `chi_sim`/`chi_tra`/`eng`). Nothing here downloads anything.
These functions run inside the OCR worker process (`crawler/ocr.py`); the bench calls them directly.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image, ImageOps

#: An image with more pixels than this is refused (Pillow's own bomb limit is higher and only warns).
MAX_PIXELS = 40_000_000
#: Long detail images are read in slices this tall (with an overlap), so the engine never shrinks them
#: to its maximum side (RapidOCR: 2,000 px), which would make 750 px wide text unreadably small.
SLICE_HEIGHT = 1280
SLICE_OVERLAP = 160
TESSERACT_LANGS = "chi_sim+chi_tra+eng"

Box = list[list[int]]  # four corners [x, y], clockwise from top left, in the image's own pixels


@dataclass(frozen=True)
class OcrLine:
    """One line of text read from an image."""

    text: str
    confidence: float  # 0..1
    box: Box

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(self.confidence, 3), "box": self.box}


class ImageError(ValueError):
    """Bytes that are not an image we read (not decodable, too many pixels)."""


def decode_image(data: bytes) -> Image.Image:
    """The picture as RGB, turned as its EXIF orientation says; raises ImageError with the reason."""
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageError(f"image of {width}x{height} pixels is larger than {MAX_PIXELS} pixels")
        if getattr(image, "is_animated", False):
            image.seek(0)  # an animated GIF or WebP: its first frame, as a page shows before it moves
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P"):
            # Transparent pixels are page background: white, or dark text on them would vanish.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        return image.convert("RGB")
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever Pillow raises on a damaged file is this input's error
        raise ImageError(f"not a readable image: {exc}") from None


def slices(height: int, width: int) -> list[tuple[int, int]]:
    """Vertical `(top, bottom)` slices of a long image (one slice for an ordinary one)."""
    if height <= max(SLICE_HEIGHT, 2 * width):
        return [(0, height)]
    step = SLICE_HEIGHT - SLICE_OVERLAP
    tops = list(range(0, height - SLICE_OVERLAP, step))
    return [(top, min(top + SLICE_HEIGHT, height)) for top in tops]


def read_lines(image: Image.Image, read_slice: Callable[[Image.Image], list[OcrLine]]) -> list[OcrLine]:
    """Run `read_slice` over the slices of `image`; boxes in whole-image pixels, a line seen in two
    overlapping slices kept once (by the slice holding its centre away from the cut)."""
    cuts = slices(image.height, image.width)
    lines: list[OcrLine] = []
    for index, (top, bottom) in enumerate(cuts):
        part = image if len(cuts) == 1 else image.crop((0, top, image.width, bottom))
        low = top + (SLICE_OVERLAP // 2 if index else 0)
        high = bottom - (SLICE_OVERLAP // 2 if index < len(cuts) - 1 else 0)
        for line in read_slice(part):
            box = [[x, y + top] for x, y in line.box]
            centre = sum(y for _, y in box) / 4
            if low <= centre < high or len(cuts) == 1:
                lines.append(OcrLine(line.text, line.confidence, box))
    return lines


# --------------------------------------------------------------------------------------------- RapidOCR


@cache
def _rapidocr() -> Any:
    from rapidocr import RapidOCR

    # One thread: the worker is one of several processes on a small machine, and measured here one
    # thread was faster than two under load (1.0 s vs 1.6 s per image).
    return RapidOCR(params={"Global.log_level": "critical",
                            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1})


def rapidocr_version() -> str:
    from importlib.metadata import version

    return f"rapidocr {version('rapidocr')}"


def _rapidocr_slice(image: Image.Image) -> list[OcrLine]:
    import numpy as np

    bgr = np.asarray(image)[:, :, ::-1]  # RapidOCR takes arrays in OpenCV's BGR order
    result = _rapidocr()(np.ascontiguousarray(bgr))
    if result.txts is None or result.boxes is None:
        return []
    return [OcrLine(text, float(score), [[round(float(x)), round(float(y))] for x, y in box])
            for text, score, box in zip(result.txts, result.scores or (), result.boxes, strict=False)
            if text.strip()]


def rapidocr_lines(data: bytes) -> list[OcrLine]:
    return read_lines(decode_image(data), _rapidocr_slice)


# --------------------------------------------------------------------------------------------- Tesseract

# Tesseract puts a space between CJK characters (and around CJK punctuation): not in the image.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def tesseract_version() -> str:
    out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


def _tesseract_slice(image: Image.Image, langs: str = TESSERACT_LANGS) -> list[OcrLine]:
    png = io.BytesIO()
    image.save(png, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # 16 s instead of 2 s per page without it (ENVIRONMENT.md)
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", langs, "--psm", "3", "tsv"],
                          input=png.getvalue(), capture_output=True, env=env, check=True)
    words: dict[tuple[str, str, str], list[list[str]]] = {}
    for row in done.stdout.decode("utf-8").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[0] == "5" and cells[11].strip():
            words.setdefault((cells[2], cells[3], cells[4]), []).append(cells)
    lines = []
    for cells in words.values():
        left = min(int(c[6]) for c in cells)
        top = min(int(c[7]) for c in cells)
        right = max(int(c[6]) + int(c[8]) for c in cells)
        bottom = max(int(c[7]) + int(c[9]) for c in cells)
        text = _CJK_GAP.sub("", " ".join(c[11] for c in cells))
        confidence = sum(max(float(c[10]), 0.0) for c in cells) / len(cells) / 100
        lines.append(OcrLine(text, confidence, [[left, top], [right, top], [right, bottom], [left, bottom]]))
    return lines


def tesseract_lines(data: bytes, langs: str = TESSERACT_LANGS) -> list[OcrLine]:
    return read_lines(decode_image(data), lambda image: _tesseract_slice(image, langs))


#: Engine name → (read lines from image bytes, version string).
ENGINES: dict[str, tuple[Callable[[bytes], list[OcrLine]], Callable[[], str]]] = {
    "rapidocr": (rapidocr_lines, rapidocr_version),
    "tesseract": (tesseract_lines, tesseract_version),
}
