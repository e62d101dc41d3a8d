"""How a failed download is recorded: a short, stable reason both spiders store."""

from __future__ import annotations

from twisted.python.failure import Failure


def describe_failure(failure: Failure) -> str:
    """A short, stable reason for a failed download, e.g. 'HTTP 503' or 'TimeoutError: ...'."""
    response = getattr(failure.value, "response", None)
    if response is not None and getattr(response, "status", None):
        return f"HTTP {response.status}"
    message = str(failure.value).strip().splitlines()[0] if str(failure.value).strip() else ""
    return f"{failure.type.__name__}: {message}"[:300] if message else failure.type.__name__
