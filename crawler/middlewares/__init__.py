"""Downloader middlewares, one per file, each built from settings and switched off by NotConfigured."""
