"""Renders the outbox's deliveries (`alerts list`): a table for people, or JSON (one array of `delivery_row`s).

Subjects and errors can carry crawled text (a digest names sites and page titles): the table goes through
`outputs.terminal_line`; JSON needs nothing. Times in ISO 8601, in the given timezone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO

from outputs import terminal_line
from storage.models import AlertDelivery

COLUMNS = ["id", "message", "kind", "channel", "state", "attempts", "next_attempt", "subject", "last_error"]


def delivery_row(delivery: AlertDelivery, tz: tzinfo) -> dict[str, Any]:
    message = delivery.message
    waiting = delivery.state in ("pending", "sending")
    return {"id": delivery.id, "message": message.id, "kind": message.kind, "channel": delivery.channel,
            "state": delivery.state, "attempts": delivery.attempts,
            "next_attempt": _local(delivery.next_attempt_at, tz) if waiting else None,
            "sent_at": _local(delivery.sent_at, tz), "created_at": _local(message.created_at, tz),
            "subject": message.subject, "last_error": delivery.last_error, "message_key": message.message_key}


def render_deliveries(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; known: table, json")
    cells = [[_short(terminal_line("-" if row[c] is None else row[c])) for c in COLUMNS] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(COLUMNS)]
    for line in [COLUMNS, *cells]:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() + "\n")
    out.write(f"{len(rows)} deliveries\n")


def _short(cell: str, width: int = 60) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + "…"


def _local(value: datetime | None, tz: tzinfo) -> str | None:
    return None if value is None else value.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="seconds")
