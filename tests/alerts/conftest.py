"""Loopback receivers for the alert channels: a real SMTP server (aiosmtpd) and an HTTP webhook receiver
whose answers are scripted per path (HTTP 500, a 200 carrying a robot's errcode, then success).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from storage import db
from tests.databases import database_url


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    accepted: bool  # answered with success (2xx and no errcode)


@dataclass
class WebhookReceiver:
    """Records every POST; answers each path from its script, then with `ok` answers."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, path: str, *answers: tuple[int, str]) -> None:
        self.scripts[path] = list(answers)

    def accepted(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path and r.accepted]


OK_ANSWERS = {"/dingtalk": '{"errcode":0,"errmsg":"ok"}', "/wecom": '{"errcode":0,"errmsg":"ok"}',
              "/feishu": '{"code":0,"msg":"success","data":{}}'}


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
            with receiver.lock:
                script = receiver.scripts.get(parts.path, [])
                status, answer = script.pop(0) if script else (200, OK_ANSWERS.get(parts.path, '{"ok":true}'))
                data = json.loads(answer)
                failed = status >= 300 or data.get("errcode", 0) != 0 or data.get("code", 0) != 0
                receiver.requests.append(Received(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                                  dict(self.headers), body, accepted=not failed))
            raw = answer.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield receiver
    server.shutdown()
    server.server_close()


class Mailbox:
    """aiosmtpd handler keeping every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with socket.socket() as probe:  # aiosmtpd needs a port number, not 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, mailbox)
    controller.stop()


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = database_url(tmp_path)
    db.upgrade(url)
    return db.session_factory(db.make_engine(url))
