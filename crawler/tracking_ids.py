"""Analytics and ad-tracking account ids in a page's HTML: what ties sites run by one operator together.

Owns `tracking_ids()`. An operator who opens forty shop domains usually pastes the same statistics snippet
into each, so its account id (Baidu Tongji's site key, CNZZ/Umeng's web id, 51.la's id, Google
Analytics' and Tag Manager's ids) is shared across them. These ids live in script URLs and inline
scripts, not in the visible text the rules read, so they are read from the HTML itself. Which ids are too
common to link anything (a platform's own id) is decided by the network builder (`cases.networks`).
"""

from __future__ import annotations

import re
from typing import Final

#: kind → pattern whose first group is the account id.
PATTERNS: Final[dict[str, re.Pattern[str]]] = {
    "baidu_tongji": re.compile(r"hm\.baidu\.com/h(?:m|\.js)\.js\?([0-9a-f]{32})", re.I),
    "cnzz": re.compile(r"(?:cnzz\.com|umeng\.com)/(?:z_stat\.php|stat\.php|core\.php|z\.js)\?[^\"'\s>]*?"
                       r"(?:web_)?id=(\d{4,12})", re.I),
    "la51": re.compile(r"(?:js\.users\.51\.la/(\d{5,12})\.js|LA\.init\(\{\s*id\s*:\s*[\"']([0-9A-Za-z]{8,32})[\"'])"),
    "google_analytics": re.compile(r"\b(UA-\d{4,10}-\d{1,4})\b"),
    "google_tag": re.compile(r"[\"'=/?&](G-[A-Z0-9]{6,12}|GTM-[A-Z0-9]{4,9}|AW-\d{6,12})\b"),
}


def tracking_ids(html: str) -> list[str]:
    """`kind:id` of every analytics or ad-tracking account the page loads, sorted, without repeats."""
    found: set[str] = set()
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(html):
            value = next(group for group in match.groups() if group)
            found.add(f"{kind}:{value.lower() if kind == 'baidu_tongji' else value}")
    return sorted(found)
