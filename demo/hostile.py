"""The hostile corner of the demo web: `hostile.test`, endpoints named by behaviour.

Illegal sellers' servers are slow, broken or deliberately hostile; the crawler must survive each
of these and record what happened. Unlike the static sites, these endpoints write to the socket
themselves (dripping, stalling, resetting), so they get the request handler, not a Reply.
"""

from __future__ import annotations

import socket
import struct
import time
import zlib
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

HOST = "hostile.test"
CLAIM_HTML = "<p>降糖神丸，根治糖尿病，永不复发，无效退款。</p>\n".encode()

ENDPOINTS = {
    "/huge": "a page of ?mb= megabytes (default 30), full of claims",
    "/gzip-bomb": "a gzip body that inflates to 1 GB",
    "/brotli-bomb": "a brotli body that inflates to 1 GB",
    "/gbk-as-utf8": "GBK bytes declared as UTF-8",
    "/utf8-as-gbk": "UTF-8 bytes declared as GBK",
    "/no-charset": "GBK bytes with no charset anywhere",
    "/mixed-encoding": "UTF-8 and GBK bytes in one page",
    "/unclosed": "malformed HTML: unclosed tags everywhere",
    "/nested": "10,000 nested divs",
    "/pdf": "a PDF served as text/html",
    "/image": "a PNG served as text/html",
    "/many-links": "10,000 links on one page",
    "/calendar": "an endless calendar: every day links to the next (?d=YYYY-MM-DD)",
    "/rate-limited": "429 with Retry-After",
    "/unavailable": "503 with Retry-After",
    "/retry-after": "429 with Retry-After: 2 unless 2 s have passed since the last 429, then the page",
    "/flapping": "500 and 200 in turn",
    "/robots.txt": "garbage, then 400,000 Disallow lines (~10 MB)",
    "/redirect-loop": "redirects to itself",
    "/redirect-chain": "30 hops (?hop=N)",
    "/redirect-private": "redirects to a private address (?to=ADDRESS, default 10.0.0.1)",
    "/slow": "drips one byte a second (a tarpit)",
    "/never": "accepts the request and never answers",
    "/reset": "sends half a body, then resets the connection",
    "/binary": "an executable served as text/html",
    "/js-loop": "JavaScript that never stops running",
    "/js-popups": "JavaScript that opens endless popups and dialogs",
    "/js-busy": "JavaScript that keeps the network busy forever (the claim is in the page)",
    "/js-private": "a page whose images, scripts, frames, fetches and popups point at private addresses",
    "/cloak-private": "a normal page to every other visit, a redirect to a private address to the rest (cloaking)",
}

# Where /js-private's page reaches: none of these may ever be asked for (tests check the proxy's hits).
PRIVATE_TARGETS = ["10.0.0.1", "192.168.1.1", "10.0.0.2", "169.254.169.254", "172.16.0.1"]
CLOAK_TARGET = "10.9.9.9"  # where /cloak-private sends the browser

_CLAIM = "降糖神丸，根治糖尿病，永不复发。"
_flap_count = 0
_cloak_count = 0
_last_refusal: float | None = None  # when /retry-after last refused


def _html_page(body: str) -> str:
    return f"<html><head><title>hostile</title></head><body>{body}</body></html>"


_JS_PAGES = {
    "/js-loop": "<p>加载中</p><script>while (true) {}</script>",
    "/js-popups": ("<p>降糖神丸，根治糖尿病</p><script>setInterval(function () { window.open('/js-popups');"
                   " alert('限时优惠'); confirm('立即购买?'); }, 50);</script>"),
    "/js-busy": ("<p>降糖神丸，根治糖尿病，永不复发</p><script>(function poll() {"
                 " fetch('/js-busy-poll?' + Math.random()).finally(poll); })();</script>"),
    "/js-private": ("<p>降糖神丸，根治糖尿病，永不复发</p><img src='http://10.0.0.1/pixel.png'>"
                    "<script src='http://192.168.1.1/router.js'></script><iframe src='http://10.0.0.2/'></iframe>"
                    "<script>fetch('http://169.254.169.254/latest/meta-data/').catch(function () {});"
                    " window.open('http://172.16.0.1/');</script>"),
}


def respond(handler: BaseHTTPRequestHandler, path_and_query: str) -> None:
    parts = urlsplit(path_and_query)
    query = parse_qs(parts.query)
    path = parts.path
    if path == "/huge":
        megabytes = int(query.get("mb", ["30"])[0])
        _stream(handler, CLAIM_HTML, megabytes * 1024 * 1024)
    elif path == "/robots.txt":
        # Garbage then a flood of rules: a robots.txt that is both broken and huge.
        rules = "".join(f"Disallow: /private/{i}\n" for i in range(400_000)).encode()
        body = b"\x00\xff<html>garbage" * 100 + b"\nUser-agent: *\n" + rules
        _send(handler, 200, [("Content-Type", "text/plain")], body)
    elif path == "/gzip-bomb":
        _send(handler, 200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], _bomb())
    elif path == "/brotli-bomb":
        _send(handler, 200, [("Content-Type", "text/html"), ("Content-Encoding", "br")], _brotli_bomb())
    elif path == "/gbk-as-utf8":
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page(_CLAIM).encode("gbk"))
    elif path == "/utf8-as-gbk":
        _send(handler, 200, [("Content-Type", "text/html; charset=gbk")], _html_page(_CLAIM).encode("utf-8"))
    elif path == "/no-charset":
        _send(handler, 200, [("Content-Type", "text/html")], _html_page(_CLAIM * 3).encode("gbk"))
    elif path == "/mixed-encoding":
        body = _html_page(_CLAIM).encode("utf-8") + "<p>痛风灵，7天根治痛风</p>".encode("gbk")
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], body)
    elif path == "/unclosed":
        body = "<html><body><div><p>" + _CLAIM + "<table><tr><td><b><i>无效退款<span>" * 200
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], body.encode())
    elif path == "/nested":
        body = _html_page("<div>" * 10000 + _CLAIM + "</div>" * 10000)
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], body.encode())
    elif path == "/pdf":
        _send(handler, 200, [("Content-Type", "text/html")], b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 40)
    elif path == "/image":
        _send(handler, 200, [("Content-Type", "text/html")], b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    elif path == "/many-links":
        links = "".join(f'<a href="/many-links/{i}">第{i}页</a> ' for i in range(10000))
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page(links).encode())
    elif path.startswith("/many-links/"):
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page("<p>一页</p>").encode())
    elif path == "/calendar":
        day = _next_day(query.get("d", ["2024-01-01"])[0])
        page = _html_page(f'<p>日历</p><a href="/calendar?d={day}">下一天</a>')
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], page.encode())
    elif path == "/rate-limited":
        _send(handler, 429, [("Retry-After", "3600"), ("Content-Type", "text/plain")], b"slow down")
    elif path == "/unavailable":
        _send(handler, 503, [("Retry-After", "120"), ("Content-Type", "text/plain")], b"maintenance")
    elif path == "/retry-after":
        global _last_refusal
        if _last_refusal is None or time.monotonic() - _last_refusal < 2:  # new, or back too early
            _last_refusal = time.monotonic()
            _send(handler, 429, [("Retry-After", "2"), ("Content-Type", "text/plain")], b"too many requests")
        else:
            _last_refusal = None
            _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page(_CLAIM).encode())
    elif path == "/flapping":
        global _flap_count
        _flap_count += 1
        if _flap_count % 2:
            _send(handler, 500, [("Content-Type", "text/plain")], b"oops")
        else:
            _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page(_CLAIM).encode())
    elif path == "/redirect-loop":
        _send(handler, 302, [("Location", "/redirect-loop")], b"")
    elif path == "/redirect-chain":
        hop = int(query.get("hop", ["0"])[0])
        if hop >= 30:
            _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], b"<p>end of chain</p>")
        else:
            _send(handler, 302, [("Location", f"/redirect-chain?hop={hop + 1}")], b"")
    elif path == "/redirect-private":
        target = query.get("to", ["10.0.0.1"])[0]
        _send(handler, 302, [("Location", f"http://{target}/admin")], b"")
    elif path == "/slow":
        _drip(handler, seconds=120)
    elif path == "/never":
        _stall(handler, seconds=120)
    elif path == "/reset":
        _reset(handler)
    elif path in _JS_PAGES:
        page = f"<html><head><meta charset='utf-8'><title>{path}</title></head><body>{_JS_PAGES[path]}</body></html>"
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], page.encode())
    elif path == "/cloak-private":
        global _cloak_count
        _cloak_count += 1
        if _cloak_count % 2:
            _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")], _html_page(_CLAIM).encode())
        else:
            _send(handler, 302, [("Location", f"http://{CLOAK_TARGET}/admin")], b"")
    elif path == "/js-busy-poll":
        time.sleep(0.2)
        _send(handler, 200, [("Content-Type", "text/plain")], b"ok")
    elif path == "/binary":
        _send(handler, 200, [("Content-Type", "text/html")], b"MZ\x90\x00" + bytes(range(256)) * 64)
    else:
        links = "".join(f'<li><a href="{p}">{p}</a> {d}</li>' for p, d in ENDPOINTS.items())
        _send(handler, 200, [("Content-Type", "text/html; charset=utf-8")],
              f"<html><head><title>hostile.test</title></head><body><ul>{links}</ul></body></html>".encode())


def _send(handler: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _stream(handler: BaseHTTPRequestHandler, chunk: bytes, total: int) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(total))
    handler.end_headers()
    block = chunk * (65536 // len(chunk) + 1)
    sent = 0
    try:
        while sent < total:
            piece = block[: min(len(block), total - sent)]
            handler.wfile.write(piece)
            sent += len(piece)
    except OSError:
        handler.close_connection = True  # the crawler stopped reading: that is the point


@lru_cache(maxsize=1)
def _bomb() -> bytes:
    """~1 MB of gzip that inflates to 1 GB, built in chunks so the server never holds the 1 GB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    zeros = b"\0" * (1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(1024)) + compressor.flush()


@lru_cache(maxsize=1)
def _brotli_bomb() -> bytes:
    import brotli

    compressor = brotli.Compressor(quality=5)
    zeros = b"\0" * (1024 * 1024)
    return b"".join(compressor.process(zeros) for _ in range(1024)) + compressor.finish()


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    try:
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    except ValueError:
        return "2024-01-01"


def _drip(handler: BaseHTTPRequestHandler, seconds: int) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(seconds))
    handler.end_headers()
    handler.close_connection = True
    try:
        for _ in range(seconds):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        pass


def _stall(handler: BaseHTTPRequestHandler, seconds: int) -> None:
    handler.close_connection = True
    deadline = time.monotonic() + seconds
    handler.connection.settimeout(1)
    while time.monotonic() < deadline:
        try:
            if handler.connection.recv(1, socket.MSG_PEEK) == b"":
                return  # the client gave up
        except TimeoutError:
            continue
        except OSError:
            return
        time.sleep(1)


def _reset(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(CLAIM_HTML * 10)
    handler.wfile.flush()
    handler.close_connection = True
    # SO_LINGER 0: close() sends RST instead of FIN, a reset mid-body.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
