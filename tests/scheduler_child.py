"""Test processes for the scheduler: a real scheduler process whose jobs run a cheap stand-in for a scan.

`python tests/scheduler_child.py serve CONFIG JOB_LOG [SLEEP]` runs `Scheduler.serve()` on the
settings in CONFIG (and $PHARMWATCH_HOME) with a 0.2 s tick; each run starts
`python tests/scheduler_child.py job JOB_LOG SLEEP ARGS...`, which appends "start <pid> <time>"
and "end <pid> <time>" lines to JOB_LOG around a sleep, so tests can count runs and see overlaps.
The production command (a real `pharmwatch scan`) is what `schedule run` and `run-now` use.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def job_command(job_log: Path, sleep: float):  # type: ignore[no-untyped-def]
    def command(args: list[str]) -> list[str]:
        return [sys.executable, str(HERE), "job", str(job_log), str(sleep), *args]
    return command


def job(job_log: str, sleep: str, args: list[str]) -> None:
    with open(job_log, "a", encoding="utf-8") as log:
        log.write(f"start {os.getpid()} {time.time()} {' '.join(args)}\n")
    announce = os.environ.get("FAKE_SCAN_ANNOUNCE")  # e.g. "starting scan 3": a scan run id to report
    if announce:
        print(announce, file=sys.stderr, flush=True)
    time.sleep(float(sleep))
    with open(job_log, "a", encoding="utf-8") as log:
        log.write(f"end {os.getpid()} {time.time()}\n")


def serve(config: str, job_log: str, sleep: str) -> None:
    sys.path.insert(0, str(HERE.parent.parent))
    from pharmwatch.config import load_settings
    from pharmwatch.scheduler_claim import SchedulerAlreadyRunning
    from pharmwatch.scheduler_service import Scheduler
    from storage import db

    settings = load_settings(Path(config))
    db.upgrade(settings.db_url)
    scheduler = Scheduler(settings, db.make_engine(settings.db_url), command=job_command(Path(job_log), float(sleep)),
                          tick_seconds=0.2)
    try:
        scheduler.serve()
    except SchedulerAlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    if role == "job":
        job(rest[0], rest[1], rest[2:])
    else:
        serve(rest[0], rest[1], rest[2] if len(rest) > 2 else "0.3")
