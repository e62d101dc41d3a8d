"""What every process a crawl starts (the crawl child, the analysis workers) does first: die with its parent."""

from __future__ import annotations

import ctypes
import signal


def die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies, so no orphan crawl writes into a run resumed later."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
