"""`pharmwatch user ...` (web UI accounts and API tokens) and `pharmwatch serve` (the web UI under uvicorn).

Thin commands over `web.auth` and `web.app.create_app`; the settings are read here and handed to the
web layer as plain values (`WebConfig`). Passwords come from a prompt or, for scripts, stdin.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pharmwatch.config import Settings
from storage.models import ROLES

ACTOR_HELP = "Who does it, for the audit log (default: $USER)."


def _actor(by: str | None) -> str:
    import getpass

    return by or getpass.getuser()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _do(settings: Settings, action):  # type: ignore[no-untyped-def]
    """Run `action(session)` in one transaction; an AuthError exits FAILED with its message."""
    from pharmwatch.cli import database, fail
    from storage.db import session_factory, transaction
    from web.auth import AuthError

    try:
        with transaction(session_factory(database(settings))) as session:
            return action(session)
    except AuthError as exc:
        fail(str(exc))


@click.group("user")
def user_group() -> None:
    """Web UI accounts (roles: monitor < supervisor < admin) and their API tokens."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do in the web UI.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (no prompt).")
@click.option("--by", default=None, help=ACTOR_HELP)
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, password_stdin: bool, by: str | None) -> None:
    """Add an account (password: at least 8 characters)."""
    from pharmwatch.cli import settings_from
    from web.auth import add_user

    settings = settings_from(ctx)
    password = _password(password_stdin)
    _do(settings, lambda s: add_user(s, name, role, password, actor=_actor(by)))
    click.echo(f"user {name} added ({role})")


@user_group.command("disable")
@click.argument("name")
@click.option("--by", default=None, help=ACTOR_HELP)
@click.pass_context
def user_disable(ctx: click.Context, name: str, by: str | None) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    from pharmwatch.cli import settings_from
    from web.auth import disable_user

    _do(settings_from(ctx), lambda s: disable_user(s, name, actor=_actor(by)))
    click.echo(f"user {name} disabled; sessions and API tokens revoked")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (no prompt).")
@click.option("--by", default=None, help=ACTOR_HELP)
@click.pass_context
def user_passwd(ctx: click.Context, name: str, password_stdin: bool, by: str | None) -> None:
    """Set a new password; the user's sessions end."""
    from pharmwatch.cli import settings_from
    from web.auth import set_password

    settings = settings_from(ctx)
    password = _password(password_stdin)
    _do(settings, lambda s: set_password(s, name, password, actor=_actor(by)))
    click.echo(f"password of {name} changed; their sessions ended")


@user_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.pass_context
def user_list(ctx: click.Context, fmt: str) -> None:
    """Accounts: name, role, disabled, live sessions, API token names."""
    from pharmwatch.cli import print_rows, settings_from
    from web.auth import list_users

    rows = [r.to_json() for r in _do(settings_from(ctx), list_users)]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        row["state"] = "disabled" if row["disabled"] else "active"
        row["tokens"] = ",".join(row["tokens"])
    print_rows(rows, "table", ["name", "role", "state", "sessions", "tokens", "created_at"], "users")


@user_group.command("token")
@click.argument("name")
@click.option("--name", "token_name", required=True, help="What the token is for (e.g. the script using it).")
@click.option("--by", default=None, help=ACTOR_HELP)
@click.pass_context
def user_token(ctx: click.Context, name: str, token_name: str, by: str | None) -> None:
    """Make an API token for NAME and print it once (send it as `Authorization: Bearer TOKEN` to /api/...)."""
    from pharmwatch.cli import settings_from
    from web.auth import new_api_token

    click.echo(_do(settings_from(ctx), lambda s: new_api_token(s, name, token_name, actor=_actor(by))))


def web_config(settings: Settings, config_file: Path | None = None):  # type: ignore[no-untyped-def]
    """The web layer's plain values, from the settings (and the rule packs' disease areas); `cli` is this
    `pharmwatch` with the same settings file, which the web runs in child processes (checks, evidence export)."""
    from pharmwatch.cli import rule_packs
    from pharmwatch.schedule_desk import SettingsScheduleDesk
    from pharmwatch.schedule_runs import job_command
    from web.app import WebConfig

    web = settings.web
    return WebConfig(blob_dir=settings.blob_dir, timezone=settings.report.timezone, session_hours=web.session_hours,
                     secure_cookies=web.secure_cookies, login_max_failures=web.login_max_failures,
                     login_window_minutes=web.login_window_minutes, language=web.language,
                     rule_diseases={rule.id: tuple(rule.diseases) for rule in rule_packs(settings).rules},
                     home=settings.home, key_fingerprint=_key_fingerprint(settings),
                     allow_private=tuple(settings.crawl.allow_private),
                     cli=tuple(job_command([], config_file.resolve() if config_file else None)),
                     rule_paths=tuple(Path(p) for p in settings.rule_paths), schedules=SettingsScheduleDesk(settings))


def _key_fingerprint(settings: Settings) -> str | None:
    """The evidence signing key's fingerprint for referral letters (as `referral letter` prints it), if any.
    Read from the public key file: the web process never opens the private key."""
    from cases.evidence.keys import fingerprint, key_paths, load_public_key

    _, public_path = key_paths(settings.home)
    try:
        return fingerprint(load_public_key(public_path.read_bytes()))
    except (OSError, ValueError):
        return None


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [web] port, 8000).")
@click.option("--scheduler/--no-scheduler", "with_scheduler", default=True, show_default=True,
              help="Also run the scheduler (scans, digest, re-checks, alert sending) in this process.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, with_scheduler: bool) -> None:
    """The monitors' web UI (zh-CN; English available) and its JSON API under /api/, with the scheduler
    beside it (unless another process already runs one for this database), until Ctrl-C or SIGTERM."""
    import threading

    import uvicorn

    from pharmwatch.cli import database, settings_from
    from pharmwatch.scheduler_service import Scheduler
    from web.app import create_app

    settings = settings_from(ctx)
    engine = database(settings)
    app = create_app(web_config(settings, ctx.obj.get("config_file")), engine)
    host, port = host or settings.web.host, port or settings.web.port
    if with_scheduler:
        scheduler = Scheduler(settings, engine, config_file=ctx.obj.get("config_file"),
                              say=lambda line: click.echo(f"scheduler: {line}", err=True))
        thread = threading.Thread(target=_scheduler_beside_web, args=(scheduler,), name="scheduler", daemon=True)
        thread.start()
        def stop_scheduler() -> None:
            # In the server's shutdown, not after uvicorn.run: uvicorn re-raises the SIGTERM it caught once it
            # has shut down, which ends the process before any code after run() could release the claim.
            scheduler.stop_event.set()  # stops a running scan (resumed by the next run), releases the claim
            thread.join(timeout=120)

        app.router.on_shutdown.append(stop_scheduler)
    click.echo(f"PharmWatch web UI on http://{host}:{port}/ (accounts: `pharmwatch user add`)", err=True)
    # One process: SQLite serialises writers anyway; sync routes run in uvicorn's thread pool.
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


def _scheduler_beside_web(scheduler) -> None:  # type: ignore[no-untyped-def]
    """The scheduler's loop in the web server's process; another scheduler holding the database is not an
    error here (the office may run `schedule run` under systemd): the web UI goes on without one."""
    from pharmwatch.scheduler_claim import ClaimLost, SchedulerAlreadyRunning

    try:
        scheduler.serve()
    except (SchedulerAlreadyRunning, ClaimLost) as exc:
        scheduler.say(f"not running here: {exc}")
