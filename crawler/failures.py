"""How a failed download is recorded: a short, stable reason both spiders store."""

from __future__ import annotations

from twisted.python.failure import Failure


def describe_failure(failure: Failure) -> str:
    """A short, stable reason for a failed download, e.g. 'HTTP 503' or 'TimeoutError: ...'."""
    response = getattr(failure.value, "response", None)
    if response is not None and getattr(response, "status", None):
        retry_after = response.headers.get("Retry-After")
        if retry_after is None:
            return f"HTTP {response.status}"
        request = getattr(response, "request", None)
        times = request.meta.get("retry_after_times", 0) if request is not None else 0
        waited = f"asked again {times} time(s) after waiting" if times else "not waited for"
        return f"HTTP {response.status} (Retry-After: {retry_after.decode('latin-1')[:40]}; {waited})"
    message = str(failure.value).strip().splitlines()[0] if str(failure.value).strip() else ""
    return f"{failure.type.__name__}: {message}"[:300] if message else failure.type.__name__
