"""WARC records of a capture: what was received, how, from where; readable by standard tools."""

from __future__ import annotations

import io
import json
import zlib

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


def test_the_tls_certificate_summary_goes_into_the_metadata_record() -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from crawler.tls import certificate_summary

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(0xABC).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("shop.example.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    summary = certificate_summary(cert.public_bytes(serialization.Encoding.DER))
    assert summary["common_name"] == "shop.example.com" and summary["dns_names"] == ["shop.example.com"]
    assert summary["serial"] == "abc" and len(summary["sha256"]) == 64
    item = CaptureItem(url="https://shop.example.com/", site="example.com", status_code=200, body=b"<p>x</p>",
                       tls=summary)
    *_, (_, _, _, meta) = records(capture_warc(item))
    assert json.loads(meta)["tls"]["issuer"] == "CN=shop.example.com"
    from crawler.pipelines.store import _certificate  # the capture keeps the fingerprint for operator networks

    assert _certificate(summary) == {"tls_certificate": {"sha256": summary["sha256"],
                                                         "dns_names": ["shop.example.com"]}}
    assert _certificate(None) == {} and _certificate({"error": "certificate present but unreadable"}) == {}


def test_each_record_is_its_own_gzip_member_so_captures_concatenate() -> None:
    item = CaptureItem(url="http://js-shop.test/", site="js-shop.test", rendered=True, status_code=200,
                       body=b"<html>dom</html>", screenshot=b"\x89PNG fake")
    data = capture_warc(item)
    members, rest = 0, data
    while rest:
        member = zlib.decompressobj(zlib.MAX_WBITS + 16)
        text = member.decompress(rest)
        assert text.startswith(b"WARC/1.1\r\n")
        rest, members = member.unused_data, members + 1
    assert members == 3
    assert [t for t, _, _, _ in records(data + data)] == ["resource", "resource", "metadata"] * 2
