"""English texts of the lower layers in the UI's language: tip check outcomes, the reasons an authority is
suggested, and refusals (of `cases/`, `web.auth`, `web.jobs` and the routes' own messages).

Lower layers must not import `web/`, and the CLI prints their English as it is. So they keep returning
English, and this module recognises each known text by its template (the English sentence with `{name}`
holes), which is also its message id in `web/locale/.../messages.po`: `localise(text, language)` finds
the template the text was made from, translates it, and fills the holes, themselves translated when they
hold a status, action, category, authority or a nested message. A text no template matches (a crawler's
error, a new message) is shown as it is, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Final

from cases.referrals import AUTHORITIES
from rules.model import CATEGORY_ZH
from web.i18n import translations

#: The English templates; matched with the most literal text first, so "an entry needs a reason (--reason)"
#: is not read as "{action} needs a reason (--reason)".
TEMPLATES: Final[tuple[str, ...]] = (
    # Tip check outcomes (cases.tips.tip_outcome).
    "HTTP {status_code}, risk {risk}",
    "failed: {error}",
    "not captured by its scan",
    # Why an authority is suggested (cases.referrals.suggest_authorities, create_referral).
    "illegal additives, controlled or banned drugs: {categories}",
    "counterfeit brand-name drugs",
    "the site is hosted outside mainland China",
    "a domestic site selling or advertising drugs unlawfully: close it",
    "paid search ads lead to the site: remove them",
    "false medical advertising",
    "chosen by {actor} (suggested: {authorities})",
    # Case steps (cases.lifecycle).
    "no case {case}",
    "case {case} is {status}: cannot {action} it (needs {statuses}); from {status2}: {actions}",
    "{action} needs a reason (--reason)",
    "case {case} has actions not resolved yet: {pending}; close them first",
    "case {case} is closed: reopen it before assigning it",
    "assign needs a user (--to)",
    "case {case} has no flagging finding of {rules}; its rules: {known}",
    # Referrals (cases.referrals).
    "case {case} is {status}: only a confirmed case is referred",
    "referral {referral} is {status}: cannot mark it {status2} (needs {statuses})",
    "no referral {referral}",
    # Blacklist (cases.blacklist).
    "an entry needs a reason (--reason)",
    "lifting an entry needs a reason (--reason)",
    "'{value}' is not a domain name",
    "a {kind} entry needs a value of 1 to 200 characters",
    "'{value}' is not a {kind} the extractors would recognise",
    "case {case} is {status}: only a confirmed case puts entries on the list",
    "{kind} {value} is already on the list (entry {entry})",
    "no blacklist entry {entry}",
    "entry {entry} was lifted already ({reason})",
    # Tips (cases.tips: "url: '<as given>': <why the URL is refused>").
    "url: '{url}': {why}",
    "url: empty",
    "no host",
    "contains spaces: give the address alone, without other text",
    "scheme '{scheme}' is refused: only http and https",
    "host {host} is a private, loopback or reserved address; tips must point at public sites "
    "(allow networks with [crawl] allow_private)",
    "host '{host}' has no domain (expected a name like example.com)",
    "host '{host}' is not a valid domain name",
    "host '{host}' is not a valid domain name ({reason})",
    # Background work (web.jobs) and the routes' own refusals.
    "{count} checks are running already: try again when one has finished",
    "background work is not available: this server was started without the pharmwatch command "
    "(use `pharmwatch serve`)",
    "tip {tip} recorded, not checked: {message}",
    "tip {tip} was checked already: its result is shown; re-check its site's case, or add the URL again as "
    "a new tip",
    "no tip {tip}",
    "case {case} is closed: reopen it to re-check it",
    "case {case}'s site is in no operator network",
    "case {case} was changed by someone else meanwhile: reload it",
    "'{case}' is not a case number",
    "evidence export needs the pharmwatch command: start the UI with `pharmwatch serve`",
    "the export took longer than {seconds} s",
    "no evidence package: {reason}",
    "the file is larger than {size} MB",
    "bad rows: nothing imported (fix them, or import the good rows with skip_bad)",
    # Scheduled jobs (pharmwatch.schedule_jobs, through web.schedule_desk) and the schedules page.
    "The scheduler's settings are not available to this server (start it with `pharmwatch serve`).",
    "job '{name}' comes from the settings file; change it there, or pause it",
    "--cron '{cron}' is not a cron expression: {reason}",
    "give either --query-set NAME... or --site URL..., not both and not neither",
    "job name '{name}': use letters, digits, '-', '_' or '.' (at most 100)",
    "job '{name}' exists; `pharmwatch schedule remove {name2}` first to replace it",
    "job '{name}' comes from the settings file ({source}); choose another name",
    "--site '{url}': give an http:// or https:// URL",
    # A registry file refused whole, and its rows (cases.registries; a row's problems are joined by "; ").
    "{file}:1: wrong columns for {registry}: {problems}. Expected {required} (required) and {optional} (optional)",
    "unknown column(s) {columns}",
    "missing column(s) {columns}",
    "duplicated column(s) {columns}",
    "number '{value}' is not a {registry} number",
    "number '{value}' is malformed: {reason}",
    "{column} missing",
    "{column} longer than {limit} characters",
    "bad date in {column}: '{value}' (use YYYY-MM-DD)",
    "bad date in {column}: '{value}' is not a day of the calendar",
    "bad status '{value}' (use one of {choices})",
    "bad domain '{value}'",
    "duplicate number {value} (first on line {line})",
    "{count} cells, expected {expected}",
    "valid_from {start} is after valid_to {end}",
    # Accounts (web.auth).
    "the password must have at least {count} characters",
    "user name '{name}': letters, digits, '.', '@', '_' and '-' only, 1-100 characters",
    "user '{name}' exists; `pharmwatch user passwd {name2}` changes the password",
    "user '{name}' is disabled",
    "no user '{name}'; `pharmwatch user list` shows them",
    "an API token needs a name (--name), e.g. the script that uses it",
)

# Holes whose value is a word of the UI (a status, an action, a risk...): translated as a message of its own.
_WORDS: Final = frozenset({"status", "status2", "action", "risk", "kind", "registry"})
# Holes holding a list of such words ("open or under_review", "confirm, dismiss").
_WORD_LISTS: Final = frozenset({"statuses", "actions", "pending"})
# Holes holding another message (a refusal inside a refusal).
_MESSAGES: Final = frozenset({"message", "reason", "why", "problems"})
# Holes that may hold anything; the others hold no ':' or ';', so a message inside a message is not taken
# for a number ("tip 3 recorded, not checked: 3 checks are running already: ...").
_FREE: Final = _MESSAGES | {"error", "url"}
_HOLE: Final = re.compile(r"\{(\w+)\}")
_LIST_SPLIT: Final = re.compile(r", | or ")


@dataclass(frozen=True)
class _Template:
    text: str
    pattern: re.Pattern[str]


def _compile(template: str) -> _Template:
    parts, end = [], 0
    for hole in _HOLE.finditer(template):
        name = hole.group(1)
        parts += [re.escape(template[end:hole.start()]), f"(?P<{name}>{'.+?' if name in _FREE else '[^:;]+?'})"]
        end = hole.end()
    parts.append(re.escape(template[end:]))
    return _Template(template, re.compile("".join(parts), re.DOTALL))


@cache
def _templates() -> tuple[_Template, ...]:
    ordered = sorted(TEMPLATES, key=lambda template: -len(_HOLE.sub("", template)))
    return tuple(_compile(template) for template in ordered)


def localise(text: str | None, language: str) -> str:
    """`text` in `language` when it was made from one of the TEMPLATES; otherwise as it is."""
    if not text or language == "en":
        return text or ""
    gettext = translations(language).gettext
    for template in _templates():
        found = template.pattern.fullmatch(text)
        if found is None:
            continue
        holes = {name: _hole(name, value, language, gettext) for name, value in found.groupdict().items()}
        return gettext(template.text).format(**holes)
    if "; " in text:  # several problems in one line (a registry row, a tip's fields): each on its own
        parts = text.split("; ")
        translated = [localise(part, language) for part in parts]
        if translated != parts:
            return "；".join(translated)
    return text


def _hole(name: str, value: str, language: str, gettext: Callable[[str], str]) -> str:
    if name in _WORDS:
        return gettext(value)
    if name in _WORD_LISTS:
        return "、".join(gettext(word) for word in _LIST_SPLIT.split(value) if word)
    if name == "categories":
        return "、".join(CATEGORY_ZH.get(word, word) for word in value.split(", "))
    if name == "authorities":
        return "、".join(AUTHORITIES.get(word, word) for word in value.split(", "))
    if name in _MESSAGES:
        return localise(value, language)
    return value
