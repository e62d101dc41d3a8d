"""Start-up of a crawl: importing the crawl entry point and loading the rule packs, as each crawl child does.

Each figure is measured in a fresh Python process (nothing imported or cached in memory), wall-clock and CPU
time (the CPU time is the one to compare on a busy machine), in rounds that alternate between this checkout
and, with `--compare-with CHECKOUT`, another version of the code (e.g. a worktree at main):
- `import crawler.run` (what a spawned crawl child imports before anything else);
- `load_ruleset()` of the bundled packs: without a cache, with an empty cache folder (cold: compiles and
  writes) and with the folder that cold load filled (warm: what every crawl child after the scan's own load
  gets; rules/database_cache.py). A checkout without the cache only has the first.
Best and median of the rounds are printed side by side. Figures are never asserted.
Run: `.venv/bin/python bench/startup.py [--rounds 5] [--compare-with ../main-worktree]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT = r'''
import json, time
w, c = time.perf_counter(), time.process_time()
import crawler.run
print(json.dumps([time.perf_counter() - w, time.process_time() - c]))
'''

LOAD = r'''
import inspect, json, sys, time
from pathlib import Path
from rules import load_ruleset
cache = sys.argv[1] or None
if cache and "cache_dir" not in inspect.signature(load_ruleset).parameters:
    print("null"); raise SystemExit
w, c = time.perf_counter(), time.process_time()
load_ruleset(cache_dir=Path(cache)) if cache else load_ruleset()
print(json.dumps([time.perf_counter() - w, time.process_time() - c]))
'''


def measure(checkout: Path, code: str, *args: str) -> tuple[float, float] | None:
    """(wall s, CPU s) printed by `code` run in a fresh interpreter in `checkout`."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=checkout, env=env, capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    value = json.loads(out)
    return None if value is None else (value[0], value[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT")
    args = parser.parse_args()
    checkouts = {"this checkout": ROOT}
    if args.compare_with:
        checkouts[args.compare_with.resolve().name] = args.compare_with.resolve()
    print(f"{os.cpu_count()} CPUs, load {' '.join(f'{v:.1f}' for v in os.getloadavg())}; {args.rounds} rounds",
          flush=True)
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="pharmwatch-bench-startup-") as tmp:
        for round_ in range(args.rounds):
            for name, checkout in checkouts.items():
                cache = Path(tmp) / f"{name}-{round_}"
                runs = [("import crawler.run", IMPORT, ()), ("load packs, no cache", LOAD, ("",)),
                        ("load packs, cold cache", LOAD, (str(cache),)),
                        ("load packs, warm cache", LOAD, (str(cache),))]
                for what, code, extra in runs:
                    result = measure(checkout, code, *extra)
                    if result is not None:
                        figures.setdefault((what, name), []).append(result)
    print(f"\n{'what':<26}{'checkout':<18}{'best wall':>10}{'median':>9}{'best CPU':>10}{'median':>9}")
    for (what, name), values in sorted(figures.items()):
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        print(f"{what:<26}{name:<18}{min(walls):>9.2f}s{statistics.median(walls):>8.2f}s"
              f"{min(cpus):>9.2f}s{statistics.median(cpus):>8.2f}s")
    print(f"load after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
