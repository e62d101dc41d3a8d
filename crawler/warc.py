"""WARC records for one capture (warcio): the evidentiary copy of what was fetched, and how.

A plain fetch becomes a `request` and a `response` record (HTTP headers and body as received);
a Chromium-rendered page becomes `resource` records of the rendered DOM and of the full-page
screenshot, since the browser's view is derived, not received. Every capture also gets a
`metadata` record (server IP, time, crawler version, user agent, egress proxy, TLS certificate). Records of one
capture are concatenated gzip members: WARC files can be joined by plain concatenation. Each member is
compressed at zlib's default level (`GZIP_LEVEL`), not warcio's 9: on a full-page screenshot level 9 took
about a second of CPU for some 7% fewer bytes.
"""

from __future__ import annotations

import io
import json
import zlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.items import CaptureItem

CRAWLER_VERSION = "pharmwatch/0.1.0"
GZIP_LEVEL = 6
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 403: "Forbidden",
            404: "Not Found", 410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


def capture_warc(item: CaptureItem, *, user_agent: str = "", proxy: str = "") -> bytes:
    """The WARC bytes for one capture; empty when nothing was received."""
    if item.body is None and item.screenshot is None:
        return b""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.1")  # builds the records; each is written below
    url = item.final_url or item.url
    date = _warc_date(item.fetched_at)
    common = {"WARC-Date": date}
    if item.server_ip:
        common["WARC-IP-Address"] = item.server_ip
    if item.rendered:
        records = [writer.create_warc_record(
            url, "resource", payload=io.BytesIO(item.body or b""),
            warc_content_type="text/html; charset=utf-8",
            warc_headers_dict={**common, "WARC-Resource-Type": "rendered-dom"},
        )]
        if item.screenshot:
            records.append(writer.create_warc_record(
                f"urn:pharmwatch:screenshot:{url}", "resource", payload=io.BytesIO(item.screenshot),
                warc_content_type="image/png", warc_headers_dict={**common, "WARC-Refers-To-Target-URI": url},
            ))
    else:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", item.request_headers or [("Host", parts.netloc)],
                                          is_http_request=True),
            warc_headers_dict=dict(common),
        )
        status = item.status_code or 0
        response = writer.create_warc_record(
            url, "response", payload=io.BytesIO(item.body or b""),
            http_headers=StatusAndHeaders(f"{status} {_REASONS.get(status, 'Unknown')}",
                                          _without_framing(item.response_headers), protocol="HTTP/1.1"),
            warc_headers_dict=dict(common),
        )
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        records = [request, response]
    metadata = {
        "url": item.url, "final_url": url, "fetched_at": date, "server_ip": item.server_ip,
        "rendered": item.rendered, "status_code": item.status_code, "truncated": item.truncated,
        "crawler": CRAWLER_VERSION, "user_agent": user_agent, "egress_proxy": proxy or None,
        "tls": item.tls,
    }
    records.append(writer.create_warc_record(
        url, "metadata", payload=io.BytesIO(json.dumps(metadata, ensure_ascii=False).encode("utf-8")),
        warc_content_type="application/json",
        warc_headers_dict={**common, "WARC-Concurrent-To": records[0].rec_headers.get_header("WARC-Record-ID")},
    ))
    for record in records:  # one gzip member per record
        plain = io.BytesIO()
        WARCWriter(plain, gzip=False, warc_version="1.1").write_record(record)
        member = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        out.write(member.compress(plain.getvalue()) + member.flush())
    return out.getvalue()


def _without_framing(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The body is stored decoded (Scrapy removes transfer and content encodings), so the headers
    that describe the wire framing would misdescribe it; they are kept under an X- name."""
    out = []
    for name, value in headers:
        if name.lower() in {"content-encoding", "transfer-encoding", "content-length"}:
            out.append((f"X-Original-{name}", value))
        else:
            out.append((name, value))
    return out


def _warc_date(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
