"""Spiders: `search` (engines × queries → ranked results and ads) and `site` (bounded site crawls)."""
