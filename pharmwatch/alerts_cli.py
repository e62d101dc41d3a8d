"""`pharmwatch alerts`: the outbox's commands (list, retry, send, test, digest) and the wiring of [alerts]
settings into channels (`configured_channels`, `retry_policy`) and into a scan's immediate alerts
(`send_scan_alerts`, called by `pharmwatch scan`).

Thin commands over alerts.outbox; secrets are read from the environment here, when channels are built,
so a missing one stops alert commands only, never a scan.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from alerts.channels import Channel, SmtpChannel, WebhookChannel
from alerts.outbox import DeliverySummary, RetryPolicy
from pharmwatch.config import AlertChannel, Settings, SettingsError
from pharmwatch.exit_codes import ExitCode


def configured_channels(settings: Settings, environ: dict[str, str] | None = None) -> list[Channel]:
    """The [[alerts.channels]] as channels, their secrets read from the environment (SettingsError when unset)."""
    return [_channel(entry, dict(os.environ if environ is None else environ)) for entry in settings.alerts.channels]


def _channel(entry: AlertChannel, environ: dict[str, str]) -> Channel:
    secrets = entry.secret_values(environ)
    if entry.type == "smtp":
        return SmtpChannel(name=entry.name, host=entry.host, sender=entry.sender, to=tuple(entry.to), port=entry.port,
                           security=entry.security, username=entry.username, password=secrets.get("password", ""),
                           timeout=entry.timeout_seconds, kinds=tuple(entry.kinds))
    return WebhookChannel(name=entry.name, type=entry.type, url=secrets.get("url", entry.url),
                          secret=secrets.get("secret", ""), timeout=entry.timeout_seconds, kinds=tuple(entry.kinds))


def retry_policy(settings: Settings) -> RetryPolicy:
    alerts = settings.alerts
    return RetryPolicy(max_attempts=alerts.max_attempts, backoff_base_seconds=alerts.backoff_base_seconds,
                       backoff_max_seconds=alerts.backoff_max_seconds)


@click.group("alerts")
def alerts_group() -> None:
    """The alert outbox: messages (digests, alerts) and their delivery to e-mail and webhook channels."""


@alerts_group.command("list")
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None,
              help="Only deliveries in this state.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def alerts_list(ctx: click.Context, state: str | None, fmt: str) -> None:
    """Deliveries newest first: message, channel, state, attempts, next attempt, last error."""
    from alerts.outbox import list_deliveries
    from alerts.outbox_render import delivery_row, render_deliveries
    from pharmwatch.cli import database, settings_from
    from storage.db import session_factory

    settings = settings_from(ctx)
    tz = ZoneInfo(settings.report.timezone)
    with session_factory(database(settings))() as session:
        rows = [delivery_row(delivery, tz) for delivery in list_deliveries(session, state)]
    render_deliveries(rows, fmt, sys.stdout)


@alerts_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.pass_context
def alerts_retry(ctx: click.Context, ids: tuple[int, ...]) -> None:
    """Failed deliveries (these IDs, default all) back to pending, due now; `alerts send` sends them."""
    from alerts.outbox import retry_failed
    from pharmwatch.cli import database, fail, settings_from
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            count = len(retry_failed(session, list(ids)))
    except LookupError as exc:
        fail(f"nothing changed: {exc}")
    click.echo(f"{count} deliveries pending again")


@alerts_group.command("send")
@click.pass_context
def alerts_send(ctx: click.Context) -> None:
    """Deliver what is due now. Exit 6 (UNDELIVERED) when an attempt failed, each named on stderr."""
    from alerts.outbox import deliver_pending
    from pharmwatch.cli import database, settings_from
    from storage.db import session_factory

    settings = settings_from(ctx)
    channels = _channels_or_fail(settings)
    summary = deliver_pending(session_factory(database(settings)), channels, policy=retry_policy(settings))
    _report(summary)


@alerts_group.command("test")
@click.option("--channel", "name", required=True, help="The [[alerts.channels]] name.")
@click.pass_context
def alerts_test(ctx: click.Context, name: str) -> None:
    """Enqueue a test message for one channel and deliver it now (one attempt). Exit 6 when it failed."""
    from alerts.outbox import deliver_pending, enqueue
    from pharmwatch.cli import database, fail, settings_from
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    channel = next((c for c in _channels_or_fail(settings) if c.name == name), None)
    if channel is None:
        known = ", ".join(c.name for c in settings.alerts.channels) or "none configured"
        fail(f"no alert channel {name!r} in the settings ([[alerts.channels]]: {known})")
    assert channel is not None
    sessions = session_factory(database(settings))
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        message = enqueue(session, "test", f"PharmWatch 测试消息 / test message ({name})",
                          f"A test of the alert channel {name!r}, sent {now:%Y-%m-%d %H:%M} UTC.\n"
                          f"告警通道 {name} 的测试消息。", channels=[_TestOnly(channel)])
    # One attempt: a test that failed says so now rather than being re-sent hours later.
    summary = deliver_pending(sessions, [channel], policy=RetryPolicy(max_attempts=1), message_ids=[message.id])
    _report(summary)


class _TestOnly:
    """A channel taking test messages whatever its `kinds`: `alerts test` names the channel explicitly."""

    def __init__(self, channel: Channel) -> None:
        self.name = channel.name

    def takes(self, kind: str) -> bool:
        return kind == "test"


@alerts_group.command("digest")
@click.option("--send", is_flag=True, help="Store it in the outbox (once per local day) and deliver it now.")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "json"]), default="text", show_default=True,
              help="What to print (without --send).")
@click.option("--end", "end_text", default=None, help="End of the period, ISO 8601 (default: now).")
@click.option("--hours", type=click.FloatRange(min=1), default=24.0, show_default=True, help="Length of the period.")
@click.pass_context
def alerts_digest(ctx: click.Context, send: bool, fmt: str, end_text: str | None, hours: float) -> None:
    """The morning digest: new flagged sites by risk and disease area, paid-ad reach, re-checks, overdue
    orders, referral changes, scan health. Sent also when nothing is new (silence means trouble)."""
    import json

    from alerts.digest import morning_digest
    from alerts.digest_render import render_digest
    from alerts.outbox import deliver_pending, enqueue
    from pharmwatch.cli import database, fail, rule_packs, settings_from
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    tz = ZoneInfo(settings.report.timezone)
    try:
        end = datetime.fromisoformat(end_text) if end_text else datetime.now(UTC)
    except ValueError:
        fail(f"--end {end_text!r}: expected ISO 8601, e.g. 2026-12-08T07:30")
    if end.tzinfo is None:
        end = end.replace(tzinfo=tz)
    ruleset = rule_packs(settings, "refusing to write the digest with a broken rule pack:\n")
    sessions = session_factory(database(settings))
    with sessions() as session:
        digest = morning_digest(session, end=end, timezone=settings.report.timezone, hours=hours,
                                base_url=settings.alerts.base_url,
                                rule_diseases={rule.id: rule.diseases for rule in ruleset.rules})
    rendered = render_digest(digest, settings.alerts.language)
    if not send:
        click.echo(json.dumps(digest.to_json(), ensure_ascii=False, indent=2) if fmt == "json"
                   else rendered.html if fmt == "html" else rendered.text)
        return
    channels = _channels_or_fail(settings)
    day = end.astimezone(tz).date().isoformat()
    with transaction(sessions) as session:
        message = enqueue(session, "digest", rendered.subject, rendered.text, rendered.html,
                          key=f"digest:{day}:{hours:g}h", channels=channels)
        message_id = message.id
    click.echo(f"digest of {day} is message {message_id}: {rendered.subject}")
    if not channels:
        click.echo("warning: no [[alerts.channels]] configured: the digest is stored, not sent", err=True)
    _report(deliver_pending(sessions, channels, policy=retry_policy(settings), message_ids=[message_id]))


def send_scan_alerts(settings: Settings, engine, scan_run_id: int, rule_tags: dict[str, list[str]],  # type: ignore[no-untyped-def]
                     say=print) -> None:  # type: ignore[no-untyped-def]
    """After a scan: store the alerts its `[alerts] alert_on` conditions raise and try to deliver them now.

    Never fails the scan: a channel that is down keeps the message pending (`alerts send` and the
    scheduler retry it); a missing secret is said and the messages wait in the outbox.
    """
    from alerts.conditions import alerts_for_scan
    from alerts.outbox import deliver_pending, enqueue
    from storage.db import session_factory, transaction

    if not settings.alerts.alert_on:
        return
    sessions = session_factory(engine)
    try:
        channels = configured_channels(settings)
    except (SettingsError, ValueError) as exc:
        say(f"warning: alerts are stored, not sent: {exc}")
        channels = []
    with transaction(sessions) as session:
        raised = alerts_for_scan(session, scan_run_id, conditions=settings.alerts.alert_on, rule_tags=rule_tags,
                                 lang=settings.alerts.language, base_url=settings.alerts.base_url)
        ids = [enqueue(session, "alert", alert.subject, alert.text, key=alert.key, channels=channels).id
               for alert in raised]
    if not ids:
        return
    say(f"{len(ids)} alert(s): " + "; ".join(alert.subject for alert in raised))
    if channels:
        summary = deliver_pending(sessions, channels, policy=retry_policy(settings), message_ids=ids)
        say(f"alerts: {summary.sent} sent, {summary.retrying} to retry, {summary.failed} failed"
            + "".join(f"\n  {error}" for error in summary.errors))


def deliver_due(settings: Settings, sessions) -> str | None:  # type: ignore[no-untyped-def]
    """Send what is due in the outbox (the scheduler calls this every minute); a line to log, or None."""
    from alerts.outbox import deliver_pending

    try:
        channels = configured_channels(settings)
    except (SettingsError, ValueError) as exc:
        return f"alerts not sent: {exc}"
    summary = deliver_pending(sessions, channels, policy=retry_policy(settings))
    if not (summary.sent or summary.retrying or summary.failed):
        return None
    return (f"alerts: {summary.sent} sent, {summary.retrying} to retry, {summary.failed} failed"
            + "".join(f"; {error}" for error in summary.errors))


def _channels_or_fail(settings: Settings) -> list[Channel]:
    from pharmwatch.cli import fail

    try:
        return configured_channels(settings)
    except (SettingsError, ValueError) as exc:
        fail(str(exc))
        raise  # unreachable


def _report(summary: DeliverySummary) -> None:
    for error in summary.errors:
        click.echo(f"error: {error}", err=True)
    for name in summary.unconfigured:
        click.echo(f"warning: deliveries wait for channel {name!r}, which is not in the settings", err=True)
    click.echo(f"{summary.sent} sent, {summary.retrying} to retry, {summary.failed} failed")
    if not summary.ok:
        sys.exit(ExitCode.UNDELIVERED)
