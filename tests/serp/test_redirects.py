"""Tests of crawler.serp.redirects: reading target URLs out of click-tracking links, offline."""

from __future__ import annotations

import base64

import pytest

from crawler.serp.redirects import RedirectRule, as_url, host_matches, resolve_redirect

BING_CK = RedirectRule("/ck/a", "u", ("*.bing.com",), "base64url", "a1")
SO_ECLK = RedirectRule("/search/eclk", "aurl", ("e.so.com",), "base64url")
GOOGLE_URL = RedirectRule("/url", "q", ("google.com", "*.google.com"))


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_bing_ck_link_a1_base64url() -> None:
    target = "https://www.example.com/a/b?x=1&y=%E4%B8%AD"
    link = f"https://cn.bing.com/ck/a?!&&p=abc&ptn=3&ver=2&hsh=3&u=a1{b64url(target)}&ntb=1"
    assert resolve_redirect(link, [BING_CK]) == target


def test_google_url_q_plain() -> None:
    link = "https://www.google.com.hk/url?q=https://www.example.com/x%3Fa%3D1&sa=U&ved=2ahU"
    rule = RedirectRule("/url", "q", ("*.google.com.hk",))
    assert resolve_redirect(link, [rule]) == "https://www.example.com/x?a=1"


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(b"https://lp.example/?a=1").decode(),  # standard alphabet with padding
        base64.b64encode(b"https://lp.example/?a=1").decode().rstrip("="),  # padding dropped
        base64.b64encode(b"https://lp.example/?a=1").decode().replace("=", "%3D"),  # padding encoded
    ],
)
def test_360_aurl_base64_variants(value: str) -> None:
    link = f"https://e.so.com/search/eclk?p=opaque&aurl={value}&sig=1"
    assert resolve_redirect(link, [SO_ECLK]) == "https://lp.example/?a=1"


def test_a_plus_turned_into_a_space_still_decodes() -> None:
    target = "https://lp.example/?q=~~~"  # its base64 has a "+"
    encoded = base64.b64encode(target.encode()).decode()
    assert "+" in encoded
    assert resolve_redirect(f"https://e.so.com/search/eclk?aurl={encoded}", [SO_ECLK]) == target


def test_nested_tracking_links_are_followed() -> None:
    landing = "http://lp.example/tnb.html"
    eclk = "https://e.so.com/search/eclk?p=x&aurl=" + base64.b64encode(landing.encode()).decode()
    percent = eclk.replace(":", "%3a").replace("/", "%2f").replace("?", "%3f").replace("&", "%26").replace("=", "%3d")
    link = "https://www.bing.com/aclick?ld=1&u=" + base64.b64encode(percent.encode()).decode()
    rule = RedirectRule("/aclick", "u", ("*.bing.com",), "base64url", "a1")
    assert resolve_redirect(link, [rule, SO_ECLK]) == landing


@pytest.mark.parametrize(
    "link",
    [
        "https://www.baidu.com/link?url=Fq3cNvW1uG8pV6pV8bQ2ktuGFv3lTxW6",  # no rule for it
        "https://cn.bing.com/ck/a?!&&p=abc&u=a1%%%notbase64&ntb=1",  # not decodable
        "https://cn.bing.com/ck/a?u=a1" + b64url("/search?q=relative"),  # decodes to a relative path
        "https://evil.example/ck/a?u=a1" + b64url("https://x.example/"),  # wrong host
        "https://cn.bing.com/ck/b?u=a1" + b64url("https://x.example/"),  # wrong path
        "https://www.google.com/url?q=/search%3Fq%3Dx",  # Google's internal links
        "http://[::1",  # malformed
        "",
    ],
)
def test_links_without_a_readable_target(link: str) -> None:
    assert resolve_redirect(link, [BING_CK, GOOGLE_URL]) is None


def test_a_plain_url_is_taken_whatever_the_declared_encoding() -> None:
    link = "https://cn.bing.com/ck/a?u=https%3A%2F%2Fplain.example%2F"
    assert resolve_redirect(link, [BING_CK]) == "https://plain.example/"


def test_applies_to_knows_opaque_tracking_links() -> None:
    assert SO_ECLK.applies_to("http://e.so.com/search/eclk?p=opaque")
    assert not SO_ECLK.applies_to("https://www.example.com/search/eclk?p=opaque")
    assert not SO_ECLK.applies_to("http://[::1")


def test_as_url() -> None:
    assert as_url("https%3A%2F%2Fa.example%2Fx") == "https://a.example/x"
    assert as_url(" http://a.example ") == "http://a.example"
    assert as_url("javascript:alert(1)") is None
    assert as_url("https://") is None
    assert as_url(None) is None


def test_host_matches() -> None:
    assert host_matches("cn.bing.com", ["*.bing.com"])
    assert host_matches("bing.com", ["*.bing.com"])
    assert host_matches("WWW.SO.COM.", ["www.so.com"])
    assert not host_matches("notbing.com", ["*.bing.com"])
    assert not host_matches("so.com.evil.example", ["so.com"])
