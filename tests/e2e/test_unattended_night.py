"""An unattended night against the demo web: the scheduler, left running, scans on its schedule; the scan's
alert reaches a webhook, the digest that fires next reaches a real mailbox, and the statistics of the day
match the database."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import db
from storage.models import Capture, Finding, ScheduleRun
from tests.alerts.conftest import smtp_server, webhook  # noqa: F401 - fixtures
from tests.conftest import ROOT, cli_env, run_cli
from tests.databases import database_url

SITES = ["http://tangan-cure.test/", "http://nanbao-zhuangyang.test/", "http://kangjian-pharmacy.test/"]


def _config(tmp_path: Path, smtp_port: int, webhook_url: str, scan_at: datetime, digest_at: datetime) -> Path:
    """Settings whose nightly scan and digest fire at the given times (cron with seconds, in UTC)."""
    path = tmp_path / "pharmwatch.toml"
    path.write_text(
        f"watchlist = {json.dumps(SITES)}\n"
        '[report]\ntimezone = "UTC"\n'
        f'[schedule]\nnightly = "{scan_at:%S %M %H} * * *"\ndigest = "{digest_at:%S %M %H} * * *"\nrecheck = ""\n'
        'heartbeat_seconds = 1\n'
        '[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_pages_per_site = 3\n'
        '[search]\nengines = []\nquery_sets = []\n'
        '[alerts]\nbase_url = "http://pharmwatch.local"\nalert_on = ["critical", "controlled_or_additive", '
        '"scan_failed", "nothing_captured"]\n'
        f'[[alerts.channels]]\nname = "duty-mail"\ntype = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        'security = "none"\nsender = "pharmwatch@example.gov.cn"\nto = ["duty@example.gov.cn"]\nkinds = ["digest"]\n'
        f'[[alerts.channels]]\nname = "duty-robot"\ntype = "json"\nurl = "{webhook_url}/robot"\nkinds = ["alert"]\n',
        encoding="utf-8")
    return path


def _finished(engine, job: str) -> bool:  # type: ignore[no-untyped-def]
    with db.session_factory(engine)() as session:
        return session.scalar(select(ScheduleRun).where(ScheduleRun.job_name == job,
                                                        ScheduleRun.outcome != "running")) is not None


@pytest.mark.browser
@pytest.mark.e2e
@pytest.mark.slow
def test_the_nights_scan_alerts_the_webhook_mails_the_digest_and_counts_right(  # noqa: F811
        demo_web: str, tmp_path: Path, smtp_server, webhook) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    home = tmp_path / "home"
    assert run_cli("db", "upgrade", home=home, config=None).returncode == 0
    # Both fire seconds after the scheduler has started (a fire time before its start would not be due);
    # the digest waits for the scan to finish (runs never overlap).
    now = datetime.now(UTC)
    config = _config(tmp_path, smtp_server.port, webhook.url, now + timedelta(seconds=15), now + timedelta(seconds=16))
    scheduler = subprocess.Popen([sys.executable, "-m", "pharmwatch", "--config", str(config), "schedule", "run"],
                                 env=cli_env(home, demo_web), cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
    engine = db.make_engine(database_url(home))
    try:
        deadline = time.monotonic() + 300
        while not _finished(engine, "digest"):
            assert scheduler.poll() is None and time.monotonic() < deadline, "the digest did not run"
            time.sleep(1)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        log = scheduler.communicate(timeout=120)[1]
    assert "run 1 (nightly) started" in log and "run 2 (digest) started" in log, log

    alerts = [request.body for request in webhook.accepted("/robot")]
    assert [a["kind"] for a in alerts] == ["alert"] and "非法添加" in alerts[0]["subject"]
    assert "nanbao-zhuangyang.test" in alerts[0]["text"]

    [mail] = smtp_server.mailbox.messages
    text = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].startswith("PharmWatch 每日简报") and "新发现 2 个违规网站" in mail["Subject"]
    assert "tangan-cure.test (新)" in text and "nanbao-zhuangyang.test (新)" in text
    assert "kangjian-pharmacy.test" not in text  # the licensed pharmacy is not flagged
    assert "http://pharmwatch.local/cases/" in text

    with db.session_factory(engine)() as session:
        outcomes = [(r.job_name, r.outcome) for r in session.scalars(select(ScheduleRun).order_by(ScheduleRun.id))]
        pages = session.scalar(select(func.count(func.distinct(Capture.url))).where(Capture.error.is_(None)))
        flagged = session.scalar(select(func.count(func.distinct(Finding.site_id)))
                                 .where(Finding.severity.in_(["medium", "high", "critical"])))
    assert outcomes == [("nightly", "finished"), ("digest", "finished")]

    today = datetime.now(UTC).date().isoformat()
    stats = run_cli("report", "stats", "--from", today, "--to", today, "--format", "json", home=home, config=config)
    assert stats.returncode == 0, stats.stderr
    total = next(row for row in json.loads(stats.stdout)["tables"]["checks"]["rows"] if row["period"] == "total")
    assert total["values"]["flagged_sites"] == flagged == 2
    assert total["values"]["sites_checked"] == 3 and total["values"]["pages_checked"] >= pages > 0
