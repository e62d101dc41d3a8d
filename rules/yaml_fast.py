"""YAML read with libyaml's parser when PyYAML has it, with the pure-Python parser's error messages.

Owns `FAST_LOADER`, `safe_load` and `compose`: the same documents and nodes as `yaml.safe_load` and
`yaml.compose` (the values are built by the same SafeConstructor), about ten times faster to parse, which
was most of a rule set's load time. A text libyaml refuses is read again by the pure-Python parser, so a
broken file is reported in the words (and at the line) the docs and tests quote.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

#: libyaml's safe loader, or the pure-Python one when PyYAML was built without libyaml.
FAST_LOADER: Final[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`."""
    try:
        return yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)


def compose(text: str) -> yaml.Node | None:
    """`yaml.compose(text)` (safe loader)."""
    try:
        return yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)


__all__ = ["FAST_LOADER", "compose", "safe_load"]
