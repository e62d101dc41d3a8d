"""The monitors' web UI and its JSON twin (FastAPI + Jinja2, server-rendered; htmx vendored in static/).

`web.app.create_app(config, engine)` builds the application; `web.auth` owns accounts, sessions and API
tokens; `web.deps` the per-request checks; `web.routes` one router per resource. See docs/architecture.md.
"""
