"""The outbox: idempotent enqueueing, retries with back-off until each message arrives exactly once, giving up
after max_attempts, and the at-least-once guarantee across a crash (at most one duplicate, same id)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Outgoing, SmtpChannel, WebhookChannel
from alerts.outbox import RetryPolicy, deliver_pending, enqueue, retry_failed
from storage.models import AlertDelivery, AlertMessage, utcnow
from tests.alerts.conftest import SmtpServer, WebhookReceiver

POLICY = RetryPolicy(max_attempts=5, backoff_base_seconds=60, backoff_max_seconds=600)


def hooks(receiver: WebhookReceiver) -> list[WebhookChannel]:
    return [WebhookChannel(name="json", type="json", url=f"{receiver.url}/json"),
            WebhookChannel(name="ding", type="dingtalk", url=f"{receiver.url}/dingtalk?access_token=T", secret="S"),
            WebhookChannel(name="wecom", type="wecom", url=f"{receiver.url}/wecom?key=K"),
            WebhookChannel(name="feishu", type="feishu", url=f"{receiver.url}/feishu", secret="F")]


def deliveries(sessions: sessionmaker[Session]) -> list[AlertDelivery]:
    with sessions() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def later(minutes: float) -> datetime:
    return utcnow() + timedelta(minutes=minutes)


def test_enqueueing_one_key_twice_stores_one_message_with_a_delivery_per_channel_taking_its_kind(
        sessions: sessionmaker[Session], webhook: WebhookReceiver) -> None:
    channels = [*hooks(webhook), WebhookChannel(name="alerts-only", type="json", url=webhook.url, kinds=("alert",))]
    with sessions() as session, session.begin():
        first = enqueue(session, "digest", "日报 2026-12-09", "text", key="digest:2026-12-09", channels=channels)
    with sessions() as session, session.begin():
        again = enqueue(session, "digest", "日报 (again)", "other", key="digest:2026-12-09", channels=channels)
    assert again.id == first.id and again.subject == "日报 2026-12-09"
    with sessions() as session:
        assert session.scalar(select(AlertMessage.id).where(AlertMessage.message_key == "digest:2026-12-09"))
    assert sorted(d.channel for d in deliveries(sessions)) == ["ding", "feishu", "json", "wecom"]
    assert {d.state for d in deliveries(sessions)} == {"pending"}
    with sessions() as session, pytest.raises(ValueError, match="unknown message kind"):
        enqueue(session, "spam", "s", "t", channels=channels)


def test_every_webhook_receives_each_message_exactly_once_after_failed_attempts(
        sessions: sessionmaker[Session], webhook: WebhookReceiver) -> None:
    webhook.script("/json", (500, "{}"), (500, "{}"))
    webhook.script("/dingtalk", (500, "{}"), (500, "{}"), (200, '{"errcode":310000,"errmsg":"sign not match"}'))
    webhook.script("/wecom", (500, "{}"), (500, "{}"), (200, '{"errcode":45009,"errmsg":"api freq out of limit"}'))
    webhook.script("/feishu", (500, "{}"), (500, "{}"), (200, '{"code":9499,"msg":"Bad Request"}'))
    channels = hooks(webhook)
    with sessions() as session, session.begin():
        ids = [enqueue(session, "alert", f"告警 {n}", f"正文 {n}", channels=channels).id for n in range(2)]
    first = deliver_pending(sessions, channels, policy=POLICY)
    assert first.sent == 0 and first.retrying == 8 and not first.ok
    assert "HTTP 500" in first.errors[0] and "access_token" not in " ".join(first.errors)
    assert deliver_pending(sessions, channels, policy=POLICY).sent == 0  # nothing is due before its back-off
    for minutes in (2, 10, 30, 60):
        deliver_pending(sessions, channels, later(minutes), policy=POLICY)
    for path in ("/json", "/dingtalk", "/wecom", "/feishu"):
        accepted = webhook.accepted(path)
        assert len(accepted) == 2, path
    assert sorted(r.body["id"] for r in webhook.accepted("/json")) == ids
    assert Counter(r.headers["Idempotency-Key"].split(".")[1] for r in webhook.requests if r.accepted) == \
        {str(ids[0]): 4, str(ids[1]): 4}
    rows = deliveries(sessions)
    assert {row.state for row in rows} == {"sent"} and all(row.sent_at for row in rows)
    attempts = Counter[str]()
    for row in rows:
        attempts[row.channel] += row.attempts
    assert attempts == {"json": 2 + 2, "ding": 3 + 2, "wecom": 3 + 2, "feishu": 3 + 2}  # the failures, then one each


def test_a_channel_down_loses_nothing_gives_up_after_max_attempts_and_is_retried_on_request(
        sessions: sessionmaker[Session], webhook: WebhookReceiver, smtp_server: SmtpServer) -> None:
    down = [WebhookChannel(name="hook", type="json", url="http://127.0.0.1:1/down", timeout=2),
            SmtpChannel(name="mail", host="127.0.0.1", port=1, security="none", sender="p@x.cn", to=("a@x.cn",))]
    with sessions() as session, session.begin():
        enqueue(session, "digest", "日报", "text", key="digest:d1", channels=down)
    policy = RetryPolicy(max_attempts=2, backoff_base_seconds=60)
    assert deliver_pending(sessions, down, policy=policy).retrying == 2
    summary = deliver_pending(sessions, down, later(5), policy=policy)
    assert summary.failed == 2 and {d.state for d in deliveries(sessions)} == {"failed"}
    assert all(d.last_error and d.attempts == 2 for d in deliveries(sessions))
    assert deliver_pending(sessions, down, later(600), policy=policy).errors == []  # failed stays failed
    with sessions() as session, session.begin():
        assert len(retry_failed(session)) == 2
    back = [WebhookChannel(name="hook", type="json", url=f"{webhook.url}/json"),
            SmtpChannel(name="mail", host=smtp_server.host, port=smtp_server.port, security="none",
                        sender="p@x.cn", to=("a@x.cn",))]
    assert deliver_pending(sessions, back, policy=policy).sent == 2  # a "restart" with the channels back
    assert len(webhook.accepted("/json")) == 1 and len(smtp_server.mailbox.messages) == 1
    with sessions() as session, pytest.raises(LookupError, match="1 \\(sent\\)"):
        retry_failed(session, [1])


def test_a_failing_channel_never_makes_another_channel_send_twice(sessions: sessionmaker[Session],
                                                                  webhook: WebhookReceiver) -> None:
    webhook.script("/broken", *[(500, "{}")] * 10)
    channels = [WebhookChannel(name="broken", type="json", url=f"{webhook.url}/broken"),
                WebhookChannel(name="good", type="json", url=f"{webhook.url}/json")]
    with sessions() as session, session.begin():
        enqueue(session, "alert", "告警", "t", channels=channels)
    for minutes in (0, 2, 10, 30, 60, 120, 240, 480):
        deliver_pending(sessions, channels, later(minutes), policy=POLICY)
    assert len([r for r in webhook.requests if r.path == "/json"]) == 1
    assert len([r for r in webhook.requests if r.path == "/broken"]) == POLICY.max_attempts
    assert {d.channel: d.state for d in deliveries(sessions)} == {"broken": "failed", "good": "sent"}


class Killed(BaseException):
    """The process dies: nothing after this line runs (not caught by the outbox's `except Exception`)."""


class DiesAfterSending:
    """A channel whose process is killed after the receiver got the message, before `sent` is recorded."""

    def __init__(self, channel: WebhookChannel | SmtpChannel) -> None:
        self.channel, self.name, self.kinds = channel, channel.name, channel.kinds

    def takes(self, kind: str) -> bool:
        return True

    def send(self, message: Outgoing) -> str | None:
        self.channel.send(message)
        raise Killed


def test_a_crash_between_sending_and_recording_gives_at_most_one_duplicate_with_the_same_id(
        sessions: sessionmaker[Session], webhook: WebhookReceiver, smtp_server: SmtpServer) -> None:
    hook = WebhookChannel(name="hook", type="json", url=f"{webhook.url}/json")
    mail = SmtpChannel(name="mail", host=smtp_server.host, port=smtp_server.port, security="none",
                       sender="p@x.cn", to=("a@x.cn",))
    with sessions() as session, session.begin():
        message_id = enqueue(session, "digest", "日报", "t", key="digest:crash", channels=[hook, mail]).id
    for channel in (hook, mail):
        with pytest.raises(Killed):
            deliver_pending(sessions, [DiesAfterSending(channel)], policy=POLICY)
    assert {d.state for d in deliveries(sessions)} == {"sending"}
    # Another deliverer running now leaves a claimed delivery alone (its lease has not run out) ...
    assert deliver_pending(sessions, [hook, mail], policy=POLICY).sent == 0
    # ... the restarted process re-sends it once the lease has run out, then never again.
    after_lease = later(POLICY.lease_seconds / 60 + 1)
    assert deliver_pending(sessions, [hook, mail], after_lease, policy=POLICY).sent == 2
    for minutes in (60, 600):
        assert deliver_pending(sessions, [hook, mail], later(minutes), policy=POLICY).sent == 0
    assert [r.body["id"] for r in webhook.requests] == [message_id, message_id]
    assert len({r.headers["Idempotency-Key"] for r in webhook.requests}) == 1
    ids = [m["Message-ID"] for m in smtp_server.mailbox.messages]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert {(d.state, d.attempts) for d in deliveries(sessions)} == {("sent", 2)}


def test_deliveries_for_a_channel_no_longer_configured_wait_and_are_named(sessions: sessionmaker[Session],
                                                                         webhook: WebhookReceiver) -> None:
    with sessions() as session, session.begin():
        enqueue(session, "alert", "告警", "t", channels=hooks(webhook)[:1])
    summary = deliver_pending(sessions, [], policy=POLICY)
    assert summary.unconfigured == ["json"] and summary.ok and deliveries(sessions)[0].state == "pending"
