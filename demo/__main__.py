"""``python -m demo``: serve the demo web (same options as ``python -m demo.server``)."""

from demo.server import main

if __name__ == "__main__":
    raise SystemExit(main())
