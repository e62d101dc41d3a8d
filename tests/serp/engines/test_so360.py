"""Tests of crawler/serp/engines/so360.yaml on 360 Search (so.com) fixtures. so.com serves UTF-8 only."""

from __future__ import annotations

from pathlib import Path

from crawler.serp import build_search_url, parse_file, parse_serp

SO360 = Path(__file__).parents[1] / "fixtures" / "so360"


def test_ads_top_middle_bottom_and_organic() -> None:
    page = parse_file(SO360 / "ads_top_bottom.html")  # no URL: detected from its markers
    assert (page.engine, page.query, page.page) == ("so360", "降糖药", 1)
    assert not page.blocked and not page.no_results and page.parse_error is None
    assert [(a.rank, a.ad_position, a.ad_label, a.advertiser, a.url) for a in page.ads] == [
        # e.so.com click link whose aurl= carries the landing page (base64)
        (1, "top", "广告", "广州糖安生物科技有限公司", "https://www.tangyao-jiankang.example/lp/so01.html"),
        # opaque click link; the landing page is in e-landurl
        (2, "top", "广告", "深圳药顺医药咨询有限公司", "https://www.yaoshun-rx.example/goods/jtyao.html?src=360"),
        # an e-newsl-box ad inside the result list; aurl= percent-encoded base64 on /search/mid
        (3, "middle", "推广", "郑州仁心堂中医药科技有限公司", "https://www.renxintang-zy.example/tnb/?src=360bottom"),
        # bottom ad: nothing readable, the click link is kept
        (4, "bottom", "广告", None, "https://e.so.com/search/eclk?p=Ux4Mn7Bv0Cx3Za6Sd9Fg2Hj5Kl8Qw1Er4Ty7Ui0Op3"
         "&q=%E9%99%8D%E7%B3%96%E8%8D%AF&ns=0&v=2&sig=c19e&bt=1"),
    ]
    ad = page.ads[0]
    assert ad.title == "降糖新药 三天见效 告别胰岛素 无效退款"
    assert ad.displayed_url == "www.tangyao-jiankang.example"
    assert ad.snippet == "糖尿病患者福音！纯植物提取降糖新药，三天血糖稳降，一个疗程摆脱胰岛素。"
    organic = page.organic
    assert [(o.rank, o.url) for o in organic] == [
        (1, "https://baike.so.com/doc/5378394-5614471.html"),
        (2, "https://www.tangyao-jiankang.example/news/2024/0518/1123.html"),  # data-mdurl, not link?m=
        (3, "https://wenda.so.com/q/1523456789012345"),
        (4, "https://www.nmpa.gov.cn/xxgk/kpzhsh/kpzhshyp/20240312093000123.html"),  # older data-url
    ]
    assert organic[1].raw_url.startswith("https://www.so.com/link?m=")
    assert organic[1].displayed_url == "www.tangyao-jiankang.example"  # "反馈" left out
    assert organic[1].snippet.startswith("2024-05-18 本品不含任何西药成分")
    assert organic[0].snippet.startswith("降糖药是指能够降低血糖水平")  # rich card
    assert organic[2].snippet.startswith("最佳答案: 选择降糖药")  # res-list-summary
    assert organic[3].displayed_url == "www.nmpa.gov.cn/xxgk/kpzhsh/..."
    titles = {r.title for r in page.results}
    assert "大家还在搜" not in titles and not any("右侧" in t for t in titles)
    assert page.related == ["降糖药排行榜前十名", "降糖药副作用", "纯中药降糖"]
    assert page.next_url == "https://www.so.com/s?q=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=2&src=srp_paging&fr=none"


def test_organic_only_saved_page_two() -> None:
    page = parse_file(SO360 / "organic_only.html")
    assert (page.engine, page.query, page.page) == ("so360", "二甲双胍 副作用", 2)
    assert page.ads == [] and page.parse_error is None and page.next_url is None
    assert [(r.rank, r.url, r.displayed_url) for r in page.results] == [
        (1, "https://www.renmin-hospital.example/kepu/2024/0305/ejsg.html", "www.renmin-hospital.example"),
        # older so.com/link?url=<the URL> tracking link
        (2, "http://www.yaopin-shuomingshu.example/ejsg/", "www.yaopin-shuomingshu.example/ejsg/"),
        (3, "https://www.dxy-example.example/article/873342", "www.dxy-example.example"),
        (4, "https://tieba.baidu.com/p/8913475520", "tieba.baidu.com"),
    ]
    assert page.results[3].snippet == "刚开始吃的时候拉肚子特别厉害，后来换成缓释的好多了……"


def test_verification_page_is_blocked() -> None:
    page = parse_file(SO360 / "block.html")
    assert page.engine == "so360" and page.blocked
    assert page.block_reason == "360 Search verification page (验证码)"
    assert (page.query, page.page) == ("降糖药", 3)  # from the page's URL
    assert page.results == [] and page.parse_error is None


def test_verification_page_without_its_url() -> None:
    html = (SO360 / "block.html").read_text(encoding="utf-8").replace("<title>360搜索 - 安全验证</title>", "")
    html = html.replace(html.splitlines()[1], "")
    page = parse_serp(html)
    assert page.engine == "so360" and page.blocked
    assert page.block_reason == "360 Search CAPTCHA form"


def test_a_result_titled_with_verification_words_is_not_a_block_page() -> None:
    html = (SO360 / "ads_top_bottom.html").read_text(encoding="utf-8")
    html = html.replace("<title>降糖药 - 360搜索</title>", "<title>手机验证码收不到 - 360搜索</title>")
    page = parse_serp(html)
    assert not page.blocked and len(page.results) == 8


def test_no_results_page() -> None:
    page = parse_file(SO360 / "no_results.html")
    assert page.engine == "so360" and page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "xq降糖灵胶囊9527号"


def test_changed_markup_is_a_parse_error() -> None:
    html = (SO360 / "organic_only.html").read_text(encoding="utf-8")
    html = html.replace('<ul class="result">', '<ul class="rs-v2">').replace('class="res-list"', 'class="rs-item"')
    page = parse_serp(html)
    assert page.engine == "so360" and page.results == []
    assert page.parse_error.startswith("0 results found with selectors of so360; the markup may have changed")


def test_search_url_and_aliases() -> None:
    assert build_search_url("so360", "降糖药", 2) == "https://www.so.com/s?q=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=2"
    assert build_search_url("360", "x", 1) == build_search_url("so360", "x", 1)
    assert parse_file(SO360 / "no_results.html", engine="360").engine == "so360"


def test_right_column_ads_are_ads_and_other_side_cards_are_not_results() -> None:
    # The layout of the real 2014 page (fixtures/so360/real-ads-2014.html) for the right column: ads in
    # ul#rightbox inside #side, next to 360's own cards and its "advertise here" slot.
    html = """<html><head><title>降糖药 - 360搜索</title></head><body>
    <ul id="m-result" class="result"><li class="res-list"><h3 class="res-title"><a href="http://a.example/">A</a></h3>
    <p class="res-desc">organic</p></li></ul>
    <div id="side"><div class="mohe"><h3><a href="http://baike.so.com/doc/1.html">降糖药_360百科</a></h3></div>
    <ul id="rightbox" class="result">
    <li><h3><a href="http://e.tf.360.cn/search/aclk?p=x" _cs="http://e.tf.360.cn/search/eclk?p=y&amp;aurl=http%3A%2F%2Fr.example%2Flp">右侧降糖广告</a></h3>
    <p>纯中药降糖<br/><cite>http://r.example</cite></p></li>
    <li><h3><a href="http://e.360.cn/">想在360推广您的产品服务吗</a></h3></li>
    </ul></div></body></html>"""
    page = parse_serp(html, engine="so360")
    assert [r.title for r in page.organic] == ["A"]
    (ad,) = page.ads
    assert (ad.title, ad.url, ad.displayed_url) == ("右侧降糖广告", "http://r.example/lp", "http://r.example")
