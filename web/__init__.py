"""The review UI and JSON API (FastAPI + Jinja2). Not built yet (see docs/architecture.md)."""
