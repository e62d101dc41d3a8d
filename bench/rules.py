"""Rule-engine throughput (MB/s) and scaling with the number of terms, with two baselines in one run.

Text ("realistic"): the labelled corpus (tests/corpus/items: adverts, shop pages, news, patient
education, forum posts, leaflets, English pages) plus the visible text of every demo-web page,
assembled into pages of about 6 KB (a typical extracted web page) and repeated to --megabytes.

Packs: the shipped packs, and synthetic packs of 1,000 / 5,000 / 20,000 terms. A synthetic pack is
shaped like the shipped disease rules (a claim list `near` a disease list in one sentence, plus a
warning exception); its terms are 2-6 character words drawn from the character frequencies of the
text itself, so some of them occur, as lexicon words do, and most do not.

For every pack, over the same text with the same terms:
- engine: `RuleSet.analyse()` (normalise, one scan, page signals, rule logic, findings);
- re loop: for every rule, `re.search` of each of its selections (one alternation per selection),
  i.e. "does this rule's evidence occur", with no normalisation and no logic;
- raw matcher: the bare automaton over the same keys, consuming every match, with no normalisation
  and no logic: Hyperscan (when installed) and pyahocorasick, each in its own column.
Printed per pack as well: raw term hits per MB, and how many matches the engine's automaton hands to Python
(its keys are the terms plus signal words, evasive spellings and regex literals; the scan's cost follows
these matches; a literal only a regex needs is reported once per page, not per occurrence).
Ratios printed: engine vs re loop (higher is better) and raw vs engine (how many times slower the
engine is than the bare matcher). Issue targets: at 5,000 terms engine >= 50x re loop and within 3x
of raw; engine throughput at 20,000 terms within 1.5x of that at 1,000.

Run: `.venv/bin/python bench/rules.py [--megabytes 2] [--backend hyperscan|ahocorasick] [--profile]`.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from rules import RuleSet, TextDocument, load_ruleset  # noqa: E402
from rules.matcher import BACKEND_ENV, AhoCorasickBackend, HyperscanBackend, available_backends  # noqa: E402
from rules.normalise import normalise  # noqa: E402

PACKS = ROOT / "rules" / "packs"
PAGE_CHARS = 2000  # about 6 KB of UTF-8 Chinese text
TERMS_PER_RULE = 10
SIZES = (1_000, 5_000, 20_000)


def corpus_texts() -> list[str]:
    from tests.corpus.corpus import load_items

    texts = [item.text if not item.title else f"{item.title}\n{item.text}" for item in load_items()]
    demo = ROOT / "demo" / "sites"
    if demo.is_dir():
        from crawler.charset import decode_html
        from crawler.extract import extract_document

        texts += [extract_document(decode_html(p.read_bytes())).text for p in sorted(demo.rglob("*.html"))]
    return texts


def pages(target_mb: float) -> list[str]:
    """The corpus texts joined into ~6 KB pages (in a fixed shuffled order), repeated to `target_mb`."""
    texts = corpus_texts()
    random.Random(7).shuffle(texts)
    built: list[str] = []
    current: list[str] = []
    for text in texts:
        current.append(text)
        if sum(map(len, current)) >= PAGE_CHARS:
            built.append("\n\n".join(current))
            current = []
    if current:
        built.append("\n\n".join(current))
    out: list[str] = []
    size = 0
    while size < target_mb * 1e6:
        for page in built:
            out.append(page)
            size += len(page.encode("utf-8"))
    return out


# -- packs -----------------------------------------------------------------------------------------
def selection_terms(rule_files: list[Path]) -> list[list[str]]:
    """Every term list (detection and exceptions) of every rule file, as written."""
    out: list[list[str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "terms" and isinstance(value, list):
                    out.append([str(v) for v in value])
                elif key != "tests":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in rule_files:
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def rule_selections(rule_files: list[Path]) -> list[list[list[str]]]:
    """Per rule file, its term lists (for the re-loop baseline)."""
    return [selection_terms([p]) for p in rule_files]


SYNTHETIC_RULE = """\
title:
  zh: 合成规则 {n}
  en: Synthetic rule {n}
id: pw-zh-synthetic-r{n:05d}-001
version: 1
status: test
description: Synthetic rule for the benchmark.
category: disease_cure_claim
severity: high
diseases: [other]
legal_basis: [广告法 第十六条]
scope: [title, body, ad, ocr]
detection:
  claim:
    terms: {claim}
  disease:
    terms: {disease}
  claim_near:
    near: {{a: claim, b: disease, within: 20, same_sentence: true}}
  condition: claim_near
exceptions:
  warning:
    terms: {warning}
    within: 40
    same_sentence: true
tests:
  match: [x, y]
  no_match: [x, y]
"""


def synthetic_terms(count: int, texts: list[str], seed: int) -> list[str]:
    """`count` distinct 2-6 character words drawn from the CJK character frequencies of `texts`."""
    freq = Counter(ch for t in texts for ch in t if "\u4e00" <= ch <= "\u9fff")
    chars, weights = zip(*freq.items(), strict=True)
    rng = random.Random(seed)
    lengths = [2, 3, 3, 4, 4, 5, 6]
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choices(chars, weights, k=rng.choice(lengths))))
    return sorted(out)


def write_synthetic_pack(count: int, texts: list[str], into: Path) -> Path:
    terms = synthetic_terms(count, texts, seed=count)
    into.mkdir(parents=True, exist_ok=True)
    per = TERMS_PER_RULE
    for n, i in enumerate(range(0, len(terms), per)):
        chunk = terms[i : i + per]
        claim, disease, warning = chunk[:4], chunk[4:8], chunk[8:] or chunk[:1]
        (into / f"synthetic_rule{n:05d}.yaml").write_text(
            SYNTHETIC_RULE.format(n=n, claim=claim, disease=disease or claim, warning=warning), encoding="utf-8"
        )
    return into


# -- baselines -------------------------------------------------------------------------------------
def re_loop(selections: list[list[list[str]]]) -> Callable[[list[str]], int]:
    # Lower-cased terms against text lower-cased once: faster than re.IGNORECASE, so a fairer baseline.
    compiled = [[re.compile("|".join(re.escape(t.rstrip("*").lower()) for t in sel)) for sel in rule if sel]
                for rule in selections]

    def run(texts: list[str]) -> int:
        found = 0
        for text in texts:
            lowered = text.lower()
            for rule in compiled:
                for pattern in rule:
                    if pattern.search(lowered):
                        found += 1
        return found

    return run


def raw_matcher(terms: list[str], backend: str) -> Callable[[list[str]], int]:
    keys = sorted({t.rstrip("*").lower() for t in terms if t.strip()})
    matcher = HyperscanBackend(keys) if backend == "hyperscan" else AhoCorasickBackend(keys)

    def run(texts: list[str]) -> int:
        return sum(len(matcher.occurrences(text.lower())) for text in texts)

    return run


def engine(ruleset: RuleSet) -> Callable[[list[str]], int]:
    def run(texts: list[str]) -> int:
        return sum(len(ruleset.analyse(TextDocument(text)).findings) for text in texts)

    return run


def timed(fn: Callable[[list[str]], int], texts: list[str], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(texts)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=2.0, help="text size per measurement")
    parser.add_argument("--backend", choices=available_backends(), default=available_backends()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best is kept")
    parser.add_argument("--re-megabytes", type=float, default=0.2, help="text for the (slow) re loop")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine on the 5,000-term pack")
    args = parser.parse_args()
    os.environ[BACKEND_ENV] = args.backend

    texts = pages(args.megabytes)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    re_texts = pages(args.re_megabytes)
    re_mb = sum(len(t.encode("utf-8")) for t in re_texts) / 1e6
    print(f"text: {len(texts)} pages, {mb:.2f} MB (re loop: {re_mb:.2f} MB); matcher backend: {args.backend}")

    raw_backends = available_backends()
    rows: list[tuple[str, int, int, float, float, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        packs: list[tuple[str, list[Path] | None, list[Path]]] = [
            ("shipped packs", None, sorted(PACKS.rglob("*.yaml")))
        ]
        for size in SIZES:
            folder = write_synthetic_pack(size, texts, Path(tmp) / f"synthetic{size}")
            packs.append((f"synthetic {size:,} terms", [folder], sorted(folder.glob("*.yaml"))))
        for label, paths, files in packs:
            ruleset = load_ruleset(paths)
            ruleset.analyse(TextDocument(texts[0]))  # warm-up (OpenCC, tables)
            terms = [t for sel in selection_terms(files) for t in sel]
            t_engine, _ = timed(engine(ruleset), texts, args.repeat)
            raw: dict[str, float] = {}
            raw_hits = 0
            for backend in raw_backends:
                t_raw, raw_hits = timed(raw_matcher(terms, backend), texts, args.repeat)
                raw[backend] = mb / t_raw
            t_re, _ = timed(re_loop(rule_selections(files)), re_texts, 1)
            rows.append((label, len(set(terms)), len(ruleset.rules), mb / t_engine, re_mb / t_re, raw))
            reports = sum(ruleset.compiled.matcher.reports(normalise(t).text) for t in texts)
            print(f"  measured {label}: {raw_hits / mb:,.0f} raw term hits per MB; the engine's automaton "
                  f"hands {reports / mb:,.0f} matches per MB to Python (terms, signal words, evasive spellings, "
                  "regex literals; a regex-only literal once per page)", flush=True)
            if args.profile and label.startswith("synthetic 5,000"):
                cProfile.runctx("engine(ruleset)(texts)", globals(), {"engine": engine, "ruleset": ruleset,
                                                                      "texts": texts}, "/tmp/rules_bench.prof")
                pstats.Stats("/tmp/rules_bench.prof").sort_stats("cumulative").print_stats(25)

    print()
    header = f"{'pack':<26}{'terms':>8}{'rules':>7}{'engine MB/s':>13}{'re MB/s':>10}"
    header += "".join(f"{'raw ' + b[:5] + ' MB/s':>18}" for b in raw_backends)
    header += f"{'engine/re':>11}" + "".join(f"{b[:5] + '/engine':>15}" for b in raw_backends)
    print(header)
    for label, terms, rules, e, r, raw in rows:
        line = f"{label:<26}{terms:>8,}{rules:>7,}{e:>13.2f}{r:>10.3f}"
        line += "".join(f"{raw[b]:>18.1f}" for b in raw_backends)
        line += f"{e / r:>10.1f}x" + "".join(f"{raw[b] / e:>14.2f}x" for b in raw_backends)
        print(line)
    by_label = {row[0]: row for row in rows}
    e1k = by_label["synthetic 1,000 terms"][3]
    e5k = by_label["synthetic 5,000 terms"]
    e20k = by_label["synthetic 20,000 terms"][3]
    print()
    print(f"target 1: at 5,000 terms engine/re = {e5k[3] / e5k[4]:.1f}x (want >= 50x)")
    for b in raw_backends:
        print(f"target 2: at 5,000 terms raw {b}/engine = {e5k[5][b] / e5k[3]:.2f}x (want <= 3x)")
    print(f"target 3: throughput 1,000 terms / 20,000 terms = {e1k / e20k:.2f}x (want <= 1.5x)")


if __name__ == "__main__":
    main()
