"""Tests of crawler/serp/engines/sogou.yaml on Sogou fixtures (current vrwrap markup, older rb and GBK pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.serp import parse_file, parse_serp

SOGOU = Path(__file__).parents[1] / "fixtures" / "sogou"


def test_ads_top_and_bottom_and_organic() -> None:
    page = parse_file(SOGOU / "ads_top_bottom.html")  # no URL: detected from its markers
    assert (page.engine, page.query, page.page) == ("sogou", "降糖药", 1)
    assert not page.blocked and not page.no_results and page.parse_error is None
    assert [(a.rank, a.ad_position, a.ad_label, a.advertiser) for a in page.ads] == [
        (1, "top", "推广", "广州糖安生物科技有限公司"),
        (2, "top", "广告", "南宁本草堂健康咨询有限公司"),  # the span before the label
        (3, "bottom", "推广", "郑州仁心堂中医药科技有限公司"),
    ]
    ad = page.ads[0]
    assert ad.title == "降糖新药 三天见效 告别胰岛素 无效退款"  # <!--red_beg--> comments dropped
    assert ad.url.startswith("https://www.sogou.com/bill_cpc?v=1&p=3Xx7YSoeY8")  # opaque: kept as is
    assert ad.displayed_url == "www.tangyao-jiankang.example"
    assert ad.snippet.startswith("糖尿病患者福音！纯植物提取降糖新药")
    organic = page.organic
    assert [o.rank for o in organic] == [1, 2, 3, 4, 5, 6]
    assert [o.url for o in organic] == [
        "https://baike.sogou.com/v7561234.htm?fromTitle=%E9%99%8D%E7%B3%96%E8%8D%AF",  # direct card link
        "https://www.tangyao-jiankang.example/news/2024/0518/1123.html",  # /link?url= + data-url
        "https://www.zhihu.com/question/38541022",
        "https://www.nmpa.gov.cn/xxgk/kpzhsh/kpzhshyp/20240312093000123.html",  # old rb: snapshot url=
        "https://haokan.baidu.com/v?vid=13387452219062018833",
        "https://www.yaoshun-rx.example/goods/jtyao.html",
    ]
    assert organic[1].raw_url.startswith("/link?url=hedJjaC291")  # as on the page
    assert [o.displayed_url for o in organic] == [
        "搜狗百科",
        "www.tangyao-jiankang.example/news/...",
        "知乎",
        "www.nmpa.gov.cn/xxgk/...",
        "好看视频",
        "www.yaoshun-rx.example",
    ]
    assert organic[0].snippet.startswith("降糖药是指用于降低血糖、治疗糖尿病的药物")
    assert organic[3].snippet.startswith("目前糖尿病尚不能根治")
    assert organic[4].snippet is None  # video card
    titles = {r.title for r in page.results}
    assert "大家还在搜" not in titles and not any("右侧卡片" in t for t in titles)
    assert page.related == ["降糖药排行榜前十名", "降糖药副作用", "纯中药降糖", "降糖药排行榜", "新型降糖药"]
    assert not titles & set(page.related)
    assert page.next_url == "https://www.sogou.com/web?query=%E9%99%8D%E7%B3%96%E8%8D%AF&page=2&ie=utf8"


def test_ad_cards_with_new_class_names_are_still_found_in_the_ad_zones() -> None:
    html = (SOGOU / "ads_top_bottom.html").read_text(encoding="utf-8").replace('class="biz_rb "', 'class="ad-card-v9"')
    page = parse_serp(html)
    assert [(a.ad_position, a.ad_label, a.title) for a in page.ads] == [
        ("top", "推广", "降糖新药 三天见效 告别胰岛素 无效退款"),
        ("top", "广告", "糖尿病根治 纯中药配方 不打针不吃西药"),
        ("bottom", "推广", "祖传降糖秘方 一个疗程血糖降到正常"),
    ]
    assert len(page.organic) == 6


def test_organic_only_saved_page_two() -> None:
    page = parse_file(SOGOU / "organic_only.html")
    assert (page.engine, page.query, page.page) == ("sogou", "二甲双胍 副作用", 2)
    assert page.ads == [] and page.parse_error is None
    assert [(r.rank, r.url) for r in page.results] == [
        (1, "https://www.renmin-hospital.example/kepu/2024/0305/ejsg.html"),
        (2, "https://www.yaopin-shuomingshu.example/ejsg/"),
        (3, "https://www.dxy-example.example/article/873342"),
        (4, "https://tieba.baidu.com/p/8913475520"),
        # No data-url and no snapshot: the opaque tracking link is all there is.
        (5, "https://www.sogou.com/link?url=hedJjaC291Pz7xC9vB1nM3qW5eR7tY9uI1oP3aS5dF7gH9jK1lZ3xC5vB7nM9qW1eR3tY5uI7."),
    ]
    assert page.results[1].snippet == "【不良反应】常见：腹泻、恶心、呕吐、胃胀、乏力、消化不良……"  # attribute-centent
    assert page.results[2].title == "二甲双胍的5个常见副作用，这样吃能减轻"
    assert page.related == ["二甲双胍伤肾吗", "二甲双胍什么时候吃"]
    assert page.next_url.endswith("&page=3&ie=utf8")


def test_antispider_page_is_blocked() -> None:
    page = parse_file(SOGOU / "antispider.html")
    assert page.engine == "sogou" and page.blocked
    assert page.block_reason == "Sogou antispider verification (redirected to www.sogou.com/antispider)"
    assert page.query == "降糖药"  # from the antispider URL's from=/web?query=...
    assert page.results == [] and page.parse_error is None and not page.no_results


def test_antispider_page_without_its_url() -> None:
    html = (SOGOU / "antispider.html").read_text(encoding="utf-8")
    html = html.replace(html.splitlines()[1], "")  # drop the "saved from url" comment
    page = parse_serp(html)
    assert page.engine == "sogou" and page.blocked
    assert page.block_reason == "Sogou antispider CAPTCHA (此验证码用于确认这些请求是您的正常行为)"
    assert page.query == "降糖药"  # from the form's hidden "from" input


def test_no_results_page() -> None:
    page = parse_file(SOGOU / "no_results.html")
    assert page.engine == "sogou" and page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "xq降糖灵胶囊9527号"


def test_gbk_page_from_bytes() -> None:
    raw = (SOGOU / "old_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    page = parse_serp(raw)
    assert (page.engine, page.query) == ("sogou", "痛风特效药")
    # 喆 is in GBK but not in GB2312: the page decodes as GB18030, its superset.
    assert [(a.ad_label, a.advertiser, a.displayed_url) for a in page.ads] == [
        ("推广", "南昌喆康医药科技有限公司", "www.tongfeng-tie.example")
    ]
    assert [(o.title, o.url) for o in page.organic] == [
        ("痛风有没有特效药？风湿免疫科医生这样说", "http://www.fengshi-ke.example/2014/03/tongfeng.html"),
        ("痛风一贴灵官网 - 痛风特效药", "http://www.tongfeng-tie.example/"),
        ("痛风吃什么药好得快", "https://www.sogou.com/link?url=DSOYnZeCC_tXrS5uZ7vJ9pQ1bT3eW5gY7iA9kC1mE3oG5qI7sK9uM1wO3yQ5aS7cU"),
    ]
    assert page.organic[0].displayed_url == "www.fengshi-ke.example/2014/03/..."
    assert page.related == ["痛风吃什么药", "痛风能根治吗"]
    assert page.next_url == "https://www.sogou.com/web?query=%CD%B4%B7%E7%CC%D8%D0%A7%D2%A9&page=2&ie=gbk"


def test_gbk_page_with_charset_from_http_header_only() -> None:
    text = (SOGOU / "old_gbk.html").read_bytes().decode("gbk")
    raw = text.replace('<meta http-equiv="Content-Type" content="text/html; charset=gbk" />', "").encode("gbk")
    assert parse_serp(raw, encoding="gbk", engine="sogou").query == "痛风特效药"
    assert len(parse_serp(raw, engine="sogou").results) == 4  # undeclared: guessed


def test_changed_markup_is_a_parse_error() -> None:
    html = (SOGOU / "organic_only.html").read_text(encoding="utf-8")
    html = html.replace('class="vrwrap"', 'class="vr-wrap-2025"').replace('class="rb"', 'class="rb-2025"')
    page = parse_serp(html)
    assert page.engine == "sogou" and page.results == []
    assert not page.blocked and not page.no_results
    assert page.parse_error.startswith("0 results found with selectors of sogou; the markup may have changed")
