"""The digest and a scan's alerts go through the outbox: the digest reaches a real SMTP server once per day
(both parts, Chinese subject), a scan's alerts reach a webhook, and nothing is lost while a channel is down."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pharmwatch.alerts_cli import send_scan_alerts
from pharmwatch.cli import cli
from pharmwatch.config import load_settings
from storage import db
from storage.models import AlertDelivery, AlertMessage
from tests.alerts.world import flag, scan
from tests.databases import database_url


def _config(tmp_path: Path, smtp_port: int, webhook_url: str) -> Path:
    path = tmp_path / "pharmwatch.toml"
    path.write_text(
        '[report]\ntimezone = "Asia/Shanghai"\n[alerts]\nbase_url = "http://pw.local"\n'
        f'[[alerts.channels]]\nname = "mail"\ntype = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        'security = "none"\nsender = "pharmwatch@x.cn"\nto = ["duty@x.cn"]\nkinds = ["digest"]\n'
        f'[[alerts.channels]]\nname = "hook"\ntype = "json"\nurl = "{webhook_url}/json"\nkinds = ["alert"]\n',
        encoding="utf-8")
    return path


def test_the_digest_reaches_the_mailbox_once_a_day_with_both_parts(tmp_path, smtp_server, webhook) -> None:  # type: ignore[no-untyped-def]
    config = _config(tmp_path, smtp_server.port, webhook.url)
    home = tmp_path / "home"
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}
    invoke = lambda *args: CliRunner().invoke(cli, ["--config", str(config), *args], env=env, obj={})  # noqa: E731
    assert invoke("db", "upgrade").exit_code == 0
    with db.transaction(db.session_factory(db.make_engine(database_url(home)))) as session:
        run = scan(session, hours_ago=0.5)  # NOW of the world: 2026-12-08 07:30 Shanghai
        flag(session, run, "tangan-cure.test", severity="critical")

    end = "2026-12-08T07:30:00+08:00"
    printed = invoke("alerts", "digest", "--end", end)
    assert printed.exit_code == 0 and "[严重] tangan-cure.test (新)" in printed.stdout
    sent = invoke("alerts", "digest", "--send", "--end", end)
    assert sent.exit_code == 0, sent.output
    again = invoke("alerts", "digest", "--send", "--end", end)  # a catch-up run the same day
    assert again.exit_code == 0 and "0 sent" in again.stdout

    [mail] = smtp_server.mailbox.messages
    assert mail["Subject"] == "PharmWatch 每日简报 2026-12-08: 新发现 1 个违规网站（共标记 1 个）"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "tangan-cure.test (新)" in text and "糖尿病" in text and "<table" in html
    assert webhook.requests == []  # the webhook takes alerts only


def test_a_scans_alerts_wait_in_the_outbox_while_the_webhook_is_down(tmp_path, smtp_server, webhook, sessions) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(_config(tmp_path, smtp_server.port, webhook.url), environ={})
    with db.transaction(sessions) as session:
        run = scan(session, hours_ago=1)
        flag(session, run, "tangan-cure.test", severity="critical")
        run_id = run.id
    webhook.script("/json", (500, "down"))
    said: list[str] = []
    send_scan_alerts(settings, sessions.kw["bind"], run_id, {}, say=said.append)
    send_scan_alerts(settings, sessions.kw["bind"], run_id, {}, say=said.append)  # the scan re-run: same key
    assert said[0] == "1 alert(s): PharmWatch 警报: 发现严重风险网站：1 个网站"
    assert "0 sent, 1 to retry" in said[1]
    with sessions() as session:
        assert session.query(AlertMessage).count() == 1
        [delivery] = session.query(AlertDelivery).all()
        assert (delivery.channel, delivery.state, delivery.attempts) == ("hook", "pending", 1)
