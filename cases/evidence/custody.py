"""Chain of custody inside a package (`evidence/custody.json`): every event from capture to export.

Events come from the audit log (who, when, what, with the log's own hashes) plus the export
itself. They are chained again here, each entry hashing the previous entry, because the audit
log's chain runs over all cases and a package only carries this case's events: the package's
own chain proves order and completeness of what it carries; the audit hashes let anyone with
the database match each entry to the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hashchain import GENESIS, link_hash

FORMAT = "pharmwatch-custody-1"


def iso_utc(value: object) -> str:
    """ISO 8601 in UTC with `Z`; naive datetimes are UTC (that is how the database stores them)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return str(value)


def jsonable(value: object) -> Any:
    """Plain JSON values (datetimes as UTC ISO strings) so the canonical form is stable."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The entry's link in the package's chain: its previous hash and every field but `prev` and `hash`."""
    return link_hash(entry["prev"], {k: v for k, v in entry.items() if k not in ("prev", "hash")})


def chain_events(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Custody entries from events with `at`, `actor`, `action`, `subject`, `details` and optionally the
    audit log's `hash`/`prev_hash` (or `audit_hash`/`audit_prev_hash`) and `id`."""
    out: list[dict[str, Any]] = []
    prev = GENESIS
    for seq, event in enumerate(events, start=1):
        missing = [k for k in ("at", "actor", "action", "subject") if not event.get(k)]
        if missing:
            raise ValueError(f"custody event {seq} lacks {', '.join(missing)}")
        entry: dict[str, Any] = {
            "seq": seq, "at": iso_utc(event["at"]), "actor": str(event["actor"]), "action": str(event["action"]),
            "subject": str(event["subject"]), "details": jsonable(event.get("details") or {}),
        }
        for ours, theirs in (("audit_id", "id"), ("audit_hash", "hash"), ("audit_prev_hash", "prev_hash")):
            value = event.get(ours, event.get(theirs))
            if value is not None:
                entry[ours] = jsonable(value)
        entry["prev"] = prev
        entry["hash"] = entry_hash(entry)
        prev = entry["hash"]
        out.append(entry)
    return out


def custody_document(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "genesis": GENESIS, "head": entries[-1]["hash"] if entries else GENESIS,
            "events": entries}


def check_custody(document: Any) -> list[str]:
    """Problems in a custody document's chain (empty when every entry chains to the previous one)."""
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("events"),
                                                                                          list):
        return [f"not a {FORMAT} document"]
    problems, prev = [], GENESIS
    for index, entry in enumerate(document["events"], start=1):
        if not isinstance(entry, dict) or entry.get("seq") != index:
            problems.append(f"event {index} is missing or out of order")
            break
        if entry.get("prev") != prev or entry.get("hash") != entry_hash({**entry, "prev": entry.get("prev")}):
            problems.append(f"event {index} ({entry.get('action')} {entry.get('subject')}) does not chain")
        prev = entry.get("hash", "")
    if document.get("head") != prev:
        problems.append("the chain's head is not its last event (events were removed or added)")
    return problems
