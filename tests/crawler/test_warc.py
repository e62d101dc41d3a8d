"""WARC records of a capture: what was received, how, from where; readable by standard tools."""

from __future__ import annotations

import io
import json

from warcio.archiveiterator import ArchiveIterator

from crawler.items import CaptureItem
from crawler.warc import capture_warc


def records(data: bytes) -> list:  # type: ignore[type-arg]
    out = []
    for record in ArchiveIterator(io.BytesIO(data)):
        out.append((record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()))
    return out


def test_a_plain_fetch_becomes_request_response_and_metadata() -> None:
    body = "<p>根治糖尿病</p>".encode()
    item = CaptureItem(url="http://tangan-cure.test/", site="tangan-cure.test", status_code=200, body=body,
                       server_ip="127.0.0.1", request_headers=[("Host", "tangan-cure.test")],
                       response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")])
    (req_type, req_headers, req_http, _), (res_type, res_headers, res_http, payload), (meta_type, _, _, meta) = \
        records(capture_warc(item, user_agent="UA", proxy="http://127.0.0.1:1"))
    assert (req_type, res_type, meta_type) == ("request", "response", "metadata")
    assert req_http.protocol == "GET" and res_http.get_statuscode() == "200"
    assert payload == body  # stored decoded, so the wire encoding header is renamed, not kept
    assert res_http.get_header("Content-Encoding") is None and res_http.get_header("X-Original-Content-Encoding")
    assert res_headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert req_headers.get_header("WARC-Concurrent-To") == res_headers.get_header("WARC-Record-ID")
    assert json.loads(meta)["egress_proxy"] == "http://127.0.0.1:1"


def test_a_rendered_page_keeps_its_dom_and_screenshot_as_resources() -> None:
    item = CaptureItem(url="http://js-shop.test/", site="js-shop.test", rendered=True, status_code=200,
                       body=b"<html>dom</html>", screenshot=b"\x89PNG fake")
    kinds = [(t, h.get_header("Content-Type")) for t, h, _, _ in records(capture_warc(item))]
    assert kinds == [("resource", "text/html; charset=utf-8"), ("resource", "image/png"),
                     ("metadata", "application/json")]


def test_a_failed_fetch_without_a_body_has_no_warc() -> None:
    assert capture_warc(CaptureItem(url="http://x.test/", site="x.test", error="DNSLookupError")) == b""
