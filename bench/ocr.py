"""OCR engines compared on advert-like images: RapidOCR and Tesseract (`crawler/ocr_engines.py`).

Images: the public ones in `bench/ocr_images/` (sources and licences in its README, truth in
`bench/ocr_truth.yaml`) and the demo shop's rendered ones (`demo/sites/xinmai-kang.test/img/`, truth
from `demo/ocr_images.py`). Each engine reads each image in a fresh process, so the peak memory is
that of one process holding the engine (Tesseract's own process counted in); seconds are the read
alone, model loading apart; `s` is a fresh engine's first image, `warm s` the same image again
(what a worker that has read images before takes).

Scores (text compared after NFKC and without whitespace, since Tesseract spaces out Chinese):
- `CER`: character error rate, order-free: characters of the truth missing from the output or
  output characters not in the truth, whichever is more, over the truth's characters (reading order
  differs between engines on posters; the rules read line by line, which `lines` measures);
- `lines`: share of the truth's lines found whole in one output line (what a rule phrase needs).

Run: `.venv/bin/python bench/ocr.py [--engines rapidocr,tesseract] [--show]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.ocr_engines import ENGINES, TESSERACT_LANGS, tesseract_lines  # noqa: E402

IMAGES = ROOT / "bench" / "ocr_images"
TRUTH = ROOT / "bench" / "ocr_truth.yaml"


def _flat(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def cer(truth: list[str], output: list[str]) -> float:
    want, got = Counter(_flat("".join(truth))), Counter(_flat("".join(output)))
    return max(sum((want - got).values()), sum((got - want).values())) / max(1, sum(want.values()))


def lines_found(truth: list[str], output: list[str]) -> float:
    read = [_flat(line) for line in output]
    return sum(any(_flat(line) in got for got in read) for line in truth) / max(1, len(truth))


def cases() -> list[tuple[str, Path, str, list[str]]]:
    """(name, path, kind, truth lines) of every image present."""
    import yaml

    from demo.ocr_images import IMAGE_TEXTS, SITE

    out = []
    for name, entry in yaml.safe_load(TRUTH.read_text(encoding="utf-8")).items():
        if (IMAGES / name).is_file():
            out.append((name, IMAGES / name, entry["kind"], [str(line) for line in entry["lines"]]))
        else:
            print(f"(skipped, not present: {IMAGES / name})", file=sys.stderr)
    kinds = {"banner.png": "rendered banner, large bold text on a gradient",
             "product.png": "rendered product photo: noise, blur, tilted 3 degrees",
             "detail-long.png": "rendered long detail image (750x3000), one traditional line",
             "qr.png": "rendered QR poster with a WeChat id"}
    out += [(f"demo-{name}", SITE / name, kinds[name], lines) for name, lines in IMAGE_TEXTS.items()]
    return out


def read_one(engine: str, path: Path, langs: str) -> dict[str, object]:
    """In this (fresh) process: load the engine, read one image twice (first and warm); seconds, peak memory."""
    read, version = ENGINES[engine]
    if engine == "tesseract":
        read = partial(tesseract_lines, langs=langs)
    data = path.read_bytes()
    started = time.perf_counter()
    if engine == "rapidocr":
        from crawler.ocr_engines import _rapidocr

        _rapidocr()  # the models are loaded once per worker, not per image
    loaded = time.perf_counter()
    lines = read(data)
    done = time.perf_counter()
    read(data)
    warm = time.perf_counter() - done
    peak_kb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # Tesseract runs as a child
    return {"version": version(), "load": loaded - started, "seconds": done - loaded, "warm": warm,
            "peak_mb": peak_kb / 1024, "lines": [line.text for line in lines]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--show", action="store_true", help="print what each engine read")
    parser.add_argument("--tesseract-langs", default=TESSERACT_LANGS, help=f"default {TESSERACT_LANGS}")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "IMAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(read_one(args.one[0], Path(args.one[1]), args.tesseract_langs), ensure_ascii=False))
        return
    engines = args.engines.split(",")
    rows, totals = [], {engine: {"chars": 0, "errors": 0.0, "lines": 0.0, "n": 0, "s": 0.0, "mb": 0.0,
                                 "load": 0.0, "warm": 0.0, "empty": 0} for engine in engines}
    versions: dict[str, str] = {}
    for name, path, kind, truth in cases():
        row = [name, str(len(_flat("".join(truth))))]
        for engine in engines:
            done = subprocess.run([sys.executable, __file__, "--one", engine, str(path),
                                      "--tesseract-langs", args.tesseract_langs], capture_output=True,
                                     text=True, check=True, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
            got = json.loads(done.stdout)
            versions[engine] = got["version"]
            error, found = cer(truth, got["lines"]), lines_found(truth, got["lines"])
            total = totals[engine]
            chars = len(_flat("".join(truth)))
            total["chars"] += chars
            total["errors"] += error * chars
            total["lines"] += found
            total["n"] += 1
            total["s"] += got["seconds"]
            total["load"] += got["load"]
            total["warm"] += got["warm"]
            total["mb"] = max(total["mb"], got["peak_mb"])
            total["empty"] += not got["lines"]
            row += [f"{error:.3f}", f"{found:.2f}", f"{got['seconds']:.2f}", f"{got['warm']:.2f}",
                    f"{got['peak_mb']:.0f}"]
            if args.show:
                print(f"{name} [{engine}]: {' | '.join(got['lines'])}", file=sys.stderr)
        rows.append((row, kind))
    header = ["image", "chars"] + [f"{e[:5]} {m}" for e in engines for m in ("CER", "lines", "s", "warm s", "MB")]
    print(" | ".join(header))
    for row, kind in rows:
        print(" | ".join(row) + f"   ({kind})")
    for engine, total in totals.items():
        n = max(1, int(total["n"]))
        print(f"{versions.get(engine, engine)}: CER {total['errors'] / max(1, total['chars']):.3f} "
              f"(over {int(total['chars'])} characters), lines found {total['lines'] / n:.2f}, "
              f"{total['s'] / n:.2f} s per image first, {total['warm'] / n:.2f} s warm "
              f"(+ {total['load'] / n:.2f} s loading), peak {total['mb']:.0f} MB, "
              f"{int(total['empty'])} image(s) read as empty")


if __name__ == "__main__":
    main()
