"""The `pharmwatch` command line: thin commands over the library (crawler, rules, storage, cases).

Exit statuses are named in pharmwatch/exit_codes.py (listed in the README): errors name the fix
and exit FAILED (2); findings never change the exit status except for `check`, which exits
FLAGGED (1) when any input is flagged (useful in scripts) unless `--no-fail`. Commands whose
output is data take `--format table|csv|json`; renderers live beside the data they render.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from pharmwatch.alerts_cli import alerts_group
from pharmwatch.config import Settings, SettingsError, load_settings
from pharmwatch.exit_codes import ExitCode
from pharmwatch.web_cli import serve, user_group

DEMO_CONFIG = Path(__file__).resolve().parent.parent / "demo" / "pharmwatch.toml"
DEMO_REGISTRY = DEMO_CONFIG.parent / "registry"  # sample registry CSVs, one per kind (file stem = kind)


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(ExitCode.FAILED)


def print_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str], noun: str) -> None:
    """Records as JSON, or one table line each (the given columns) and a count."""
    from outputs import terminal_line

    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        click.echo(terminal_line("  ".join("" if row.get(c) is None else str(row[c]) for c in columns)))
    click.echo(f"{len(rows)} {noun}")


def format_option(*formats: str):  # type: ignore[no-untyped-def]
    """The shared `--format` option of commands whose output is data (first format is the default)."""
    return click.option("--format", "fmt", type=click.Choice(formats), default=formats[0], show_default=True,
                        help="Output format.")


def json_alias(help: str | None = None):  # type: ignore[no-untyped-def]  # noqa: A002 - click's name
    """`--json`: same as `--format json`; hidden unless it is a documented contract (`help` given)."""
    return click.option("--json", "as_json", is_flag=True, hidden=help is None,
                        help=help or "Same as --format json (kept for older scripts).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pharmwatch", prog_name="pharmwatch")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Settings file (TOML). Default: $PHARMWATCH_CONFIG, else $PHARMWATCH_HOME/pharmwatch.toml.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """PharmWatch: find illegal online drug sales and false medical advertising."""
    ctx.ensure_object(dict)
    ctx.obj["config_file"] = config_file


cli.add_command(alerts_group)
cli.add_command(user_group)
cli.add_command(serve)


def settings_from(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config_file"))
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable


def rule_packs(settings: Settings, why: str = ""):  # type: ignore[no-untyped-def]
    """The configured packs (default: the bundled ones), or exit naming every broken file:line."""
    from rules import RulePackError, load_ruleset

    try:
        return load_ruleset([Path(p) for p in settings.rule_paths] or None, cache_dir=settings.rules_cache_dir)
    except RulePackError as exc:
        fail(f"{why}{exc}")


def database(settings: Settings):  # type: ignore[no-untyped-def]
    """An engine on an up-to-date schema: upgrades it (saying so) rather than failing later."""
    from storage import db

    engine = db.make_engine(settings.db_url)
    if db.current_revision(engine) != db.head_revision(settings.db_url):
        before, after = db.upgrade(settings.db_url)
        click.echo(f"database schema upgraded from {before or 'empty'} to {after}", err=True)
    return engine


# --- db ---------------------------------------------------------------------------------------
@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the database to the newest schema."""
    from storage import db

    settings = settings_from(ctx)
    before, after = db.upgrade(settings.db_url)
    click.echo(f"database at {after} (was {before or 'empty'}): {_redacted(settings.db_url)}")


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- scan -------------------------------------------------------------------------------------
@cli.command()
@click.option("--no-search", is_flag=True, help="Skip search-engine monitoring; crawl the watchlist only.")
@click.option("--site", "extra_sites", multiple=True, help="Also crawl this URL (repeatable).")
@click.option("--query-set", "query_sets", multiple=True,
              help="Search only these query sets (repeatable; 'queries' is [search] queries).")
@click.option("--no-watchlist", is_flag=True, help="Do not crawl the watchlist (search and its landing pages only).")
@click.option("--no-tips", is_flag=True, help="Do not crawl the URLs of pending tips (`pharmwatch tip`).")
@click.option("--blacklisted", is_flag=True,
              help="Also re-crawl every blacklisted site (the pages that proved it, else its last or front page).")
@click.option("--new", is_flag=True, help="Abandon an interrupted scan instead of resuming it.")
@click.option("--distributed/--in-process", default=None,
              help="Queue each search and site for `pharmwatch worker` processes (PostgreSQL), or crawl here; "
                   "default: [scan] distributed.")
@click.option("--verbose", is_flag=True, help="Show Scrapy's log.")
@click.pass_context
def scan(ctx: click.Context, no_search: bool, extra_sites: tuple[str, ...], query_sets: tuple[str, ...],
         no_watchlist: bool, no_tips: bool, blacklisted: bool, new: bool, distributed: bool | None,
         verbose: bool) -> None:
    """One full run: search monitoring, site crawl (watchlist and pending tips), rules; resumes an interrupted run."""
    from pharmwatch.scan import run_scan
    from pharmwatch.scan_lock import ScanAlreadyRunning
    from pharmwatch.work_queue import NeedsPostgres, require_postgres
    settings = settings_from(ctx)
    distributed = settings.scan.distributed if distributed is None else distributed
    if distributed:
        try:
            require_postgres(settings.db_url)
        except NeedsPostgres as exc:
            fail(str(exc))
    ruleset = rule_packs(settings, "refusing to scan with a broken rule pack:\n")
    known = {"queries", *(q.name for q in settings.search.query_sets)}
    if set(query_sets) - known:
        fail(f"unknown query set(s) {sorted(set(query_sets) - known)}; known: {', '.join(sorted(known))}")
    plan = [] if no_search else settings.search.plan(list(query_sets) if query_sets else None)
    watchlist = [*([] if no_watchlist else settings.watchlist), *extra_sites]
    if blacklisted:
        from cases.blacklist import recheck_urls
        from storage.db import session_factory

        with session_factory(database(settings))() as session:
            watchlist += recheck_urls(session)
    if not plan and not watchlist and (no_tips or not _pending_tip_count(database(settings))):
        fail(f"nothing to scan: set [search] engines or watchlist in the settings file ({settings.source}), "
             "or add tips (`pharmwatch tip add URL`)")
    try:
        outcome = run_scan(settings, database(settings), ruleset, plan=plan, watchlist=watchlist, tips=not no_tips,
                           new=new, verbose=verbose, distributed=distributed,
                           announce=lambda line: click.echo(line, err=True))
    except ScanAlreadyRunning as exc:
        fail(str(exc))
    run = outcome.run
    from pharmwatch.alerts_cli import send_scan_alerts

    send_scan_alerts(settings, database(settings), run.id, {rule.id: list(rule.tags) for rule in ruleset.rules},
                     say=lambda line: click.echo(line, err=True))
    click.echo(
        f"scan {run.id} {run.status}: queries={run.queries} results={run.results} ads={run.ads} "
        f"pages={run.pages} failures={run.failures} findings={run.findings} "
        f"flagged_sites={run.flagged_sites} open_cases={outcome.open_cases} tips_scanned={len(outcome.tips_scanned)}"
    )
    if outcome.networks and (outcome.networks.created or outcome.networks.grown or outcome.networks.merged):
        change = outcome.networks
        click.echo(f"operator networks: new {change.created}, grown {change.grown}, merged {change.merged} "
                   "(`pharmwatch network list`)")
    for what, why in outcome.problems:
        click.echo(f"  not captured: {what}: {why}")
    if outcome.error:
        fail(f"scan {run.id} stopped: {outcome.error}")
    if outcome.shortfall:
        click.echo(f"scan {run.id} captured too little: {outcome.shortfall}", err=True)
        sys.exit(ExitCode.CAPTURED_TOO_LITTLE)


# --- worker -------------------------------------------------------------------------------------
@cli.command()
@click.option("--name", default=None, help="This worker's name in the queue and its log (default: host:pid).")
@click.option("--verbose", is_flag=True, help="Show Scrapy's log.")
@click.pass_context
def worker(ctx: click.Context, name: str | None, verbose: bool) -> None:
    """Run the searches and crawl the sites queued by distributed scans (`scan --distributed`), one job at a
    time, until stopped."""
    import logging

    from pharmwatch.work_queue import NeedsPostgres, require_postgres
    from pharmwatch.worker import run_worker

    settings = settings_from(ctx)
    try:
        require_postgres(settings.db_url)
    except NeedsPostgres as exc:
        fail(str(exc))
    ruleset = rule_packs(settings, "refusing to work with a broken rule pack:\n")
    database(settings)  # the queue's tables are part of the schema (migration 0015)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    click.echo(f"worker {name or ''} waiting for searches and sites (rule packs {ruleset.digest[:12]}); "
               "Ctrl-C stops after the job in hand", err=True)
    run_worker(settings, ruleset.digest, name=name, verbose=verbose)


# --- registry -----------------------------------------------------------------------------------
@cli.group("registry")
def registry_group() -> None:
    """Reference registries: licences, approval and registration numbers (CSV in and out)."""


def _registry_kinds() -> list[str]:
    from storage.registry import KIND_SPECS

    return sorted(KIND_SPECS)


@registry_group.command("import")
@click.argument("kind", type=click.Choice(_registry_kinds()))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows; write the rejected ones to a file.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="Where --skip-bad writes rejected rows (default: beside FILE, tips.csv → tips.rejects.csv).")
@click.pass_context
def registry_import(ctx: click.Context, kind: str, file: Path, skip_bad: bool, rejects: Path | None) -> None:
    """Validate every row of FILE and import it (all or nothing unless --skip-bad); re-import updates."""
    from cases.registries import import_csv
    from storage.db import session_factory, transaction
    from storage.registry import RegistryImportError

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            report = import_csv(session, kind, file, skip_bad=skip_bad, rejects_path=rejects)
    except RegistryImportError as exc:
        fail(f"nothing imported: {exc}")
    click.echo(report.summary())


@registry_group.command("export")
@click.argument("kind", type=click.Choice(_registry_kinds()))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="File (default: stdout).")
@click.pass_context
def registry_export(ctx: click.Context, kind: str, output: Path | None) -> None:
    """Write a registry as CSV (the import format)."""
    from storage.db import session_factory
    from storage.registry import export_csv

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        count = export_csv(session, kind, output if output else sys.stdout)
    if output:
        click.echo(f"{count} rows written to {output}", err=True)


def _pending_tip_count(engine) -> int:  # type: ignore[no-untyped-def]
    from cases.tips import pending_tips
    from storage.db import session_factory

    with session_factory(engine)() as session:
        return len(pending_tips(session))


# --- tip ------------------------------------------------------------------------------------------
@cli.group("tip")
def tip_group() -> None:
    """Tips: suspicious URLs reported by monitors or the public; the next scan crawls them."""


_BY_OPTION = click.option("--by", "by", default=lambda: os.environ.get("USER", "pharmwatch"),
                          help="Who enters this (audit log; default: $USER).")


@tip_group.command("add")
@click.argument("url")
@click.option("--source", default="monitor", show_default=True, help="Where the tip came from, e.g. '12315 hotline'.")
@click.option("--reporter", default=None, help="Who reported it (kept in the tip only, not the audit log).")
@click.option("--note", default=None, help="Free text, e.g. what the reporter said.")
@_BY_OPTION
@click.pass_context
def tip_add(ctx: click.Context, url: str, source: str, reporter: str | None, note: str | None, by: str) -> None:
    """Record a tip for URL (pasted as is: no scheme, full-width characters, IDN are fine); prints its id."""
    from cases.tips import TipError, add_tip
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            tip, created = add_tip(session, url, source=source, reporter=reporter, note=note, submitted_by=by,
                                   allow_private=settings.crawl.allow_private, timezone=settings.report.timezone)
    except TipError as exc:
        fail(f"tip not recorded: {exc}")
    if not created:
        click.echo(f"already recorded today from {tip.source!r} as tip {tip.id} ({tip.status}): {tip.url}", err=True)
    click.echo(tip.id)


@tip_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows; write the rejected ones to a file.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="Where --skip-bad writes rejected rows (default: beside FILE, tips.csv → tips.rejects.csv).")
@click.option("--source", default="tip file", show_default=True, help="Source of rows whose source cell is empty.")
@_BY_OPTION
@click.pass_context
def tip_import(ctx: click.Context, file: Path, skip_bad: bool, rejects: Path | None, source: str, by: str) -> None:
    """Import tips from a CSV or XLSX (columns: url, and optionally source, reporter, note, submitted_at).

    Every row is validated; any bad value refuses the whole file (naming file:line and column) unless
    --skip-bad. Importing the same file again adds nothing (one tip per URL, source and day).
    """
    from cases.tips import TipError, import_tips
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            report = import_tips(session, file, submitted_by=by, default_source=source, skip_bad=skip_bad,
                                 rejects_path=rejects, allow_private=settings.crawl.allow_private,
                                 timezone=settings.report.timezone)
    except TipError as exc:
        fail(f"nothing imported: {exc}")
    click.echo(report.summary())


@tip_group.command("list")
@click.option("--status", type=click.Choice(["pending", "scanned"]), default=None, help="Only tips in this state.")
@format_option("table", "csv", "json")
@_BY_OPTION
@click.pass_context
def tip_list(ctx: click.Context, status: str | None, fmt: str, by: str) -> None:
    """List tips, oldest first (the listing is audited: tips name their reporters)."""
    from cases.tips import list_tips
    from cases.tips_render import render_tips
    from storage.audit import record_event
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    with transaction(session_factory(database(settings))) as session:
        tips = list_tips(session, status=status)
        record_event(session, actor=by, action="tips_listed", subject="tips",
                     details={"status": status, "count": len(tips)})
    render_tips(tips, fmt, sys.stdout, status=status)


@tip_group.command("check")
@click.argument("tip_id", type=int)
@format_option("table", "json")
@_BY_OPTION
@click.pass_context
def tip_check(ctx: click.Context, tip_id: int, fmt: str, by: str) -> None:
    """Check a tip now (a crawl of its URL as a run of its own): flagged or not, and the findings."""
    from cases.tip_check import check_tip
    from cases.tips import TipError
    from outputs import terminal_line
    from storage.db import session_factory

    settings = settings_from(ctx)
    ruleset = rule_packs(settings, "refusing to check with a broken rule pack:\n")
    try:
        result = check_tip(session_factory(database(settings)), tip_id, settings.crawl_overrides(),
                           blob_dir=settings.blob_dir, actor=by, ruleset=ruleset)
    except TipError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    verdict = "flagged" + (f" (case {result.case_id})" if result.case_id else "") if result.flagged else "not flagged"
    click.echo(terminal_line(f"tip {tip_id} checked (run {result.scan_run_id}): {verdict}; {result.outcome}"))
    for finding in result.findings:
        click.echo(terminal_line(f"  {finding['severity']:<8} {finding['rule_id']}  {finding['title']}"))


# --- keys and evidence ------------------------------------------------------------------------
@cli.group("case")
def case_group() -> None:
    """Cases: review, confirm or dismiss, close, reopen, assign (every step audited)."""


@case_group.command("list")
@click.option("--status", default=None, help="open, under_review, confirmed, dismissed or closed.")
@click.option("--assignee", default=None)
@click.option("--risk", default=None, type=click.Choice(["low", "medium", "high", "critical"]))
@click.option("--category", default=None, help="A finding category, e.g. disease_cure_claim.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Opened on or after this day (UTC).")
@click.option("--ads", "through_ads", is_flag=True, help="Only sites that paid search ads led to.")
@click.option("--disease", default=None,
              help="Only cases whose flagging findings speak of this disease area, e.g. diabetes, gout.")
@format_option("table", "csv", "json")
@click.pass_context
def case_list(ctx: click.Context, status: str | None, assignee: str | None, risk: str | None,
              category: str | None, since: datetime | None, through_ads: bool, disease: str | None,
              fmt: str) -> None:
    """Cases, newest first."""
    from cases.casebook import list_cases
    from cases.casebook_render import render_case_list
    from cases.lifecycle import CaseError
    from storage.db import session_factory

    settings = settings_from(ctx)
    ruleset = rule_packs(settings, "refusing to list cases with a broken rule pack:\n")
    with session_factory(database(settings))() as session:
        try:
            cases = list_cases(session, status=status, assignee=assignee, risk=risk, category=category,
                               since=since, through_ads=through_ads, disease=disease,
                               rule_diseases={rule.id: rule.diseases for rule in ruleset.rules})
        except CaseError as exc:
            fail(str(exc))
    render_case_list(cases, fmt, sys.stdout)


@case_group.command("show")
@click.argument("case_id", type=int)
@format_option("table", "json")
@click.pass_context
def case_show(ctx: click.Context, case_id: int, fmt: str) -> None:
    """One case: site, findings, captures, tips, decisions, audit events, and what can be done next."""
    from cases.casebook import case_detail
    from cases.casebook_render import render_case
    from cases.lifecycle import CaseError
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        try:
            detail = case_detail(session, case_id)
        except CaseError as exc:
            fail(str(exc))
    render_case(detail, fmt, sys.stdout)


def _case_step(action: str, help_text: str):  # type: ignore[no-untyped-def]
    @case_group.command(action, help=help_text)
    @click.argument("case_id", type=int)
    @click.option("--reason", default="", help="Why (required to dismiss, close and reopen).")
    @click.option("--rule", "rules", multiple=True,
                  help="confirm/dismiss: only this rule's findings (repeatable; default: every flagging rule).")
    @_BY_OPTION
    @click.pass_context
    def command(ctx: click.Context, case_id: int, reason: str, rules: tuple[str, ...], by: str) -> None:
        from sqlalchemy.orm.exc import StaleDataError

        from cases.lifecycle import CaseError, act
        from storage.db import session_factory, transaction

        if rules and action not in ("confirm", "dismiss"):
            fail(f"--rule applies to confirm and dismiss, not to {action}")
        settings = settings_from(ctx)
        try:
            with transaction(session_factory(database(settings))) as session:
                step = act(session, case_id, action, actor=by, reason=reason, rules=rules)
        except CaseError as exc:
            fail(str(exc))
        except StaleDataError:
            fail(f"case {case_id} was changed by someone else meanwhile: nothing done; look at it again")
        click.echo(f"case {step.case_id}: {step.from_status} → {step.to_status}")
    return command


for _action, _help in (("review", "Take an open case under review."),
                       ("confirm", "Confirm the violation (per rule with --rule)."),
                       ("dismiss", "Dismiss the case as a false alarm, with --reason (per rule with --rule)."),
                       ("close", "Close a confirmed case, with --reason."),
                       ("reopen", "Reopen a dismissed or closed case, with --reason.")):
    _case_step(_action, _help)


@case_group.command("assign")
@click.argument("case_id", type=int)
@click.option("--to", "assignee", required=True, help="The user who takes the case.")
@_BY_OPTION
@click.pass_context
def case_assign(ctx: click.Context, case_id: int, assignee: str, by: str) -> None:
    """Assign a case to a user."""
    from cases.lifecycle import CaseError, assign
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            assign(session, case_id, assignee, actor=by)
    except CaseError as exc:
        fail(str(exc))
    click.echo(f"case {case_id}: assigned to {assignee}")


@case_group.command("recheck")
@click.argument("case_id", type=int)
@format_option("table", "json")
@_BY_OPTION
@click.pass_context
def case_recheck(ctx: click.Context, case_id: int, fmt: str, by: str) -> None:
    """Crawl the pages that proved the case again: violation_gone, still_present, unreachable or moved."""
    from cases.lifecycle import CaseError
    from cases.recheck import recheck_case
    from outputs import terminal_line
    from storage.db import session_factory

    settings = settings_from(ctx)
    ruleset = rule_packs(settings, "refusing to re-check with a broken rule pack:\n")
    try:
        result = recheck_case(session_factory(database(settings)), case_id, settings.crawl_overrides(),
                              actor=by, ruleset=ruleset)
    except CaseError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(f"case {case_id} re-checked (run {result.run_id}): {result.outcome}")
    for page in result.pages:
        click.echo(terminal_line(f"  {page.url}: {page.outcome} ({page.detail})"))


@cli.group("referral")
def referral_group() -> None:
    """Referrals of confirmed cases to police, telecom, trademark, higher authority, regulator or platform."""


@referral_group.command("create")
@click.option("--case", "case_id", type=int, required=True)
@click.option("--to", "authority", default=None,
              help="police, telecom, trademark, higher_authority, market_regulator or platform "
                   "(default: the first one the findings suggest).")
@click.option("--package", type=click.Path(path_type=Path, exists=True), default=None,
              help="The evidence package (evidence export --case) it travels with: its SHA-256 goes in the letter.")
@click.option("--network", "network_id", type=int, default=None,
              help="Refer the whole operator network the case's site is in (the letter lists every site and link).")
@_BY_OPTION
@click.pass_context
def referral_create(ctx: click.Context, case_id: int, authority: str | None, package: Path | None,
                    network_id: int | None, by: str) -> None:
    """Refer a confirmed case (or its whole operator network); prints the referral id, the authority and why."""
    from cases.referrals import ReferralError, create_referral
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            referral = create_referral(session, case_id, actor=by, authority=authority, package=package,
                                       network_id=network_id)
            line = f"referral {referral.id}: case {case_id} → {referral.authority} ({referral.why})"
    except ReferralError as exc:
        fail(str(exc))
    click.echo(line)


@referral_group.command("update")
@click.argument("referral_id", type=int)
@click.option("--status", required=True, type=click.Choice(["sent", "acknowledged", "closed"]))
@click.option("--their-ref", "their_reference", default=None, help="The other side's file number.")
@_BY_OPTION
@click.pass_context
def referral_update(ctx: click.Context, referral_id: int, status: str, their_reference: str | None, by: str) -> None:
    """Move a referral on: draft → sent → acknowledged → closed."""
    from cases.referrals import ReferralError, update_referral
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            update_referral(session, referral_id, status, actor=by, their_reference=their_reference)
    except ReferralError as exc:
        fail(str(exc))
    click.echo(f"referral {referral_id}: {status}")


@referral_group.command("attach")
@click.argument("referral_id", type=int)
@click.option("--package", type=click.Path(path_type=Path, exists=True), required=True,
              help="The evidence package (evidence export --case): its SHA-256 goes in the letter.")
@_BY_OPTION
@click.pass_context
def referral_attach(ctx: click.Context, referral_id: int, package: Path, by: str) -> None:
    """Attach (or replace) the evidence package of a draft referral."""
    from cases.referrals import ReferralError, attach_package
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            digest = attach_package(session, referral_id, package, actor=by).package_sha256
    except ReferralError as exc:
        fail(str(exc))
    click.echo(f"referral {referral_id}: package sha256 {digest}")


@referral_group.command("list")
@click.option("--case", "case_id", type=int, default=None)
@format_option("table", "json")
@click.pass_context
def referral_list(ctx: click.Context, case_id: int | None, fmt: str) -> None:
    """Referrals, newest first."""
    from cases.referrals import list_referrals
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        rows = list_referrals(session, case_id=case_id)
    print_rows(rows, fmt, ["id", "case_id", "authority", "status", "their_reference"], "referral(s)")


@referral_group.command("show")
@click.argument("referral_id", type=int)
@format_option("table", "json")
@click.pass_context
def referral_show(ctx: click.Context, referral_id: int, fmt: str) -> None:
    """One referral: case, site, authority, status, the other side's reference, package, every step."""
    from cases.referrals import ReferralError, show_referral
    from outputs import terminal_line
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        try:
            record = show_referral(session, referral_id)
        except ReferralError as exc:
            fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    for key in ("id", "case_id", "site", "authority", "authority_name", "status", "their_reference", "why",
                "package_sha256", "created_by", "created_at"):
        click.echo(terminal_line(f"{key}: {'' if record[key] is None else record[key]}"))
    for step in record["steps"]:
        click.echo(terminal_line(f"  {step['at']}  {step['action']:<12} {step['actor']}"
                                 + (f"  ({step['their_reference']})" if step["their_reference"] else "")))


@referral_group.command("letter")
@click.argument("referral_id", type=int)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="letter.html or letter.pdf (by its suffix).")
@click.pass_context
def referral_letter_command(ctx: click.Context, referral_id: int, output: Path) -> None:
    """Write the referral letter (Chinese; template editable at $PHARMWATCH_HOME/templates/referral_letter.html)."""
    from cases.evidence import KeyMissingError, load_keys
    from cases.evidence.report import render_pdf
    from cases.referrals import ReferralError, referral_letter
    from storage.db import session_factory

    settings = settings_from(ctx)
    try:
        fingerprint = load_keys(settings.home).fingerprint
    except KeyMissingError:
        fingerprint = None
    with session_factory(database(settings))() as session:
        try:
            html_text = referral_letter(session, referral_id, home=settings.home, key_fingerprint=fingerprint)
        except ReferralError as exc:
            fail(str(exc))
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".pdf":
        output.write_bytes(render_pdf(html_text, {}))
    else:
        output.write_text(html_text, encoding="utf-8")
    click.echo(f"{output}")


@cli.group("order")
def order_group() -> None:
    """Correction orders (责令改正) and sales suspensions: a deadline, then a re-check decides them."""


@order_group.command("create")
@click.option("--case", "case_id", type=int, required=True)
@click.option("--kind", type=click.Choice(["correct", "suspend_sales"]), required=True)
@click.option("--deadline", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD, after today.")
@click.option("--product", default=None, help="The product whose sales are suspended.")
@_BY_OPTION
@click.pass_context
def order_create(ctx: click.Context, case_id: int, kind: str, deadline: datetime, product: str | None, by: str) -> None:
    """Order a confirmed case's site to correct, or to suspend sales of a product, by a deadline."""
    from cases.orders import OrderError, create_order
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    today = datetime.now(ZoneInfo(settings.report.timezone)).date()
    try:
        with transaction(session_factory(database(settings))) as session:
            order = create_order(session, case_id, kind=kind, deadline=deadline.date(), actor=by, today=today,
                                 product=product)
            order_id = order.id
    except OrderError as exc:
        fail(str(exc))
    click.echo(f"order {order_id}: case {case_id} {kind} by {deadline.date()}")


@order_group.command("list")
@click.option("--case", "case_id", type=int, default=None)
@format_option("table", "json")
@click.pass_context
def order_list(ctx: click.Context, case_id: int | None, fmt: str) -> None:
    """Orders, newest first."""
    from cases.orders import list_orders
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        rows = list_orders(session, case_id=case_id)
    print_rows(rows, fmt, ["id", "case_id", "kind", "deadline", "status", "product", "resolution"], "order(s)")


@order_group.command("check-due")
@click.option("--today", "today_text", default=None, help="YYYY-MM-DD (default: today in the report timezone).")
@_BY_OPTION
@click.pass_context
def order_check_due(ctx: click.Context, today_text: str | None, by: str) -> None:
    """Re-check the cases of orders whose deadline has passed; resolve each: complied or not_complied."""
    from cases.orders import check_due_orders
    from storage.db import session_factory

    settings = settings_from(ctx)
    zone = ZoneInfo(settings.report.timezone)
    try:
        today = date.fromisoformat(today_text) if today_text else datetime.now(zone).date()
    except ValueError:
        fail(f"--today {today_text!r}: expected YYYY-MM-DD")
    ruleset = rule_packs(settings, "refusing to re-check with a broken rule pack:\n")
    resolved = check_due_orders(session_factory(database(settings)), today, settings.crawl_overrides(), actor=by,
                                ruleset=ruleset)
    for order_id, status, result in resolved:
        click.echo(f"order {order_id}: {status} (case {result.case_id} re-checked: {result.outcome})")
    click.echo(f"{len(resolved)} due order(s) checked")


@cli.group("blacklist")
def blacklist_group() -> None:
    """The blacklist (重点监管名单): sites and operators' phones, WeChat/QQ ids, e-mails; lifted, never deleted."""


@blacklist_group.command("add")
@click.argument("kind", type=click.Choice(["site", "phone", "wechat", "qq", "email", "company", "person",
                                          "payment"]))
@click.argument("value")
@click.option("--reason", required=True, help="Why (shown on every later finding it causes).")
@click.option("--case", "case_id", type=int, default=None, help="The confirmed case it comes from.")
@_BY_OPTION
@click.pass_context
def blacklist_add(ctx: click.Context, kind: str, value: str, reason: str, case_id: int | None, by: str) -> None:
    """Put a site or an operator identifier on the blacklist; the next scans flag it wherever it appears."""
    from cases.blacklist import BlacklistError, add_entry
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            entry = add_entry(session, kind, value, reason=reason, actor=by, case_id=case_id)
            entry_id, normalised = entry.id, entry.value
    except BlacklistError as exc:
        fail(str(exc))
    click.echo(f"blacklist entry {entry_id}: {kind} {normalised}")


@blacklist_group.command("lift")
@click.argument("entry_id", type=int)
@click.option("--reason", required=True)
@_BY_OPTION
@click.pass_context
def blacklist_lift(ctx: click.Context, entry_id: int, reason: str, by: str) -> None:
    """Lift an entry (with a reason; it stays in the record)."""
    from cases.blacklist import BlacklistError, lift_entry
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            lift_entry(session, entry_id, reason=reason, actor=by)
    except BlacklistError as exc:
        fail(str(exc))
    click.echo(f"blacklist entry {entry_id} lifted")


@blacklist_group.command("list")
@click.option("--all", "include_lifted", is_flag=True, help="Lifted entries too.")
@format_option("table", "csv", "json")
@click.pass_context
def blacklist_list(ctx: click.Context, include_lifted: bool, fmt: str) -> None:
    """The entries (active ones unless --all); `--format csv` is the export another office imports."""
    from cases.blacklist import list_entries
    from outputs import SafeCsvWriter, terminal_line
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        entries = list_entries(session, include_lifted=include_lifted)
    if fmt == "json":
        click.echo(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = SafeCsvWriter(sys.stdout)
        writer.writerow(["kind", "value", "reason", "id", "case_id", "rules", "added_by", "added_at", "lifted"])
        for e in entries:
            writer.writerow([e.kind, e.value, e.reason, e.id, e.case_id or "", ";".join(e.rules), e.added_by,
                             e.added_at, e.lifted])
    else:
        for e in entries:
            click.echo(terminal_line(f"{e.id:>5} {e.kind:<7} {e.value:<30} {e.reason}"
                                     + (f" (case {e.case_id})" if e.case_id else "")
                                     + (f" [lifted: {e.lift_reason}]" if e.lifted else "")))
        click.echo(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")


@blacklist_group.command("export")
@click.pass_context
def blacklist_export(ctx: click.Context) -> None:
    """The active entries as CSV (kind,value,reason first): what another office's `blacklist import` reads."""
    ctx.invoke(blacklist_list, include_lifted=False, fmt="csv")


@blacklist_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", required=True, help="Whose list it is (kept in every entry's reason).")
@_BY_OPTION
@click.pass_context
def blacklist_import(ctx: click.Context, file: Path, source: str, by: str) -> None:
    """Import another office's list (CSV or XLSX: kind,value,reason; all or nothing, every bad row named)."""
    from cases.blacklist import BlacklistError, import_entries
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            added = import_entries(session, file, actor=by, source=source)
    except BlacklistError as exc:
        fail(f"nothing imported: {exc}")
    click.echo(f"{added} entr{'y' if added == 1 else 'ies'} added")


@cli.group("audit")
def audit_group() -> None:
    """The append-only, hash-chained audit log."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the whole chain; name every event that does not chain (exit 1)."""
    from sqlalchemy import func, select

    from storage.audit import verify_chain
    from storage.db import session_factory
    from storage.models import AuditEvent

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        problems = verify_chain(session)
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"audit log: {len(problems)} problem(s) in {events} event(s)")
    else:  # an empty log is said to be empty, not "OK"
        click.echo(f"audit log: OK, all {events} event(s) chain" if events else "audit log: empty, nothing to verify")
    sys.exit(ExitCode.FLAGGED if problems else ExitCode.OK)


@audit_group.command("list")
@click.option("--subject", required=True, help="e.g. case:12, tip:3, capture:40")
@format_option("table", "json")
@click.pass_context
def audit_list(ctx: click.Context, subject: str, fmt: str) -> None:
    """The audit events of one subject, oldest first."""
    from outputs import terminal_line
    from storage.audit import events_for
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        events = [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
                   "subject": e.subject, "details": e.details} for e in events_for(session, [subject])]
    if fmt == "json":
        click.echo(json.dumps(events, ensure_ascii=False, indent=2))
        return
    for e in events:
        click.echo(terminal_line(f"{e['id']:>6} {e['at']} {e['actor']}: {e['action']} "
                                 f"{json.dumps(e['details'], ensure_ascii=False)}"))


@cli.group("keys")
def keys_group() -> None:
    """The installation's signing key (evidence packages)."""


@keys_group.command("init")
@click.option("--force", is_flag=True, help="Replace an existing key (the old one is kept, renamed).")
@click.pass_context
def keys_init(ctx: click.Context, force: bool) -> None:
    """Create the Ed25519 key that signs evidence packages."""
    from cases.evidence import KeyExistsError, init_keys

    settings = settings_from(ctx)
    try:
        keys = init_keys(settings.home, force=force)
    except KeyExistsError as exc:
        fail(str(exc))
    click.echo(f"signing key {keys.fingerprint} in {settings.home / 'keys'}")
    click.echo("publish this fingerprint to the offices you send evidence to: they verify packages with "
               "`pharmwatch evidence verify --fingerprint …`")


@keys_group.command("show")
@click.pass_context
def keys_show(ctx: click.Context) -> None:
    """Print the fingerprint of this installation's signing key (what receivers verify packages against)."""
    from cases.evidence import KeyMissingError, load_keys

    settings = settings_from(ctx)
    try:
        keys = load_keys(settings.home)
    except KeyMissingError as exc:
        fail(str(exc))
    click.echo(keys.fingerprint)


@cli.group("evidence")
def evidence_group() -> None:
    """Evidence packages (signed WACZ) for referral: export and verify."""


@evidence_group.command("export")
@click.option("--case", "case_id", type=int, default=None, help="Export this case.")
@click.option("--site", "domain", default=None, help="Or export a site's captures…")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="…from this day…")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="…to this day (inclusive).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The .wacz file to write.")
@click.option("--by", "exported_by", default=os.environ.get("USER", "pharmwatch"), help="Who exports (audit log).")
@click.option("--force", is_flag=True, help="Replace an existing file at --output.")
@click.pass_context
def evidence_export(ctx: click.Context, case_id: int | None, domain: str | None, date_from: datetime | None,
                    date_to: datetime | None, output: Path, exported_by: str, force: bool) -> None:
    """Write a signed WACZ evidence package (report.pdf in Chinese, findings, custody, WARC)."""
    from cases.evidence import KeyMissingError, TimestampError, load_keys
    from cases.evidence.collect import NothingToExport, export_evidence
    from storage.blobs import BlobStore
    from storage.db import session_factory, transaction

    if (case_id is None) == (domain is None):
        fail("give either --case N or --site DOMAIN")
    if output.exists() and not force:
        fail(f"{output} exists: an evidence package already sent may be its only copy; "
             "choose another name or pass --force to replace it")
    settings = settings_from(ctx)
    try:
        keys = load_keys(settings.home)
    except KeyMissingError as exc:
        fail(str(exc))
    try:
        with transaction(session_factory(database(settings))) as session:
            summary = export_evidence(
                session, BlobStore(settings.blob_dir), keys, output, case_id=case_id, domain=domain,
                date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
                timezone=settings.report.timezone, tsa_url=settings.evidence.tsa_url or None,
                exported_by=exported_by,
                rule_descriptions=rule_packs(settings).descriptions())
    except (NothingToExport, TimestampError) as exc:
        fail(str(exc))
    click.echo(f"{summary.path}: {summary.size} bytes, sha256 {summary.sha256}, {summary.pages} pages, "
               f"{summary.findings} findings, signed by {summary.key_fingerprint}"
               + (", timestamped" if summary.timestamp else ""))


@evidence_group.command("verify")
@click.argument("package", type=click.Path(path_type=Path, exists=True))
@click.option("--key", "key_file", type=click.Path(path_type=Path, exists=True), default=None,
              help="The exporting office's public key (PEM): the package must be signed by it.")
@click.option("--fingerprint", default=None,
              help="Or its fingerprint (sha256:…, as `pharmwatch keys show` prints there).")
@click.option("--tsa-roots", type=click.Path(path_type=Path, exists=True), default=None,
              help="CA certificates (PEM) trusted for the timestamp.")
@format_option("table", "json")
@json_alias()
def evidence_verify(package: Path, key_file: Path | None, fingerprint: str | None, tsa_roots: Path | None,
                    fmt: str, as_json: bool) -> None:
    """Recompute every hash, check signature, signer and timestamp; OK or each problem by file.

    Without --key or --fingerprint the signer is not checked: exit status 3 (origin unchecked).
    """
    from cases.evidence import verify_package

    report = verify_package(package, trusted_key=key_file.read_bytes() if key_file else None,
                            trusted_fingerprint=fingerprint,
                            trusted_tsa_roots=tsa_roots.read_bytes() if tsa_roots else None)
    if as_json or fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    sys.exit({"trusted": ExitCode.OK, "unchecked": ExitCode.ORIGIN_UNCHECKED}.get(report.origin, ExitCode.FLAGGED))


# --- schedule ---------------------------------------------------------------------------------
@cli.group("schedule")
def schedule_group() -> None:
    """The unattended scheduler: scheduled scans, their history, and the service that runs them."""


@schedule_group.command("show")
@format_option("table", "csv", "json")
@click.pass_context
def schedule_show(ctx: click.Context, fmt: str) -> None:
    """The settings file's scans and when each runs next (no database; `schedule list` adds admin jobs and state)."""
    from pharmwatch.schedule_render import render_schedule
    from pharmwatch.scheduler import next_runs

    settings = settings_from(ctx)
    try:
        runs = next_runs(settings, datetime.now(ZoneInfo(settings.report.timezone)))
    except SettingsError as exc:
        fail(str(exc))
    render_schedule(runs, fmt, sys.stdout)


@schedule_group.command("run")
@click.pass_context
def schedule_run(ctx: click.Context) -> None:
    """Run the scheduler in the foreground (under systemd: deploy/pharmwatch-scheduler.service) until stopped.

    Refuses to start (exit 2) while another scheduler holds the database, naming it.
    """
    from pharmwatch.scheduler_claim import ClaimLost, SchedulerAlreadyRunning
    from pharmwatch.scheduler_service import Scheduler

    settings = settings_from(ctx)
    scheduler = Scheduler(settings, database(settings), config_file=ctx.obj.get("config_file"))
    try:
        scheduler.serve()
    except (SchedulerAlreadyRunning, ClaimLost) as exc:
        fail(str(exc))


@schedule_group.command("list")
@format_option("table", "json")
@click.pass_context
def schedule_list(ctx: click.Context, fmt: str) -> None:
    """Every job (settings and admin): cron, paused, last fire time, next run, last outcome."""
    from pharmwatch.schedule_jobs import job_views, sync_settings_jobs
    from pharmwatch.schedule_render import JOB_COLUMNS, render_records
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    with transaction(session_factory(database(settings))) as session:
        sync_settings_jobs(session, settings)
        rows = [view.row() for view in job_views(session, settings)]
    render_records(rows, fmt, sys.stdout, columns=JOB_COLUMNS, noun="job(s)")


@schedule_group.command("add")
@click.argument("name")
@click.option("--cron", required=True, help='5 fields (minute hour day month weekday), e.g. "0 3 * * 1"; '
              "6 with seconds first; in the report timezone.")
@click.option("--query-set", "query_sets", multiple=True, help="Search this query set (repeatable).")
@click.option("--site", "sites", multiple=True, help="Crawl this site URL (repeatable).")
@_BY_OPTION
@click.pass_context
def schedule_add(ctx: click.Context, name: str, cron: str, query_sets: tuple[str, ...], sites: tuple[str, ...],
                 by: str) -> None:
    """Add a job scanning query sets or sites on its own cron (audited). It first runs at its next fire time."""
    from pharmwatch.schedule_jobs import JobError, add_job, sync_settings_jobs
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            sync_settings_jobs(session, settings)
            job = add_job(session, settings, name=name, cron=cron, query_sets=list(query_sets), sites=list(sites),
                          by=by)
    except JobError as exc:
        fail(str(exc))
    click.echo(f"job {job.name} added: `{job.cron}` → pharmwatch scan {' '.join(job.args)}")


def _job_step(action: str, help_text: str):  # type: ignore[no-untyped-def]
    """`schedule remove|pause|resume NAME`: one audited change to one job."""
    @schedule_group.command(action, help=help_text)
    @click.argument("name")
    @_BY_OPTION
    @click.pass_context
    def command(ctx: click.Context, name: str, by: str) -> None:
        from pharmwatch.schedule_jobs import JobError, remove_job, set_paused, sync_settings_jobs
        from storage.db import session_factory, transaction

        settings = settings_from(ctx)
        try:
            with transaction(session_factory(database(settings))) as session:
                sync_settings_jobs(session, settings)
                if action == "remove":
                    remove_job(session, name, by=by)
                else:
                    set_paused(session, name, action == "pause", by=by)
        except JobError as exc:
            fail(str(exc))
        click.echo(f"job {name} {'removed' if action == 'remove' else action + 'd'}")
    return command


_job_step("remove", "Remove an admin job (settings jobs are changed in the settings file); its history stays.")
_job_step("pause", "Pause a job: the scheduler leaves it alone until resumed.")
_job_step("resume", "Resume a paused job from its next fire time (the runs it slept through are not caught up).")


@schedule_group.command("run-now")
@click.argument("name")
@format_option("table", "json")
@click.pass_context
def schedule_run_now(ctx: click.Context, name: str, fmt: str) -> None:
    """Run a job now, in the foreground, within its time budget; recorded in the history as `manual`.

    Exit 2 when it is refused (another run or scan in progress) or does not finish.
    """
    from pharmwatch.schedule_jobs import JobError, run_row
    from pharmwatch.schedule_render import HISTORY_COLUMNS, render_records
    from pharmwatch.scheduler_service import RunRefused, run_now

    settings = settings_from(ctx)
    try:
        run = run_now(settings, database(settings), name, config_file=ctx.obj.get("config_file"))
    except (JobError, RunRefused) as exc:
        fail(str(exc))
    render_records([run_row(run, ZoneInfo(settings.report.timezone))], fmt, sys.stdout, columns=HISTORY_COLUMNS,
                   noun="run")
    if run.outcome != "finished":
        sys.exit(ExitCode.FAILED)


@schedule_group.command("history")
@click.option("--job", default=None, help="Only this job's runs.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option("table", "json")
@click.pass_context
def schedule_history(ctx: click.Context, job: str | None, limit: int, fmt: str) -> None:
    """Runs newest first: start, end, outcome (finished, partial, failed, skipped) and why, pages, findings."""
    from pharmwatch.schedule_jobs import history, run_row
    from pharmwatch.schedule_render import HISTORY_COLUMNS, render_records
    from storage.db import session_factory

    settings = settings_from(ctx)
    tz = ZoneInfo(settings.report.timezone)
    with session_factory(database(settings))() as session:
        rows = [run_row(run, tz) for run in history(session, job=job, limit=limit)]
    render_records(rows, fmt, sys.stdout, columns=HISTORY_COLUMNS, noun="run(s)")


# --- report -----------------------------------------------------------------------------------
@cli.group()
def report() -> None:
    """Reports."""


@report.command("daily")
@click.option("--date", "day", default=None, help="Day (YYYY-MM-DD) in the report timezone; default today.")
@format_option("table", "csv", "json")
@click.option("--wide", is_flag=True, help="Table: every column (categories, search sightings, screenshots).")
@click.pass_context
def report_daily(ctx: click.Context, day: str | None, fmt: str, wide: bool) -> None:
    """Today's flagged-site list (or another day's)."""
    from cases.daily import daily_report
    from cases.daily_render import render_daily
    from storage.db import session_factory

    settings = settings_from(ctx)
    zone = settings.report.timezone
    try:
        the_day = date.fromisoformat(day) if day else datetime.now(ZoneInfo(zone)).date()
    except ValueError:
        fail(f"--date {day!r}: expected YYYY-MM-DD")
    with session_factory(database(settings))() as session:
        result = daily_report(session, the_day, zone, settings.blob_dir)
    render_daily(result, fmt, sys.stdout, wide=wide)


@report.command("stats")
@click.option("--from", "date_from", required=True, help="First day (YYYY-MM-DD) in the report timezone.")
@click.option("--to", "date_to", required=True, help="Last day (YYYY-MM-DD), included.")
@click.option("--by", type=click.Choice(["day", "week", "month"]), default="week", show_default=True,
              help="Period of each row (weeks start on Monday; months are calendar months).")
@format_option("table", "csv", "xlsx", "json")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              default=None, help="Write here (xlsx default: $PHARMWATCH_HOME/reports/stats-FROM-TO-BY.xlsx).")
@click.pass_context
def report_stats(ctx: click.Context, date_from: str, date_to: str, by: str, fmt: str, output: Path | None) -> None:
    """Statistics per day, week or month: pages and sites checked, searches and ads, findings by category and
    disease area, cases, blacklist, referrals, orders, sites closed."""
    from cases.stats import period_stats
    from cases.stats_render import render_stats, stats_xlsx
    from storage.db import session_factory

    settings = settings_from(ctx)
    try:
        first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        fail(f"--from {date_from!r} / --to {date_to!r}: expected YYYY-MM-DD")
    if last < first:
        fail(f"--to {date_to} is before --from {date_from}")
    to_stdout = output is None or str(output) == "-"
    if fmt == "xlsx" and str(output) == "-" and sys.stdout.isatty():
        fail("an XLSX workbook is binary, not for a terminal: give --output FILE.xlsx (or pipe --output -)")
    rule_diseases = {rule.id: tuple(rule.diseases) for rule in rule_packs(settings).rules}
    with session_factory(database(settings))() as session:
        stats = period_stats(session, first, last, settings.report.timezone, by, rule_diseases)
    if fmt == "xlsx":
        if output is None:
            output = settings.home / "reports" / f"stats-{first}-{last}-{by}.xlsx"
            output.parent.mkdir(parents=True, exist_ok=True)
        if str(output) == "-":
            stats_xlsx(stats, sys.stdout.buffer)
        else:
            stats_xlsx(stats, output)
            click.echo(f"statistics written to {output}", err=True)
    elif to_stdout or output is None:
        render_stats(stats, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as out:
            render_stats(stats, fmt, out)
        click.echo(f"statistics written to {output}", err=True)


@report.command("ads")
@click.option("--advertiser", default=None, help="Only advertisers whose name contains this.")
@click.option("--domain", default=None, help="Only ads landing on this site.")
@format_option("table", "csv", "json")
@click.pass_context
def report_ads(ctx: click.Context, advertiser: str | None, domain: str | None, fmt: str) -> None:
    """Advertiser history across scans: queries, times seen, ad texts, landing sites, rules hit."""
    from cases.advertisers import advertiser_history
    from cases.advertisers_render import render_advertisers
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        histories = advertiser_history(session, advertiser=advertiser, domain=domain)
    render_advertisers(histories, fmt, sys.stdout, asked={"advertiser": advertiser, "domain": domain})


# --- check ------------------------------------------------------------------------------------
@cli.command()
@click.argument("targets", nargs=-1, required=True)
@json_alias("Print the JSON array (the documented contract; same as --format json).")
@format_option("table", "csv", "json")
@click.option("--no-fail", is_flag=True, help="Exit 0 even when an input is flagged.")
@click.option("--no-ocr", is_flag=True,
              help="Do not read text in images (image files, pictures saved beside a page); OCR is on by default.")
@click.pass_context
def check(ctx: click.Context, targets: tuple[str, ...], as_json: bool, fmt: str, no_fail: bool,
          no_ocr: bool) -> None:
    """Analyse saved HTML/text files, images or URLs without a scan."""
    from contextlib import nullcontext

    from crawler.check import CheckError, check_target
    from crawler.check_render import failed_check, render_checks
    from crawler.ocr import OcrReader
    from crawler.registry_lookup import SqlBlacklist, SqlRegistry
    from storage.db import session_factory

    settings = settings_from(ctx)
    ruleset = rule_packs(settings)
    results, errors = [], 0
    session = session_factory(database(settings))()
    registry, blacklist = SqlRegistry(session), SqlBlacklist(session)
    # One OCR worker for all inputs, started only when an image is met; results cached across runs.
    with nullcontext(None) if no_ocr else OcrReader(cache_dir=settings.home / "ocr-cache") as ocr:
        for target in targets:
            try:
                results.append(check_target(target, ruleset, proxy=settings.crawl.proxy,
                                            allow_private=settings.crawl.allow_private,
                                            timeout=settings.crawl.download_timeout, registry=registry,
                                            blacklist=blacklist, ocr=ocr))
            except CheckError as exc:
                errors += 1
                results.append(failed_check(target, str(exc)))
    session.close()
    render_checks(results, "json" if as_json else fmt, sys.stdout)
    if errors:
        sys.exit(ExitCode.FAILED)
    if any("not_analysed" in item for item in results):
        sys.exit(ExitCode.NOT_ANALYSED)  # "nothing flagged" would be untrue for what was never read
    if not no_fail and any(item["flagged"] for item in results):
        sys.exit(ExitCode.FLAGGED)


# --- rules ------------------------------------------------------------------------------------
@cli.group("rules")
def rules_group() -> None:
    """Rule packs."""


@rules_group.command("stats")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From this day (UTC).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Before this day (UTC).")
@format_option("table", "csv", "json")
@click.pass_context
def rules_stats(ctx: click.Context, date_from: datetime | None, date_to: datetime | None, fmt: str) -> None:
    """Each rule's confirmed and dismissed verdicts and its dismissal rate (false alarms to fix first)."""
    from cases.casebook import rule_stats
    from cases.casebook_render import render_rule_stats
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        records = rule_stats(session, since=date_from, until=date_to)
    render_rule_stats(records, fmt, sys.stdout)


@rules_group.command("lint")
@click.pass_context
def rules_lint(ctx: click.Context) -> None:
    """Check every pack against the conventions (names, keys, legal basis, examples); all problems at once."""
    from rules.lint import lint_packs

    settings = settings_from(ctx)
    ruleset = rule_packs(settings)  # a pack that does not load is reported with file:line first
    problems: list[object] = list(lint_packs([Path(p) for p in settings.rule_paths] or None))
    stale = _stale_model(ruleset)
    problems += [stale] if stale else []
    for problem in problems:
        click.echo(str(problem))
    click.echo(f"{len(problems)} problem(s)")
    sys.exit(ExitCode.FLAGGED if problems else ExitCode.OK)


@rules_group.command("list")
@format_option("table", "csv", "json")
@json_alias()
@click.pass_context
def rules_list(ctx: click.Context, fmt: str, as_json: bool) -> None:
    """Every loaded rule: id, version, category, severity, title."""
    from pharmwatch.rules_render import render_rules

    render_rules(rule_packs(settings_from(ctx)), "json" if as_json else fmt, sys.stdout)


@rules_group.command("train")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of labelled corpus files (default: tests/corpus/items of this checkout).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Model file to write (default: the bundled rules/classifier/claims_model.json.gz).")
def rules_train(corpus: Path | None, output: Path | None) -> None:
    """Train the second-opinion classifier on the labelled corpus (reproducible: same corpus, same file)."""
    import hashlib

    from rules.classifier import MODEL_PATH
    from rules.classifier.train import train
    from rules.corpus import corpus_digest

    folder, items = _corpus_items(corpus)
    model = train(items, metadata={"corpus_sha256": corpus_digest(folder)})
    data = model.to_bytes()
    target = output or MODEL_PATH
    target.write_bytes(data)
    click.echo(f"trained on {len(items)} items ({sum(i.flagged for i in items)} flagged), "
               f"{len(model.vocabulary)} features, corpus {model.metadata['corpus_sha256']!s:.16}")
    click.echo(f"wrote {target} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})")


@rules_group.command("eval")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of labelled corpus files (default: tests/corpus/items of this checkout).")
@click.option("--first-pass", "first_pass_folder", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Score a new batch (a folder of corpus files) once with the shipped rules and model instead.")
@format_option("table", "json")
@click.pass_context
def rules_eval(ctx: click.Context, corpus: Path | None, first_pass_folder: Path | None, fmt: str) -> None:
    """Precision and recall of the rules, the model and both: leave-one-batch-out over the real batches."""
    from rules.evaluation import first_pass, leave_one_batch_out, render_evaluation

    ruleset = rule_packs(settings_from(ctx))
    if first_pass_folder is not None:
        if ruleset.opinion is None:
            raise click.UsageError("--first-pass needs the bundled packs and model (no [rules] paths in the settings)")
        evaluation = first_pass(_corpus_items(first_pass_folder)[1], ruleset)
    else:
        evaluation = leave_one_batch_out(_corpus_items(corpus)[1], ruleset)
    stale = _stale_model(ruleset)
    if stale:
        click.echo(f"warning: {stale}", err=True)
    report = evaluation.as_dict()
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        render_evaluation(report, sys.stdout)


def _stale_model(ruleset) -> str | None:  # type: ignore[no-untyped-def]
    """Why the rules' second-opinion model was not trained on this checkout's corpus, or None."""
    if ruleset.opinion is None:
        return None
    from rules.classifier.train import training_mismatch

    return training_mismatch(ruleset.opinion.model)


def _corpus_items(folder: Path | None) -> tuple[Path, list]:  # type: ignore[type-arg]
    from rules.corpus import ITEMS, load_items

    folder = folder or ITEMS
    if not folder.is_dir() or not any(folder.glob("*.yaml")):
        raise click.UsageError(f"no corpus files (*.yaml) in {folder}")
    try:
        return folder, load_items(folder)
    except ValueError as err:
        raise click.UsageError(f"bad corpus in {folder}:\n{err}") from err


@rules_group.command("test")
@click.pass_context
def rules_test(ctx: click.Context) -> None:
    """Load every pack and run each rule's embedded match/no_match examples."""
    from rules.selftest import run_embedded_tests

    ruleset = rule_packs(settings_from(ctx))
    failures = run_embedded_tests(ruleset)
    for failure in failures:
        click.echo(f"FAIL {failure.path} {failure.rule_id} {failure.kind}: {failure.sample!r}: {failure.reason}")
    click.echo(f"{len(ruleset.rules)} rules, {len(failures)} failing examples")
    sys.exit(ExitCode.FLAGGED if failures else ExitCode.OK)


# --- serp -------------------------------------------------------------------------------------
@cli.group("serp")
def serp_group() -> None:
    """Search-engine result pages."""


@serp_group.command("parse")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--engine", default=None, help="Engine name (default: detected from each page).")
@json_alias("Print one JSON object per file (the documented contract; same as --format json).")
@format_option("table", "csv", "json")
def serp_parse(files: tuple[Path, ...], engine: str | None, as_json: bool, fmt: str) -> None:
    """Parse saved result pages offline."""
    from crawler.serp import SerpParseError, parse_file
    from crawler.serp.render import failed_file, parsed_file, render_serp_pages

    output, errors = [], 0
    for path in files:
        try:
            output.append(parsed_file(path, parse_file(path, engine=engine)))
        except (OSError, SerpParseError) as exc:
            errors += 1
            output.append(failed_file(path, str(exc)))
    render_serp_pages(output, "json" if as_json else fmt, sys.stdout)
    # A page read as nothing (parse_error) is a failure in every format, like a file that cannot be read.
    unread = errors + sum(1 for item in output if item.get("parse_error"))
    sys.exit(ExitCode.FAILED if unread else ExitCode.OK)


# --- demo -------------------------------------------------------------------------------------
@cli.group("network")
def network_group() -> None:
    """Operator networks (串并案): flagged sites linked by shared contacts, tracking ids, licences, hosts."""


@network_group.command("build")
@click.pass_context
def network_build(ctx: click.Context) -> None:
    """Index every stored page's identifiers again and rebuild the networks (scans do this as they go)."""
    from cases.networks import build_networks, index_captures
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    with transaction(session_factory(database(settings))) as session:
        added = index_captures(session, settings.blob_dir)
        change = build_networks(session, actor=os.environ.get("USER", "pharmwatch"))
    click.echo(f"{added} new identifier(s); networks created {change.created or 'none'}, grown "
               f"{change.grown or 'none'}, merged {change.merged or 'none'}")


@network_group.command("list")
@format_option("table", "json")
@click.pass_context
def network_list(ctx: click.Context, fmt: str) -> None:
    """Networks, most recently changed first: their sites and how many identifiers tie them."""
    from cases.networks import list_networks
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        rows = [n.to_json() for n in list_networks(session)]
    if fmt == "table":
        for row in rows:
            row["sites"] = ", ".join(row["sites"])
    print_rows(rows, fmt, ["id", "identifiers", "updated_at", "sites"], "network(s)")


@network_group.command("blacklist")
@click.argument("network_id", type=int)
@click.option("--reason", required=True, help="Why (shown on every later finding the entries cause).")
@_BY_OPTION
@click.pass_context
def network_blacklist(ctx: click.Context, network_id: int, reason: str, by: str) -> None:
    """Blacklist a whole network at once: every site and every contact shown on its sites."""
    from cases.networks import blacklist_network
    from storage.db import session_factory, transaction

    settings = settings_from(ctx)
    try:
        with transaction(session_factory(database(settings))) as session:
            added, skipped = blacklist_network(session, network_id, reason=reason, actor=by)
    except LookupError as exc:
        fail(str(exc))
    for line in skipped:
        click.echo(f"  skipped: {line}", err=True)
    click.echo(f"network {network_id}: {len(added)} blacklist entries added ({', '.join(map(str, added)) or 'none'})")


@network_group.command("show")
@click.argument("network_id", type=int)
@format_option("table", "json", "dot")
@click.pass_context
def network_show(ctx: click.Context, network_id: int, fmt: str) -> None:
    """One network: its sites and each identifier that ties them, since when; `dot` for Graphviz."""
    from cases.networks import network_detail
    from outputs import terminal_line
    from storage.db import session_factory

    settings = settings_from(ctx)
    with session_factory(database(settings))() as session:
        try:
            detail = network_detail(session, network_id).to_json()
        except LookupError as exc:
            fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
    elif fmt == "dot":
        def quoted(text: str) -> str:  # crawled values: a quote or backslash must not end the DOT string
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

        lines = [f"graph network_{network_id} {{", "  node [shape=box];"]
        lines += [f"  {quoted(site)};" for site in detail["sites"]]
        for link in detail["links"]:
            identifier = f"{link['kind']}:{link['value']}"
            lines.append(f"  {quoted(identifier)} [shape=ellipse];")
            lines += [f"  {quoted(site)} -- {quoted(identifier)};" for site in link["sites"]]
        click.echo("\n".join([*lines, "}"]))
    else:
        click.echo(terminal_line(f"network {network_id}: {len(detail['sites'])} sites, since {detail['created_at']}"
                                 + (f", absorbed {detail['merged_from']}" if detail["merged_from"] else "")))
        for site in detail["sites"]:
            click.echo(terminal_line(f"  site {site}"))
        for link in detail["links"]:
            click.echo(terminal_line(f"  {link['kind']}:{link['value']} (strength {link['strength']:g}, "
                                     f"since {link['first_seen']}): {', '.join(link['sites'])}"))


@cli.group("demo")
def demo_group() -> None:
    """The local demo web (fixture sites and a mock search engine on loopback)."""


@demo_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, help="0 picks a free port.")
@click.option("--port-file", type=click.Path(path_type=Path), default=None,
              help="Write the real port here once listening.")
def demo_serve(host: str, port: int, port_file: Path | None) -> None:
    """Serve the demo web until stopped (it is also the HTTP proxy the crawler uses)."""
    from demo.server import serve

    serve(host, port, port_file)


@demo_group.command("run")
@click.option("--hostile", is_flag=True, help="Also crawl hostile.test: slow, broken and hostile servers.")
@click.pass_context
def demo_run(ctx: click.Context, hostile: bool) -> None:
    """Start the demo web, scan it, print today's flagged sites and the morning digest, stop it (`make demo`)."""
    config = ctx.obj.get("config_file") or DEMO_CONFIG
    with tempfile.TemporaryDirectory() as tmp, running_demo_web(Path(tmp) / "port") as proxy:
        env = dict(os.environ, PHARMWATCH_CRAWL__PROXY=json.dumps(proxy))
        if hostile:
            # hostile.test links ~40 endpoints: a budget to reach all of them, and tarpits cut short.
            env.update(PHARMWATCH_CRAWL__MAX_PAGES_PER_SITE="60", PHARMWATCH_CRAWL__DOWNLOAD_TIMEOUT="10")
        base = [sys.executable, "-m", "pharmwatch", "--config", str(config)]
        registries = sorted(DEMO_REGISTRY.glob("*.csv"))
        steps = [["db", "upgrade"], *(["registry", "import", path.stem, str(path)] for path in registries),
                 ["scan", *(["--site", "http://hostile.test/"] if hostile else [])], ["report", "daily"],
                 ["alerts", "digest"]]
        for args in steps:
            code = subprocess.call([*base, *args], env=env)
            if code != ExitCode.OK:
                fail(f"`pharmwatch {' '.join(args)}` exited with {code}")
        _print_next_steps(subprocess.run([*base, "case", "list", "--status", "open", "--format", "json"], env=env,
                                          capture_output=True, text=True).stdout, config)


def _print_next_steps(cases_json: str, config: Path) -> None:
    """The commands a supervisor runs next on the riskiest open case (the end of `make demo`)."""
    from rules.model import SEVERITY_RANK

    cases = json.loads(cases_json or "[]")
    if not cases:
        click.echo("no open case: nothing to review")
        return
    case = max(cases, key=lambda c: (SEVERITY_RANK.get(c["risk"], 0), -c["id"]))
    n, prefix = case["id"], f"pharmwatch --config {config}"
    click.echo(f"\nNext steps for case {n} ({case['site']}, risk {case['risk']}):")
    for command in (f"case show {n}", f"case review {n}", f"case confirm {n} --reason '核实：虚假宣传'",
                    f"blacklist add site {case['site']} --reason '案件{n}' --case {n}",
                    f"evidence export --case {n} -o case-{n}.wacz",
                    f"referral create --case {n} --package case-{n}.wacz",
                    f"order create --case {n} --kind correct --deadline YYYY-MM-DD"):
        click.echo(f"  {prefix} {command}")


class running_demo_web:  # noqa: N801 - used as a context manager, reads like one
    """The demo web in a child process, for as long as the `with` block runs."""

    def __init__(self, port_file: Path) -> None:
        self.port_file = port_file
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pharmwatch", "demo", "serve", "--port", "0", "--port-file", str(self.port_file)],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not (self.port_file.exists() and self.port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                fail("the demo web did not start (try `pharmwatch demo serve` to see why)")
            time.sleep(0.05)
        return f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def __exit__(self, *_exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
