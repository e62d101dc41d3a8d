"""Text extraction from real-looking markup: scopes, invisible content, charsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.charset import decode_html
from crawler.extract import extract_document, has_visible_text, visible_text_length

PAGE = """<html><head><title>降糖神丸 官方商城</title>
<meta name="description" content="三天降糖，告别胰岛素">
<style>.x{color:red}</style><script>var claim = "脚本里的字不算";</script></head>
<body><div class="nav">首页 | 产品</div><p>根治   糖尿病&nbsp;永不复发</p>
<img src="a.png" alt="国食健注G20190123"><noscript>请开启JavaScript</noscript></body></html>"""


def scope_text(document, scope: str) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(document.text[s.start:s.end] for s in document.sections if s.scope == scope)


def test_title_meta_body_and_alt_are_separate_scopes() -> None:
    document = extract_document(PAGE, "http://js-shop.test/")
    assert scope_text(document, "title") == "降糖神丸 官方商城"
    assert scope_text(document, "meta") == "三天降糖，告别胰岛素"
    assert "根治 糖尿病 永不复发" in scope_text(document, "body")
    assert scope_text(document, "alt") == "国食健注G20190123"
    assert scope_text(document, "url") == "http://js-shop.test/"


def test_scripts_styles_and_noscript_are_not_page_text() -> None:  # (noscript: unless the body is empty)
    text = extract_document(PAGE).text
    assert "脚本里的字不算" not in text and "color:red" not in text and "JavaScript" not in text


def test_gbk_bytes_declared_as_gb2312_keep_gbk_only_characters() -> None:
    body = '<html><head><meta charset="gb2312"></head><body>堃康降压丸 根治高血压</body></html>'.encode("gbk")
    assert "堃康降压丸" in decode_html(body)
    assert "堃康降压丸" in decode_html(body, content_type="text/html; charset=gbk")


def test_inline_tags_do_not_split_a_claim_but_blocks_and_breaks_do() -> None:
    html = ("<div><b>根治</b>糖尿病，<span>告别</span><em>胰岛素</em></div><p>第二段</p>第三<br>行"
            "<table><tr><td>价格</td><td>¥68</td></tr></table>")
    lines = extract_document(html).text.split("\n")
    assert "根治糖尿病，告别胰岛素" in lines
    assert "第二段" in lines and "第三" in lines and "行" in lines
    assert "价格 ¥68" in lines


def test_misdeclared_and_undeclared_chinese_charsets_are_repaired() -> None:
    page = "<html><body><p>降糖神丸，根治糖尿病，堃康</p></body></html>"
    assert "根治糖尿病" in decode_html(page.encode("gbk"), content_type="text/html; charset=utf-8")
    assert "根治糖尿病" in decode_html(page.encode("utf-8"), content_type="text/html; charset=gbk")
    assert "堃康" in decode_html(page.encode("gbk"))  # no charset anywhere
    mixed = page.encode("utf-8") + "<p>痛风灵</p>".encode("gbk")
    assert "根治糖尿病" in decode_html(mixed, content_type="text/html; charset=utf-8")
    assert "Café" in decode_html("<p>Café</p>".encode("latin-1"), content_type="text/html; charset=iso-8859-1")


def test_a_western_server_default_does_not_hide_a_chinese_page() -> None:
    page = "<html><body><p>降糖神丸，根治糖尿病，堃康 国药准字Z23021657</p></body></html>"
    # Tomcat and old IIS set charset=ISO-8859-1 whatever the page is; the page's own <meta> wins.
    assert "根治糖尿病" in decode_html(page.encode("gbk"), content_type="text/html; charset=ISO-8859-1")
    meta = b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' + page.encode("gbk")
    assert "堃康" in decode_html(meta, content_type="text/html; charset=iso-8859-1")
    # An unknown charset name counts as none (it used to fall through to a Korean guess).
    assert "根治糖尿病" in decode_html(page.encode("gbk"), content_type="text/html; charset=utf8mb4")
    assert "根治糖尿病" in decode_html(b'<meta charset="gbk2312">' + page.encode("gbk"))
    # A genuine Western page stays Western.
    western = "<p>Café crème brûlée à la carte ©2019 été</p>".encode("latin-1")
    assert "brûlée" in decode_html(western, content_type="text/html; charset=iso-8859-1")
    assert "brûlée" in decode_html(western)


def test_boms_utf16_big5_and_mostly_utf8_bodies() -> None:
    page = "<p>互联网药品信息服务资格证书：（京）-经营性-2019-0012</p>"
    assert decode_html(page.encode("utf-16")) == page
    assert decode_html(page.encode("utf-16-le")) == page  # no BOM
    assert decode_html(page.encode("utf-16-be")) == page
    assert decode_html(b'<meta charset="utf-16">' + page.encode()) == '<meta charset="utf-16">' + page
    big5 = "<p>國藥準字 根治糖尿病 香港 網上藥店 價格</p>"
    assert decode_html(big5.encode("big5")) == big5  # undeclared Big5 (Hong Kong / Taiwan mirrors)
    # UTF-8 with a stray byte or cut in the middle of a character: still UTF-8, whatever is declared.
    body = (page * 3).encode()
    assert page in decode_html(body + b"\xff", content_type="text/html; charset=gbk")
    assert page in decode_html(body + "国".encode()[:2])
    # GBK cut in the middle of a character (the fetch limit), undeclared or under a Western default.
    gbk = ("<p>降糖神丸，根治糖尿病，堃康 互联网药品信息服务资格证书 北京市朝阳区</p>" * 3).encode("gbk")
    assert "北京市朝阳区" in decode_html(gbk[:-3])
    assert "北京市朝阳区" in decode_html(gbk[:-3], content_type="text/html; charset=iso-8859-1")


def test_title_meta_and_alt_are_one_line_each() -> None:
    html = ("<html><head><title>【\n      琥珀酸美托洛尔缓释片\n   47.5mg】价格</title>"
            '<meta name="Description" content="药房网提供\n  琥珀酸美托洛尔缓释片"></head>'
            '<body><img alt="国食健注\nG20190123"><pre>第一行\n第二行</pre></body></html>')
    document = extract_document(html)
    assert scope_text(document, "title") == "【 琥珀酸美托洛尔缓释片 47.5mg】价格"
    assert scope_text(document, "meta") == "药房网提供 琥珀酸美托洛尔缓释片"
    assert scope_text(document, "alt") == "国食健注 G20190123"
    assert "第一行\n第二行" in scope_text(document, "body")  # <pre> keeps its line breaks


@given(st.binary(max_size=3000), st.one_of(st.none(), st.sampled_from(
    ["text/html", "text/html; charset=gbk", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
     "text/html; charset=utf-16", "text/html; charset=big5", "text/html; charset=nonsense", "text/html; charset="])))
@settings(max_examples=300, deadline=None)
def test_decode_html_never_raises_on_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(body, content_type=content_type), str)


_TAGS = st.sampled_from(["p", "div", "span", "b", "br", "td", "tr", "table", "pre", "script", "style", "noscript",
                         "title", "meta", "img", "a", "li", "svg", "template", "textarea", "head", "body", "html"])
_MARKUP = st.lists(
    st.one_of(
        st.text(max_size=30),
        _TAGS.map(lambda t: f"<{t}>"),
        _TAGS.map(lambda t: f"</{t}>"),
        st.sampled_from(['<img alt="国药准字H2004\n1126">', '<meta name="description" content="根治\n糖尿病">',
                         "<!-- c -->", "<![CDATA[x]]>", "<?xml version='1.0'?>", "<!DOCTYPE html>", "&nbsp;",
                         "&#22269;", "&#xD800;", "<", ">", "&", '<a title="x', "\x00", "\ufeff"]),
    ),
    max_size=60,
).map("".join)


@given(_MARKUP)
@settings(max_examples=300, deadline=None)
def test_visible_text_extraction_never_raises_on_arbitrary_markup(html: str) -> None:
    document = extract_document(html, "http://shop.test/")
    for section in document.sections:
        assert 0 <= section.start <= section.end <= len(document.text)
    assert "\n\n" not in scope_text(document, "body")


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_decoding_then_extracting_arbitrary_bytes_never_raises(body: bytes) -> None:
    extract_document(decode_html(body))


def test_form_controls_show_their_labels_and_prefilled_text_but_hidden_fields_stay_out() -> None:
    html = ('<body><form><input type="hidden" name="control" value="04495d36d9d0a49f369c76d55faa467d">'
            '<input type="hidden" name="name" value="10 x Sildenafil 100mg Pills">'
            '<input type="password" value="secret"><input type="checkbox" value="on">'
            '<input type ="submit" value="Buy Now" name="order"><input type="BUTTON" value="加入购物车">'
            '<button>立即购买</button></form>'
            '<p>微信号：<input type="text" readonly id="wx" value="kf-abc123"><a>复制</a></p>'
            '<input value="东阿阿胶 赠打粉机"><input type="image" src="buy.png" alt="立即订购"></body>')
    document = extract_document(html)
    body = scope_text(document, "body")
    assert "Buy Now 加入购物车" in body and "立即购买" in body.split("\n")
    assert "微信号： kf-abc123 复制" in body.split("\n")
    assert "东阿阿胶 赠打粉机" in body
    for hidden in ("04495d36", "Sildenafil", "secret", "on"):
        assert hidden not in body
    assert scope_text(document, "alt") == "立即订购"


def test_image_titles_unicode_spaces_and_data_blobs() -> None:
    html = ('<body><p>客服&emsp;电话&ensp;：400&thinsp;612&#8203;3456&nbsp;&nbsp;|&#12288;QQ</p>'
            '<img src="icp.png" title="粤ICP备10212320号-1"><img src="x.png" alt="红盾" title="红盾">'
            '<div style="display:none">{"adList":[{"adname":"0318会员日","picturelink":"http://x/1.html",'
            '"priority":1765,"tishi":""}],"code":"index_dropdownAD_small"}</div>'
            '<p>[{"gift": "买二送一"}] 不是数据的方括号</p></body>')
    document = extract_document(html)
    body = scope_text(document, "body")
    assert body.split("\n")[0] == "客服 电话 ：400 612\u200b3456 | QQ"
    assert "adList" not in body and "会员日" not in body
    assert "不是数据的方括号" in body  # text around brackets is text
    assert scope_text(document, "alt") == "粤ICP备10212320号-1\n红盾"


def test_a_script_built_page_is_read_from_its_noscript_fallback() -> None:
    html = ('<html><head><title>降糖神丸</title></head><body><div id="app"></div>'
            '<noscript><p>根治糖尿病 ¥398 立即购买</p><img src="//pixel.test/a.gif"></noscript>'
            '<script>render()</script></body></html>')
    assert scope_text(extract_document(html), "body") == "根治糖尿病 ¥398 立即购买"
    # With a body of its own, a page's <noscript> ("please enable JavaScript", pixels) is not its text.
    assert "JavaScript" not in extract_document(PAGE).text


def test_links_side_by_side_are_separate_words() -> None:
    # A hospital's disease menu: <a>s with no space between them in the markup are separate boxes on screen.
    html = '<div><a href="/">银屑病(牛皮癣)</a><a href="">白癜风</a><!-- x --><a href="">斑秃</a></div>'
    assert extract_document(html).text == "银屑病(牛皮癣) 白癜风 斑秃"
    # Inline emphasis and a link followed by text stay one phrase.
    assert extract_document("<p><b>根治</b>糖尿病，<a href='/'>点击</a>咨询</p>").text == "根治糖尿病，点击咨询"


def test_a_page_nested_deeper_than_the_parser_allows_keeps_all_its_text() -> None:
    # libxml2 stops at 2,048 open elements; a browser keeps the text (Chromium flattens past 512).
    nested = "<div>" * 20_000 + "根治糖尿病" + "</div>" * 20_000
    document = extract_document(f"<html><body><p>前言</p>{nested}<p>联系微信 abc123</p></body></html>")
    assert document.text.split("\n") == ["前言", "根治糖尿病", "联系微信 abc123"]


def test_declarations_in_already_decoded_text_do_not_decode_it_again() -> None:
    # The page was decoded (crawler.charset); its own declarations name the bytes it came in, not this text.
    for head in ('<?xml version="1.0" encoding="gbk"?>', '<meta charset="big5">', ""):
        assert extract_document(f"{head}<html><body><p>降压灵 根治高血压</p></body></html>").text == "降压灵 根治高血压"


def test_ruby_annotations_are_not_page_words() -> None:
    html = "<p><ruby>降<rp>(</rp><rt>jiàng</rt><rp>)</rp>压<rt>yā</rt></ruby>神药</p>"
    assert extract_document(html).text == "降压神药"


# The spider's "built by scripts?" check stops counting once a page has enough text; its answer must be the
# full extraction's, on every page we have (demo web, reference pages, SERP and regression fixtures) ...
_PAGES = sorted([*Path(__file__).parents[2].joinpath("demo").rglob("*.html"),
                 *Path(__file__).parents[1].rglob("*.html")])


@pytest.mark.parametrize("at_least", [0, 1, 20, 200, 1000, 5000])
def test_has_visible_text_agrees_with_the_full_extraction_on_every_fixture_page(at_least: int) -> None:
    assert len(_PAGES) > 50
    for page in _PAGES:
        html = decode_html(page.read_bytes())
        assert has_visible_text(html, at_least) == (visible_text_length(html) >= at_least), page


# ... and on arbitrary markup: data blobs, invisible elements, tails, inputs, noscript, no body.
@given(_MARKUP, st.integers(min_value=0, max_value=80))
@settings(max_examples=400, deadline=None)
def test_has_visible_text_agrees_with_the_full_extraction_on_arbitrary_markup(html: str, at_least: int) -> None:
    assert has_visible_text(html, at_least) == (visible_text_length(html) >= at_least)


def test_a_page_whose_only_text_is_a_data_blob_has_no_visible_text() -> None:
    blob = '{"sku": "A1", "name": "降糖神丸", "price": "99", "stock": "12", "tags": ["根治", "糖尿病"]}'
    html = f"<html><body><script>app()</script><div id='state'>{blob}</div><p>加载中</p></body></html>"
    assert visible_text_length(html) < 20
    assert not has_visible_text(html, 20)
    assert has_visible_text(html.replace("加载中", "加载中" * 10), 20)
