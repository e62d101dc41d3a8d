"""Text extraction from real-looking markup: scopes, invisible content, charsets."""

from __future__ import annotations

from crawler.extract import decode_html, extract_document

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


def test_scripts_styles_and_noscript_are_not_page_text() -> None:
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
