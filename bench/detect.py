"""What the second opinion costs: analysis time per corpus passage, the rules alone vs. the rules with
the learned model, measured side by side in one run (issue #14 asks for no more than twice).

Every item of `tests/corpus/items` is analysed by the shipped packs without the model and with it, in
alternating rounds (so a busy machine slows both alike); the best round of each is reported, with the
ratio; then the same for one long page (the corpus texts joined, 100,000 characters), where the model's
share is smaller. Building the documents is outside the timing. The quality figures are `pharmwatch rules eval`'s.

Run: `.venv/bin/python bench/detect.py [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rules import RuleSet, TextDocument, load_ruleset  # noqa: E402
from rules.corpus import load_items  # noqa: E402

LONG_PAGE_CHARS = 100_000


def one_round(ruleset: RuleSet, work: list) -> float:  # type: ignore[type-arg]
    start = time.perf_counter()
    for doc, signals in work:
        ruleset.analyse(doc, signals)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shipped = load_ruleset()
    rules_only = RuleSet(shipped.rules, shipped.digest)
    items = load_items()
    work = [(item.document(), item.signals or None) for item in items]
    chars = sum(len(doc.text) for doc, _ in work)
    rules_only.analyse(*work[0])  # warm both up (lazy compilation, caches)
    shipped.analyse(*work[0])
    times = {"rules": float("inf"), "rules+model": float("inf")}
    for _ in range(args.rounds):
        times["rules"] = min(times["rules"], one_round(rules_only, work))
        times["rules+model"] = min(times["rules+model"], one_round(shipped, work))
    print(f"{len(work)} passages, {chars / len(work):.0f} characters on average, best of {args.rounds} rounds")
    for name, seconds in times.items():
        print(f"  {name:<12} {seconds * 1000 / len(work):7.3f} ms/passage  {chars / seconds / 1e6:6.3f} MB/s (chars)")
    print(f"  ratio rules+model / rules: {times['rules+model'] / times['rules']:.2f}x")
    page = [(TextDocument("\n".join(item.text for item in items)[:LONG_PAGE_CHARS]), None)]
    alone, both = float("inf"), float("inf")
    for _ in range(args.rounds):
        alone = min(alone, one_round(rules_only, page))
        both = min(both, one_round(shipped, page))
    print(f"one page of {LONG_PAGE_CHARS:,} characters: rules {alone:.3f} s, rules+model {both:.3f} s, "
          f"ratio {both / alone:.2f}x")


if __name__ == "__main__":
    main()
