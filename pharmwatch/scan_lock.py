"""One scan at a time per data folder: a lock file holding the scanning process's PID.

A lock whose process is gone (killed, crashed, machine rebooted) is stale: the next scan takes it
over and resumes the interrupted scan run instead of starting a new one.
"""

from __future__ import annotations

import os
from pathlib import Path


class ScanAlreadyRunning(Exception):
    """Another live process holds the scan lock of this data folder."""


class ScanLock:
    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "scan.lock"

    def holder(self) -> int | None:
        """PID of the live process holding the lock, or None."""
        try:
            pid = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid  # alive, owned by someone else
        return pid

    def __enter__(self) -> ScanLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pid = self.holder()
        if pid is not None and pid != os.getpid():
            raise ScanAlreadyRunning(f"another scan (pid {pid}) is running on {self.path.parent}")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(str(os.getpid()))
        os.replace(tmp, self.path)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.holder() == os.getpid():
            self.path.unlink(missing_ok=True)
