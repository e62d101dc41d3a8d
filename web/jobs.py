"""Background work started from the UI (checking a tip now, re-checking a case): a `pharmwatch` command
in a child process, never in the request; pages poll the job's state.

Owns the jobs of this web process: at most one per subject at a time (a tip's URL, a case), so a second
click (or a second tip of the same URL) joins the running job instead of starting a second crawl; a
bounded number at once; each child's output in a log file, whose last lines are the reason when it
fails. The command is the CLI a user would run (`WebConfig.cli`), so the work, its audit events and
its result rows are exactly the CLI's; what a job found is read from the database, not from here.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

MAX_RUNNING = 3  # crawls at once from the UI: each is a Chromium; the machine also runs scans
FAILURE_TAIL_CHARS = 600


class JobRefused(Exception):
    """No job can be started now (too many running, or no command to run); the message says why."""


@dataclass
class Job:
    id: int
    kind: str  # "tip_check" | "case_recheck"
    key: str  # what it works on; one running job per key
    subject_id: int  # the tip or case it was started for
    started_by: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    returncode: int | None = None

    def poll(self) -> None:
        if self.returncode is None and (code := self.process.poll()) is not None:
            self.returncode, self.finished_at = code, datetime.now(UTC)

    @property
    def state(self) -> Literal["running", "finished", "failed"]:
        self.poll()
        if self.returncode is None:
            return "running"
        return "finished" if self.returncode == 0 else "failed"

    def failure(self) -> str:
        """The end of the child's output (its error message), when it failed."""
        if self.state != "failed":
            return ""
        try:
            text = self.log_path.read_bytes()[-4 * FAILURE_TAIL_CHARS:].decode("utf-8", "replace")
        except OSError:
            text = ""
        return text.strip()[-FAILURE_TAIL_CHARS:] or f"exit status {self.returncode}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "subject_id": self.subject_id, "state": self.state,
                "started_by": self.started_by, "started_at": self.started_at.isoformat(timespec="seconds"),
                "finished_at": self.finished_at.isoformat(timespec="seconds") if self.finished_at else None,
                "exit_status": self.returncode, "error": self.failure() or None}


class Jobs:
    """The background jobs of one web process (app.state.jobs)."""

    def __init__(self, command: Sequence[str], log_dir: Path, *, max_running: int = MAX_RUNNING) -> None:
        self.command = list(command)  # `pharmwatch [--config FILE]`
        self.log_dir = log_dir
        self.max_running = max_running
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._latest: dict[str, int] = {}  # key → its newest job

    def start(self, kind: str, key: str, subject_id: int, args: Sequence[str], *,
              started_by: str) -> tuple[Job, bool]:
        """Start `pharmwatch ARGS` for `key`, or return the job already running for it; (job, started)."""
        if not self.command:
            raise JobRefused("background work is not available: this server was started without the "
                             "pharmwatch command (use `pharmwatch serve`)")
        with self._lock:
            running = self.running_for(key)
            if running is not None:
                return running, False
            if sum(job.state == "running" for job in self._jobs.values()) >= self.max_running:
                raise JobRefused(f"{self.max_running} checks are running already: try again when one has finished")
            job_id = max(self._jobs, default=0) + 1
            # Kept: running jobs and each subject's last one (its state is shown until the next starts).
            latest = set(self._latest.values())
            for old in [job for job in self._jobs.values() if job.id not in latest and job.state != "running"]:
                del self._jobs[old.id]
                old.log_path.unlink(missing_ok=True)
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"job-{job_id}-{kind}.log"
            with log_path.open("wb") as log:
                # Its own session: a Ctrl-C meant for the server does not cut a crawl short; the
                # child records its result in the database whatever becomes of this process.
                process = subprocess.Popen([*self.command, *args], stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            job = Job(job_id, kind, key, subject_id, started_by, process, log_path)
            self._jobs[job_id] = job
            self._latest[key] = job_id
            return job, True

    def running_for(self, key: str) -> Job | None:
        job = self.latest(key)
        return job if job is not None and job.state == "running" else None

    def latest(self, key: str) -> Job | None:
        job_id = self._latest.get(key)
        return self._jobs.get(job_id) if job_id is not None else None

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every running job (tests; a server's shutdown leaves them to finish on their own)."""
        for job in list(self._jobs.values()):
            job.process.wait(timeout)
            job.poll()
