"""Docs stay true: every setting a user can set, and every crawler setting of ours, is documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from crawler import settings as crawl_defaults
from pharmwatch.config import _SECTIONS, _TOP_KEYS, CRAWL_KEYS, SEARCH_KEYS, CrawlSettings, QuerySet, SearchSettings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_DOC = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
OUR_PREFIXES = ("CAPTURE_", "GUARD_", "EGRESS_", "SERP_", "STORE_", "ANALYSE_", "RULES_", "OCR_")


@pytest.mark.parametrize("key", sorted(_TOP_KEYS))
def test_every_top_level_key_is_documented(key: str) -> None:
    assert f"| `{key}` |" in SETTINGS_DOC


@pytest.mark.parametrize("section, key", [
    (section, f.name) for section, kind in sorted(_SECTIONS.items()) for f in fields(kind)
])
def test_every_section_key_is_documented(section: str, key: str) -> None:
    assert f"| `{key}` |" in SETTINGS_DOC or f"| `[{section}] {key}` |" in SETTINGS_DOC, f"[{section}] {key}"


@pytest.mark.parametrize("key", [f.name for f in fields(QuerySet)])
def test_every_query_set_key_is_documented(key: str) -> None:
    assert f"`{key}`" in SETTINGS_DOC.split("Each query set:")[1].split("##")[0]


@pytest.mark.parametrize("name", sorted(n for n in vars(crawl_defaults) if n.startswith(OUR_PREFIXES)))
def test_every_crawler_setting_of_ours_is_documented(name: str) -> None:
    assert re.search(rf"`{name}`", SETTINGS_DOC), name


def test_mapped_keys_take_their_defaults_from_the_crawler_settings() -> None:
    for kind, mapping in ((CrawlSettings, CRAWL_KEYS), (SearchSettings, SEARCH_KEYS)):
        instance = kind()
        for key, name in mapping.items():
            assert getattr(instance, key) == getattr(crawl_defaults, name), (key, name)
            assert f"| `{key}` | `{name}` |" in SETTINGS_DOC
    assert set(CRAWL_KEYS) == {f.name for f in fields(CrawlSettings)}  # every [crawl] key reaches the crawler


def test_every_alert_channel_key_is_documented() -> None:
    from pharmwatch.config import AlertChannel

    table = SETTINGS_DOC.split("Each channel (`[[alerts.channels]]`):")[1].split("```")[0]
    for key in (f.name for f in fields(AlertChannel)):
        assert f"| `{key}` |" in table, key
