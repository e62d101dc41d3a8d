"""The corpus helpers the tests use; they live in `rules.corpus` (the CLI's `rules train`/`rules eval` use them too)."""

from rules.corpus import ITEMS, Item, Score, load_items, reported_categories, score

__all__ = ["ITEMS", "Item", "Score", "load_items", "reported_categories", "score"]
