"""Renders advertiser histories (cases.advertisers.AdvertiserHistory) as a table, CSV or JSON.

One JSON shape (`pharmwatch report ads --format json`): an array of `AdvertiserHistory.to_json()`.
CSV has one row per advertiser, lists joined by `;` and queries as `query (times)`.
"""

from __future__ import annotations

import json
from typing import TextIO

from cases.advertisers import AdvertiserHistory
from outputs import SafeCsvWriter, terminal_line

FORMATS = ("table", "csv", "json")
CSV_COLUMNS = ["advertiser", "first_seen", "last_seen", "times_seen", "engines", "queries", "landing_sites",
               "rules_hit", "texts"]
TABLE_TEXTS = 3  # ad texts shown per advertiser in the table


def render_advertisers(histories: list[AdvertiserHistory], fmt: str, out: TextIO, *,
                       asked: dict[str, str | None] | None = None) -> None:
    """`asked`: the filters the histories were selected by, named when the table is empty."""
    if fmt == "json":
        out.write(json.dumps([h.to_json() for h in histories], ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        writer = SafeCsvWriter(out)
        writer.writerow(CSV_COLUMNS)
        for h in histories:
            writer.writerow([h.advertiser, h.first_seen, h.last_seen, h.times_seen, ";".join(h.engines),
                             ";".join(f"{q} ({n})" for q, n in h.queries.items()), ";".join(h.landing_sites),
                             ";".join(h.rules_hit), len(h.texts)])
    elif fmt == "table":
        if not histories:
            wanted = " and ".join(f"{what} {value!r}" for what, value in (asked or {}).items() if value)
            out.write(terminal_line(f"no ads recorded{' for ' + wanted if wanted else ''}") + "\n")
        for h in histories:
            out.write(terminal_line(f"{h.advertiser}: seen {h.times_seen}x on {', '.join(h.engines)} "
                      f"from {h.first_seen} to {h.last_seen}; lands on {', '.join(h.landing_sites) or '?'}") + "\n")
            out.write(terminal_line(f"  queries: {', '.join(f'{q} ({n})' for q, n in h.queries.items())}") + "\n")
            if h.rules_hit:
                out.write(f"  ad copy hits: {', '.join(h.rules_hit)}\n")
            for text in h.texts[:TABLE_TEXTS]:
                out.write(terminal_line(f"  [{text.times}x] {text.title} — {text.snippet}") + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
