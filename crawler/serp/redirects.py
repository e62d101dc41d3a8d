"""Click-tracking links: read the target URL that an engine's tracking link carries, offline.

Each engine lists its tracking links as data (``redirect_params`` in its YAML): a path, the query
parameter holding the target, optional hosts, and how the value is encoded (``decode``). A resolved
target can itself be a tracking link (cn.bing.com's ``/ck/a`` wrapping 360's ``e.so.com`` ad click),
so resolution follows up to ``MAX_HOPS`` links.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

MAX_HOPS = 3


def host_matches(host: str, patterns: Sequence[str]) -> bool:
    """``host`` equals a pattern, or is under a ``*.example.com`` pattern (or is ``example.com``)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            if host == pattern[2:] or host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def as_url(value: str | None) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host (percent-encoded ones are unquoted)."""
    if not value:
        return None
    text = value.strip()
    if text[:8].lower() in ("http%3a%", "https%3a"):
        text = unquote(text)
    if not text.lower().startswith(("http://", "https://")):
        return None
    try:
        if not urlsplit(text).hostname:
            return None
    except ValueError:
        return None
    return text


def _plain(value: str) -> str | None:
    return value


def _base64url(value: str) -> str | None:
    # Bing's u=a1<base64url>, 360's aurl=<base64>: accept either alphabet, missing padding, and a '+'
    # that parse_qs turned into a space.
    data = value.strip().replace(" ", "+").replace("+", "-").replace("/", "_").rstrip("=")
    data += "=" * (-len(data) % 4)
    try:
        return base64.urlsafe_b64decode(data).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None


DECODERS: dict[str, Callable[[str], str | None]] = {"plain": _plain, "base64url": _base64url}


@dataclass(frozen=True)
class RedirectRule:
    """A tracking link ``<hosts><path>?<param>=<target>``; ``decode`` names a DECODERS entry."""

    path: str
    param: str
    hosts: tuple[str, ...] = ()
    decode: str = "plain"
    strip_prefix: str | None = None

    def applies_to(self, link: str) -> bool:
        """``link`` is this kind of tracking link (whether or not it carries a readable target)."""
        try:
            parts = urlsplit(link)
            host = parts.hostname or ""
        except ValueError:
            return False
        return parts.path == self.path and (not self.hosts or host_matches(host, self.hosts))

    def target(self, link: str) -> str | None:
        """The URL this rule reads from ``link``, or None when the rule does not apply."""
        if not self.applies_to(link):
            return None
        parts = urlsplit(link)
        for value in parse_qs(parts.query).get(self.param, []):
            # A real URL is taken as it is whatever the encoding; otherwise decode it.
            found = as_url(value)
            if found is None:
                if self.strip_prefix and value.startswith(self.strip_prefix):
                    value = value[len(self.strip_prefix) :]
                found = as_url(DECODERS[self.decode](value))
            if found:
                return found
        return None


def resolve_redirect(link: str, rules: Sequence[RedirectRule]) -> str | None:
    """The final target URL behind ``link`` (following nested tracking links), or None."""
    resolved = None
    current = link
    for _ in range(MAX_HOPS):
        step = next((t for rule in rules if (t := rule.target(current))), None)
        if step is None or step == current:
            break
        resolved = current = step
    return resolved
