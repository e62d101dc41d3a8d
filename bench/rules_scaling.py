"""Rule-engine throughput and scaling, measured side by side in one run (never asserted in tests).

Corpus: the visible text of every demo-web page, repeated to about 1 MB.
- ours: `RuleSet.analyse` (normalise + one Aho-Corasick pass + rule logic) with the bundled packs;
- baseline: a bare loop of `term in text` over every term of the packs (no normalisation, no logic);
- scaling: ours again with the packs copied K times under new ids (K x the rules, same text).
Prints MB/s and ratios. Run: `.venv/bin/python bench/rules_scaling.py [--copies 5]`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import decode_html, extract_document  # noqa: E402
from rules import TextDocument, load_ruleset  # noqa: E402

PACKS = ROOT / "rules" / "packs"


def corpus(target_bytes: int = 1_000_000) -> list[str]:
    files = sorted((ROOT / "demo" / "sites").rglob("*.html"))
    pages = [extract_document(decode_html(p.read_bytes())).text for p in files]
    out, size = [], 0
    while size < target_bytes:
        for text in pages:
            out.append(text)
            size += len(text.encode("utf-8"))
    return out


def pack_terms() -> list[str]:
    terms: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "terms" and isinstance(value, list):
                    terms.update(str(v).lower() for v in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in PACKS.rglob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return sorted(terms)


def copied_packs(copies: int, into: Path) -> Path:
    for k in range(copies):
        for path in PACKS.rglob("*.yaml"):
            target = into / f"copy{k}" / path.relative_to(PACKS)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = path.read_text(encoding="utf-8")
            # New ids keep the id pattern: pw-<...>-NNN becomes pw-<...>-kK-NNN.
            target.write_text(re.sub(r"^id: (pw-[a-z0-9-]+)-(\d{3})$", rf"id: \1-k{k}-\2", text, flags=re.M),
                              encoding="utf-8")
    return into


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    texts = corpus()
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    documents = [TextDocument(text=t) for t in texts]
    ruleset = load_ruleset()
    terms = pack_terms()
    ruleset.analyse(documents[0])  # warm caches (OpenCC, automaton)

    ours = timed(lambda: [ruleset.analyse(d) for d in documents])
    baseline = timed(lambda: [[term in t.lower() for term in terms] for t in texts])
    with tempfile.TemporaryDirectory() as tmp:
        many = load_ruleset([copied_packs(args.copies, Path(tmp))])
        many.analyse(documents[0])
        ours_many = timed(lambda: [many.analyse(d) for d in documents])
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"corpus: {len(texts)} pages, {megabytes:.2f} MB; {len(ruleset.rules)} rules, {len(terms)} distinct terms")
    print(f"{'run':<42}{'seconds':>9}{'MB/s':>9}{'ratio':>9}")
    print(f"{'baseline: bare `term in text` loop':<42}{baseline:>9.2f}{megabytes / baseline:>9.2f}{1:>9.2f}")
    print(f"{'ours: analyse(), bundled packs':<42}{ours:>9.2f}{megabytes / ours:>9.2f}{ours / baseline:>9.2f}")
    label = f"ours: analyse(), {len(many.rules)} rules ({args.copies}x)"
    print(f"{label:<42}{ours_many:>9.2f}{megabytes / ours_many:>9.2f}{ours_many / baseline:>9.2f}")
    print(f"scaling: {args.copies}x the rules costs {ours_many / ours:.2f}x the time")


if __name__ == "__main__":
    main()
