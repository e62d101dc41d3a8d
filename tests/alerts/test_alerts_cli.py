"""[alerts] settings (literal secrets and unknown types refused, secrets read from the environment) and the
`pharmwatch alerts` commands through click's CliRunner against a loopback receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.channels import SmtpChannel, WebhookChannel
from pharmwatch.alerts_cli import configured_channels
from pharmwatch.cli import cli
from pharmwatch.config import SettingsError, load_settings
from pharmwatch.exit_codes import ExitCode
from tests.alerts.conftest import WebhookReceiver
from tests.databases import database_url

SMTP = '[[alerts.channels]]\nname = "mail"\ntype = "smtp"\nhost = "127.0.0.1"\nsender = "p@x.cn"\nto = ["a@x.cn"]\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pharmwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    (SMTP + 'password = "hunter2"\n', "password_env"),
    ('[[alerts.channels]]\nname = "d"\ntype = "dingtalk"\nurl_env = "U"\nsecret = "SEC"\n', "secret_env"),
    ('[[alerts.channels]]\nname = "d"\ntype = "dingtalk"\nurl = "https://oapi.dingtalk.com/robot/send?access_token=T"\n',
     "url_env"),
    ('[[alerts.channels]]\nname = "f"\ntype = "feishu"\nurl = "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN"\n',
     "url_env"),
    ('[[alerts.channels]]\nname = "p"\ntype = "pager"\nurl = "http://relay.local/p"\n', "unknown type 'pager'"),
    ('[[alerts.channels]]\nname = "j"\ntype = "json"\nurl = "http://relay.local/j"\ncolour = "red"\n',
     "unknown setting"),
    ('[[alerts.channels]]\nname = "j"\ntype = "json"\nurl = "http://relay.local/j"\nkinds = ["weekly"]\n',
     "unknown kinds"),
    (SMTP + SMTP, "its own non-empty name"),
    ('[[alerts.channels]]\nname = "j"\ntype = "json"\n', "either url"),
    ('[alerts]\nmax_attempts = 0\n', "max_attempts"),
    ('[alerts]\nretries = 3\n', "unknown setting"),
])
def test_bad_alert_settings_are_refused_naming_the_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert "hunter2" not in str(caught.value) and "SEC" not in str(caught.value)


def test_secrets_and_token_urls_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, SMTP + 'password_env = "PW"\nusername = "u"\n'
                 '[[alerts.channels]]\nname = "d"\ntype = "dingtalk"\nurl_env = "DING_URL"\nsecret_env = "DING_SEC"\n'
                 'kinds = ["alert"]\n')
    settings = load_settings(path, environ={})  # reading settings never needs the secrets (a scan does not)
    with pytest.raises(SettingsError, match="password_env names PW, which is not set"):
        configured_channels(settings, {})
    mail, ding = configured_channels(settings, {"PW": "pw", "DING_URL": "https://oapi.dingtalk.com/robot/send?"
                                                "access_token=T", "DING_SEC": "s"})
    assert isinstance(mail, SmtpChannel) and mail.password == "pw" and mail.takes("digest")
    assert isinstance(ding, WebhookChannel) and ding.secret == "s" and ding.url.endswith("access_token=T")
    assert ding.takes("alert") and not ding.takes("digest")


def invoke(tmp_path: Path, config: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--config", str(config), *args],
                              env={"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_DATABASE_URL": None,
                                   "PHARMWATCH_CONFIG": None})


def test_alerts_test_send_list_and_retry_through_the_cli(tmp_path: Path, webhook: WebhookReceiver) -> None:
    config = write(tmp_path, f'[[alerts.channels]]\nname = "hook"\ntype = "json"\nurl = "{webhook.url}/json"\n'
                   f'kinds = ["digest"]\n[[alerts.channels]]\nname = "down"\ntype = "json"\n'
                   f'url = "http://127.0.0.1:1/x"\ntimeout_seconds = 2\n')
    result = invoke(tmp_path, config, "alerts", "test", "--channel", "hook")
    assert result.exit_code == ExitCode.OK, result.output
    assert webhook.requests[0].body["kind"] == "test"  # sent although the channel takes digests only
    result = invoke(tmp_path, config, "alerts", "test", "--channel", "down")
    assert result.exit_code == ExitCode.UNDELIVERED and "127.0.0.1:1" in result.output
    result = invoke(tmp_path, config, "alerts", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["channel"], r["state"], r["kind"]) for r in rows] == [("down", "failed", "test"),
                                                                     ("hook", "sent", "test")]
    assert rows[0]["last_error"].startswith("http://127.0.0.1:1:") and rows[0]["next_attempt"] is None
    table = invoke(tmp_path, config, "alerts", "list", "--state", "failed")
    assert table.exit_code == 0 and "1 deliveries" in table.output and "hook" not in table.output
    assert invoke(tmp_path, config, "alerts", "retry", "99").exit_code == ExitCode.FAILED
    assert "1 deliveries pending again" in invoke(tmp_path, config, "alerts", "retry").output
    result = invoke(tmp_path, config, "alerts", "send")
    assert result.exit_code == ExitCode.UNDELIVERED and "0 sent, 1 to retry" in result.output
    assert invoke(tmp_path, config, "alerts", "test", "--channel", "nope").exit_code == ExitCode.FAILED


def test_the_table_makes_crawled_text_inert(tmp_path: Path) -> None:
    from alerts.outbox import enqueue
    from storage import db
    from storage.models import AlertDelivery

    config = write(tmp_path, "")
    url = database_url(tmp_path / "home")
    db.upgrade(url)
    with db.transaction(db.session_factory(db.make_engine(url))) as session:
        message = enqueue(session, "alert", "降糖神药\x1b[2J[/b]", "t")
        message.deliveries.append(AlertDelivery(channel="c"))
    result = invoke(tmp_path, config, "alerts", "list")
    assert result.exit_code == 0 and "\x1b" not in result.output and "降糖神药 [2J[/b]" in result.output
