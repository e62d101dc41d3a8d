"""Scrapy extensions (terminal progress)."""
