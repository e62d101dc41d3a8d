"""Alert channels: SMTP e-mail and webhooks (generic JSON, DingTalk, WeCom, Feishu), built from plain values.

A channel sends one `Outgoing` message or raises `DeliveryError` saying why; errors never carry a URL's
path or query (webhook tokens live there) nor a secret. Every copy of one message carries the same
reference (e-mail `Message-ID`, webhook `Idempotency-Key` header and the JSON `id`), so a receiver can
drop the duplicate an at-least-once outbox may send (alerts.outbox).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol

MESSAGE_KINDS = ("digest", "alert", "test")
WEBHOOK_TYPES = ("json", "dingtalk", "wecom", "feishu")
CHANNEL_TYPES = ("smtp", *WEBHOOK_TYPES)
SMTP_SECURITY = ("starttls", "ssl", "none")

# The vendors' documented size limits of one robot message (bytes of UTF-8); longer text is cut, not refused.
CONTENT_LIMITS = {"dingtalk": 20000, "wecom": 4096, "feishu": 18000}


class DeliveryError(Exception):
    """One attempt failed; the message says why (safe to store and show: no URL path or query, no secret)."""


@dataclass(frozen=True)
class Outgoing:
    """One stored outbox message as channels see it (times UTC)."""

    id: int
    kind: str
    subject: str
    text: str
    html: str | None
    created_at: datetime

    @property
    def reference(self) -> str:
        """The same for every copy of this message: what a receiver deduplicates on."""
        return f"pharmwatch.{self.id}.{self.created_at:%Y%m%d%H%M%S}"


class Channel(Protocol):
    name: str
    kinds: tuple[str, ...]

    def takes(self, kind: str) -> bool: ...

    def send(self, message: Outgoing) -> str | None:
        """Send or raise DeliveryError; may return a note kept with a successful delivery."""
        ...


def _takes(kinds: tuple[str, ...], kind: str) -> bool:
    return not kinds or kind in kinds


@dataclass(frozen=True)
class SmtpChannel:
    """E-mail through an SMTP server: multipart/alternative (text and HTML), UTF-8, a stable Message-ID."""

    name: str
    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 0  # 0: 465 for ssl, 587 for starttls, 25 for none
    security: str = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.security not in SMTP_SECURITY:
            raise ValueError(f"security must be one of {', '.join(SMTP_SECURITY)}, got {self.security!r}")
        if not self.to:
            raise ValueError("an e-mail channel needs at least one recipient")

    def takes(self, kind: str) -> bool:
        return _takes(self.kinds, kind)

    def email(self, message: Outgoing) -> EmailMessage:
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "pharmwatch.invalid"
        email = EmailMessage()
        email["Subject"] = message.subject  # RFC 2047-encoded by the policy when not ASCII
        email["From"] = self.sender
        email["To"] = ", ".join(self.to)
        email["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC))
        email["Message-ID"] = f"<{message.reference}@{domain}>"
        email["X-PharmWatch-Kind"] = message.kind
        # base64: correct through any server (no 8BITMIME needed) and compact for Chinese text.
        email.set_content(message.text, charset="utf-8", cte="base64")
        if message.html:
            email.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
        return email

    def send(self, message: Outgoing) -> str | None:
        email = self.email(message)
        port = self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]
        try:
            client: smtplib.SMTP
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(self.host, port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{port}: {_clip(str(exc) or type(exc).__name__, 300)}") from None
        # Some recipients took it: sending again would give them a second copy, so it counts as sent.
        return f"refused by the server: {', '.join(sorted(refused))}" if refused else None


@dataclass(frozen=True)
class WebhookChannel:
    """An HTTP POST of JSON in one of WEBHOOK_TYPES' documented formats to a configurable URL."""

    name: str
    type: str
    url: str = field(repr=False)
    secret: str = field(default="", repr=False)  # DingTalk and Feishu signing
    timeout: float = 10.0
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in WEBHOOK_TYPES:
            raise ValueError(f"webhook type must be one of {', '.join(WEBHOOK_TYPES)}, got {self.type!r}")
        if urllib.parse.urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"{self.name}: the webhook URL must be http(s)")

    def takes(self, kind: str) -> bool:
        return _takes(self.kinds, kind)

    @property
    def where(self) -> str:
        """The URL without path and query (which carry tokens): all that errors and logs may show."""
        parts = urllib.parse.urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def request(self, message: Outgoing, now: float | None = None) -> tuple[str, dict[str, Any]]:
        """The URL (with DingTalk's signature parameters) and JSON body for this message."""
        now = time.time() if now is None else now
        url, body = self.url, webhook_body(self.type, message)
        if self.type == "dingtalk" and self.secret:
            timestamp = str(int(now * 1000))
            query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(self.secret, timestamp)})
            url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"
        if self.type == "feishu" and self.secret:
            timestamp = str(int(now))
            body = {"timestamp": timestamp, "sign": feishu_sign(self.secret, timestamp), **body}
        return url, body

    def send(self, message: Outgoing) -> str | None:
        url, body = self.request(message)
        request = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8",
                                                  "User-Agent": "PharmWatch-alerts",
                                                  "Idempotency-Key": message.reference})
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"{self.where}: HTTP {exc.code} {_clip(exc.reason or '', 100)}".rstrip()) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(f"{self.where}: {_clip(str(reason) or type(exc).__name__, 300)}") from None
        vendor_error = robot_error(self.type, answer)
        if vendor_error:
            raise DeliveryError(f"{self.where}: {vendor_error}")
        return None


def webhook_body(kind: str, message: Outgoing) -> dict[str, Any]:
    """The JSON body of each webhook format (DingTalk, WeCom, Feishu as their robots document it)."""
    if kind == "json":
        return {"id": message.id, "kind": message.kind, "subject": message.subject, "text": message.text,
                "html": message.html, "created_at": message.created_at.replace(tzinfo=UTC).isoformat()}
    if kind == "dingtalk":
        text = _clip(f"### {markdown_plain(message.subject)}\n\n{markdown_plain(message.text)}", CONTENT_LIMITS[kind])
        return {"msgtype": "markdown", "markdown": {"title": _clip(message.subject, 200), "text": text}}
    if kind == "wecom":
        content = f"**{markdown_plain(message.subject)}**\n{markdown_plain(message.text)}"
        return {"msgtype": "markdown", "markdown": {"content": _clip(content, CONTENT_LIMITS[kind])}}
    if kind == "feishu":
        return {"msg_type": "text",
                "content": {"text": _clip(f"{message.subject}\n\n{message.text}", CONTENT_LIMITS[kind])}}
    raise ValueError(f"unknown webhook type {kind!r}")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def markdown_plain(text: str) -> str:
    """`text` shown as written by a markdown robot: every markup character escaped (crawled text must not
    become a link, an image that loads from the seller's server, or a heading), and each line break kept
    (markdown would join the lines of a paragraph)."""
    return "  \n".join(_MARKDOWN_SPECIAL.sub(r"\\\1", line) for line in text.split("\n"))


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(key=secret, msg="timestamp\\nsecret")); URL-quoted by urlencode."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's signature: base64(HMAC-SHA256(key="timestamp\\nsecret", msg=b""))."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def robot_error(kind: str, answer: bytes) -> str | None:
    """The robot's refusal inside a 2xx answer: DingTalk/WeCom `errcode`, Feishu `code`, when not 0."""
    field_name, text_name = {"dingtalk": ("errcode", "errmsg"), "wecom": ("errcode", "errmsg"),
                             "feishu": ("code", "msg")}.get(kind, (None, None))
    if field_name is None:
        return None
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return None  # not JSON: a relay's plain "ok"; the 2xx stands
    if isinstance(data, dict) and data.get(field_name, 0) not in (0, None):
        return f"{field_name} {data[field_name]}: {_clip(str(data.get(text_name, '')), 200)}"
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be replayed as GET without its body: treat any 3xx as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _clip(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode("utf-8", errors="ignore") + "…"
