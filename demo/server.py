"""The demo web's HTTP server: one loopback server that is every fake ``.test`` site at once.

This module owns serving, not content. It virtual-hosts the fixture sites under ``demo/sites/<domain>/``
by host name and doubles as the HTTP *forward proxy* the crawler (Scrapy, headless Chromium) is pointed
at: proxy requests arrive in absolute form (``GET http://shop.test/p?q HTTP/1.1``) and are routed on the
URL's host; ordinary requests are routed on the ``Host`` header. Nothing is ever forwarded to the real
network: unknown hosts get an immediate 404 and ``CONNECT`` (https tunnelling) gets 501.

Site folders:
- every sub-folder of ``demo/sites`` whose name contains a dot is a site with that host name;
- ``/`` serves ``index.html``, ``/foo`` serves ``foo`` or ``foo.html``, ``/dir/`` serves ``dir/index.html``;
- ``/robots.txt`` allows everything unless the site ships its own;
- an optional ``site.yaml`` holds per-site options (never served)::

      charset: gbk          # text files are stored as UTF-8 and served encoded in this charset
      headers:              # extra response headers for every file of the site
        X-Powered-By: PHP/5.6.40

Source files are always UTF-8 so they stay editable; a site with ``charset: gbk`` is transcoded on the way
out and its ``Content-Type`` says ``charset=gbk``, exactly like a real GBK site.

The host ``search.test`` is delegated to ``demo.search_engine.handle(path_and_query)`` (owned elsewhere),
imported lazily so the server works before that module exists.

API: ``DemoWeb`` (start/stop in a background thread, context manager) and ``serve`` (blocking, for the
CLI and a parent process reading the port file). ``python -m demo.server --port 0 --port-file F``.
``load_manifest``/``DemoSite`` (from ``demo.manifest``) are re-exported for callers' convenience.
"""

from __future__ import annotations

import argparse
import html
import importlib
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from demo import changing, hostile
from demo.manifest import DemoSite, load_manifest  # re-exported: callers import them from here

__all__ = ["DemoSite", "DemoWeb", "load_manifest", "serve", "main"]

SITES_DIR = Path(__file__).with_name("sites")
SEARCH_ENGINE_HOST = "search.test"
SEARCH_ENGINE_MODULE = "demo.search_engine"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

# Text types are served in the site's charset; everything else is sent byte for byte.
# An explicit table, not `mimetypes`, so answers do not depend on the machine's /etc/mime.types.
TEXT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    ".xml": "application/xml",
}
BINARY_TYPES = {
    ".json": "application/json",  # JSON is UTF-8 by definition (RFC 8259): never transcoded
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
}
DEFAULT_ROBOTS = "User-agent: *\nAllow: /\n"
MAX_REQUEST_BODY = 20 * 1024 * 1024

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class SiteConfig:
    """One fixture site: its folder and the options from its optional ``site.yaml``."""

    domain: str
    root: Path
    charset: str = "utf-8"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Headers
    body: bytes


def discover_sites(sites_dir: Path = SITES_DIR) -> dict[str, SiteConfig]:
    """Every sub-folder named like a host (contains a dot) is a site; read its ``site.yaml`` if any."""
    sites: dict[str, SiteConfig] = {}
    if not sites_dir.is_dir():
        return sites
    for folder in sorted(sites_dir.iterdir()):
        if folder.is_dir() and "." in folder.name:
            sites[folder.name.lower()] = _load_site_config(folder)
    return sites


def _load_site_config(folder: Path) -> SiteConfig:
    options_file = folder / "site.yaml"
    options = yaml.safe_load(options_file.read_text(encoding="utf-8")) if options_file.exists() else None
    options = options or {}
    charset = str(options.get("charset", "utf-8"))
    "".encode(charset)  # fail at start-up, not on the first request, if the charset is unknown
    extra = tuple((str(k), str(v)) for k, v in (options.get("headers") or {}).items())
    return SiteConfig(domain=folder.name.lower(), root=folder.resolve(), charset=charset, headers=extra)


# --------------------------------------------------------------------------------------------- routing


def split_target(request_target: str, host_header: str | None) -> tuple[str, str]:
    """Return (authority, path_and_query) for an absolute-form (proxy) or origin-form request."""
    parts = urlsplit(request_target)
    if parts.scheme and parts.netloc:
        path = parts.path or "/"
        return parts.netloc, f"{path}?{parts.query}" if parts.query else path
    return host_header or "", request_target or "/"


def parse_authority(authority: str) -> tuple[str, int | None]:
    """``Shop.TEST:80`` -> (``shop.test``, 80); raises ValueError on a malformed port."""
    parts = urlsplit(f"//{authority}")
    hostname = (parts.hostname or "").rstrip(".")
    return hostname, parts.port


def serve_static(site: SiteConfig, path_and_query: str) -> Reply:
    path = unquote(urlsplit(path_and_query).path) or "/"
    file = _resolve_file(site.root, path)
    if file is None:
        if path == "/robots.txt":
            return _text_reply(200, DEFAULT_ROBOTS, "text/plain", site.charset, site.headers)
        return _not_found(site.charset, site.headers)
    suffix = file.suffix.lower()
    if suffix in TEXT_TYPES:
        text = file.read_text(encoding="utf-8")
        return _text_reply(200, text, TEXT_TYPES[suffix], site.charset, site.headers)
    content_type = BINARY_TYPES.get(suffix, "application/octet-stream")
    if suffix == ".json":
        content_type += "; charset=utf-8"
    return Reply(200, [("Content-Type", content_type), *site.headers], file.read_bytes())


def _resolve_file(root: Path, path: str) -> Path | None:
    """Map a URL path to a file inside ``root``; never outside it, never ``site.yaml``."""
    relative = path.lstrip("/")
    candidates = [relative + "index.html"] if relative == "" or relative.endswith("/") else [
        relative, relative + ".html", relative + "/index.html"]
    for candidate in candidates:
        try:
            file = (root / candidate).resolve()
            if file.is_file() and file.is_relative_to(root) and file != root / "site.yaml":
                return file
        except (OSError, ValueError):  # NUL bytes, over-long names: crawlers and scanners send such paths
            continue
    return None


def _text_reply(status: int, text: str, mime: str, charset: str, extra: tuple[tuple[str, str], ...]) -> Reply:
    # Strict encoding: a character the site's charset cannot carry is a fixture bug, and must fail loudly.
    return Reply(status, [("Content-Type", f"{mime}; charset={charset}"), *extra], text.encode(charset))


def _not_found(charset: str = "utf-8", extra: tuple[tuple[str, str], ...] = ()) -> Reply:
    page = ("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
            "<body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>\n")
    return _text_reply(404, page, "text/html", charset, extra)


def _plain(status: int, message: str) -> Reply:
    return Reply(status, [("Content-Type", "text/plain; charset=utf-8")], (message + "\n").encode("utf-8"))


def call_search_engine(path_and_query: str) -> Reply:
    """Delegate to ``demo.search_engine.handle``; imported per call so the server runs without it."""
    try:
        engine = importlib.import_module(SEARCH_ENGINE_MODULE)
    except ImportError as exc:
        return _plain(503, f"search engine not installed ({exc})")
    status, headers, body = engine.handle(path_and_query)
    # This server owns framing: drop headers that would contradict the Content-Length it sends.
    framing = {"content-length", "transfer-encoding", "connection"}
    kept = [(k, v) for k, v in headers if k.lower() not in framing]
    return Reply(int(status), kept, bytes(body))


def index_page(sites: dict[str, SiteConfig], own_url: str) -> Reply:
    """The server's own home page: which fake sites it hosts and how to reach them."""
    rows = "\n".join(
        f'<li><a href="http://{html.escape(domain)}/">{html.escape(domain)}</a> — '
        f"{html.escape(_site_title(site))}</li>"
        for domain, site in sites.items()
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PharmWatch demo web</title></head>
<body>
<h1>PharmWatch demo web</h1>
<p>Use this server as an HTTP proxy (<code>{html.escape(own_url)}</code>) to reach the fake sites below.
Nothing is forwarded to the real network.</p>
<ul>
{rows}
<li><a href="http://{SEARCH_ENGINE_HOST}/">{SEARCH_ENGINE_HOST}</a> — mock search engine</li>
</ul>
</body></html>
"""
    return _text_reply(200, page, "text/html", "utf-8", ())


def _site_title(site: SiteConfig) -> str:
    index = site.root / "index.html"
    if not index.is_file():
        return ""
    match = re.search(r"<title>(.*?)</title>", index.read_text(encoding="utf-8"), re.S | re.I)
    return " ".join(match.group(1).split()) if match else ""


# --------------------------------------------------------------------------------------------- HTTP


class DemoHTTPServer(ThreadingHTTPServer):
    """Threaded server that knows its sites and can cut idle keep-alive connections on stop."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], sites: dict[str, SiteConfig], verbose: bool = False) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sites = sites
        self.verbose = verbose
        self.hits: Counter[str] = Counter()  # requests answered per host, for tests of routing
        self.changing_state: dict[str, str] = {}  # demo.changing: what each changing site serves now
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, DemoRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall for seconds
        # on machines without DNS; the demo web never needs the name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: socket.socket, client_address: Any) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on idle keep-alive connections (Chromium keeps several open)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def url(self) -> str:
        host = self.server_name
        return f"http://[{host}]:{self.server_port}" if ":" in host else f"http://{host}:{self.server_port}"


class DemoRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PharmWatchDemo/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections end on their own
    server: DemoHTTPServer

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def do_POST(self) -> None:
        # Forms (e.g. the prescription upload) post to a static "submitted" page: read and ignore the body.
        self._drain_body()
        self._dispatch(send_body=True)

    def do_CONNECT(self) -> None:
        # No TLS interception: the fake sites are http:// only. Close: the client may send TLS bytes next.
        self.close_connection = True
        self._send(_plain(501, "CONNECT not supported: the demo web serves http:// only"), send_body=True)

    def _dispatch(self, send_body: bool) -> None:
        authority, path_and_query = split_target(self.path, self.headers.get("Host"))
        self.server.hits[authority.split(":")[0].lower()] += 1
        if authority.split(":")[0].lower().rstrip(".") == hostile.HOST:
            try:
                hostile.respond(self, path_and_query)
            except OSError:
                self.close_connection = True  # the client hung up on a hostile endpoint: expected
            return
        try:
            reply = self._route()
        except Exception:  # a broken fixture or search engine must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            reply = _plain(500, "internal error in the demo web")
        self._send(reply, send_body)

    def _route(self) -> Reply:
        authority, path_and_query = split_target(self.path, self.headers.get("Host"))
        try:
            hostname, port = parse_authority(authority)
        except ValueError:
            return _plain(400, "bad host")
        if hostname == SEARCH_ENGINE_HOST:
            return call_search_engine(path_and_query)
        if hostname in changing.HOSTS:
            return Reply(*changing.respond(self.server.changing_state, hostname, path_and_query))
        site = self.server.sites.get(hostname)
        if site is not None:
            return serve_static(site, path_and_query)
        if self._is_own_address(hostname, port):
            if urlsplit(path_and_query).path == "/":
                return index_page(self.server.sites, self.server.url)
            return _not_found()
        # Unknown host (e.g. Chromium's background requests): answer at once, never forward.
        return _not_found()

    def _is_own_address(self, hostname: str, port: int | None) -> bool:
        if hostname == "":
            return True  # HTTP/1.0 request without Host
        own_names = LOOPBACK_NAMES | {self.server.server_name}
        return hostname in own_names and port == self.server.server_port

    def _drain_body(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True  # not worth decoding: answer, then drop the connection
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = MAX_REQUEST_BODY + 1  # unreadable framing: answer, then drop the connection
        if length < 0 or length > MAX_REQUEST_BODY:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)

    def _send(self, reply: Reply, send_body: bool) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if send_body and reply.body:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from the base class
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


# --------------------------------------------------------------------------------------------- API


class DemoWeb:
    """The demo web in a background thread; ``url`` is what to give the crawler as its HTTP proxy.

    >>> with DemoWeb() as demo:          # starts on 127.0.0.1, a free port
    ...     proxy = demo.url             # e.g. http://127.0.0.1:41234
    """

    def __init__(self, sites_dir: Path = SITES_DIR, *, verbose: bool = False) -> None:
        self.sites_dir = sites_dir
        self.verbose = verbose
        self._server: DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen and serve in a daemon thread; return the real port (useful with ``port=0``)."""
        if self._server is not None:
            raise RuntimeError("DemoWeb is already running")
        self._server = DemoHTTPServer((host, port), discover_sites(self.sites_dir), verbose=self.verbose)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-web", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving, close the listening socket and open connections. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)

    def hits(self, host: str) -> int:
        """Requests this server has answered for `host` (tests check which proxy a request took)."""
        return self._server.hits[host] if self._server else 0

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._require_server().server_port

    @property
    def url(self) -> str:
        return self._require_server().url

    @property
    def hosts(self) -> list[str]:
        """Host names served: every fixture site plus the search engine."""
        return [*self._require_server().sites, SEARCH_ENGINE_HOST]

    def _require_server(self) -> DemoHTTPServer:
        if self._server is None:
            raise RuntimeError("DemoWeb is not running: call start() first")
        return self._server

    def __enter__(self) -> DemoWeb:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, port_file: Path | None = None, *,
          verbose: bool = False, sites_dir: Path = SITES_DIR) -> None:
    """Serve until SIGTERM/SIGINT. Once listening, write the real port to ``port_file`` (atomically, so a
    parent polling for it never reads half a number); remove the file again on a clean stop."""
    stop_requested = threading.Event()
    restore = _install_stop_handlers(stop_requested)
    demo = DemoWeb(sites_dir, verbose=verbose)
    try:
        real_port = demo.start(host, port)
        if port_file is not None:
            _write_atomically(port_file, f"{real_port}\n")
        print(f"demo web listening on {demo.url} (use it as the HTTP proxy)", file=sys.stderr, flush=True)
        while not stop_requested.wait(0.5):  # a timed wait keeps the main thread responsive to signals
            pass
    finally:
        demo.stop()
        restore()
        if port_file is not None:
            port_file.unlink(missing_ok=True)


def _install_stop_handlers(stop_requested: threading.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT set the event; returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals can only be handled in the main thread; the caller stops us

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.server", description="Serve the demo web.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, default=None, help="write the real port here")
    parser.add_argument("-v", "--verbose", action="store_true", help="log one line per request to stderr")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.port_file, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
