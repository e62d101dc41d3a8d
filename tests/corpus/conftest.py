"""Fixtures for the corpus evaluation: the bundled rule set and the labelled items, loaded once."""

from __future__ import annotations

import pytest

from rules import RuleSet, load_ruleset
from tests.corpus.corpus import Item, load_items


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    return load_ruleset()


@pytest.fixture(scope="session")
def items() -> list[Item]:
    return load_items()
