"""Tests of the demo web's mock search engine (demo/search_engine.py) and its result data.

These read the pages with parsel directly, not with crawler.serp, so an engine bug and a parser bug
cannot hide each other.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml
from parsel import Selector

from demo import search_engine
from demo.search_engine import DATA_PATH, handle, load_results, normalize_query

DEMO_SITES = {
    "kangjian-pharmacy.test",
    "yaoshun-rx.test",
    "tangan-cure.test",
    "xueya-wen.test",
    "shenkang-tang.test",
    "fengshi-gutong.test",
    "tongfeng-ling.test",
    "nanbao-zhuangyang.test",
    "jiankang-baojian.test",
    "js-shop.test",
    "gbk-yaofang.test",
    "renmin-hospital.test",
    "yaojian-news.test",
    "rx-pharmacy-online.test",
}
MONITORED_QUERIES = [
    "降糖药",
    "根治糖尿病",
    "高血压 特效药",
    "痛风特效药",
    "肾病 偏方",
    "风湿骨痛 特效",
    "壮阳药",
    "网上买药",
    "buy viagra online no prescription",
]
ORGANIC = "#content_left > div.result.c-container"
ADS = "#content_left > div.c-container[data-tuiguang]"


def search(query: str, offset: int = 0, **extra: str) -> tuple[int, dict[str, str], Selector]:
    path = f"/s?wd={quote(query)}&pn={offset}" + "".join(f"&{k}={v}" for k, v in extra.items())
    status, headers, body = handle(path)
    charset = dict(headers)["Content-Type"].split("charset=")[1]
    return status, dict(headers), Selector(text=body.decode(charset))


def target_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["url"][0]


def test_home_page_has_a_search_form() -> None:
    status, headers, body = handle("/")
    page = Selector(text=body.decode("utf-8"))
    assert status == 200
    assert dict(headers)["Content-Type"] == "text/html; charset=utf-8"
    assert page.css("form#form::attr(action)").get() == "/s"
    assert page.css("form#form input#kw::attr(name)").get() == "wd"


def test_known_query_mixes_labelled_ads_and_organic_results() -> None:
    status, _, page = search("降糖药")
    assert status == 200
    assert page.css("title::text").get() == "降糖药_演示搜索"
    assert page.css("input#kw::attr(value)").get() == "降糖药"
    ads = page.css(ADS)
    assert len(ads) == 4
    for ad in ads:
        assert ad.css(".ec-tuiguang::text").get() == "广告"
        assert ad.css(".ec-advertiser::text").get().endswith(("公司", "门诊部"))
        assert ad.css("h3 a::attr(href)").get().startswith("http://search.test/baidu.php?url=")
    assert ads[0].css("h3 a").xpath("string()").get() == "降糖新药 三天见效 告别胰岛素 无效退款"
    organic = page.css(ORGANIC)
    assert len(organic) == 10
    assert [o.attrib["id"] for o in organic] == [str(i) for i in range(1, 11)]
    for result in organic:
        assert not result.css(".ec-tuiguang")
        assert result.css("h3 a::attr(href)").get().startswith("http://search.test/link?url=")
        assert result.css(".c-abstract").xpath("string()").get().strip()
        assert result.css(".c-showurl::text").get().endswith(".test/")


def test_ads_can_sit_below_the_organic_results() -> None:
    _, _, page = search("降糖药")
    ids = page.css("#content_left > div.c-container::attr(id)").getall()
    assert ids[:3] == ["3001", "3002", "3003"]
    assert ids[-1] == "4001"
    assert ids[3:-1] == [str(i) for i in range(1, 11)]


def test_query_terms_are_highlighted() -> None:
    _, _, page = search("降糖药")
    assert "<em>降糖药</em>" in page.css("#content_left > div#2 h3 a").get()


def test_second_page_continues_the_results() -> None:
    _, _, first = search("降糖药")
    next_href = first.xpath('//div[@id="page"]//a[contains(., "下一页")]/@href').get()
    assert next_href == "/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=10"
    status, _, second = search("降糖药", 10)
    assert status == 200
    assert second.css("#page strong .pc::text").get() == "2"
    assert [o.attrib["id"] for o in second.css(ORGANIC)] == ["11", "12"]
    assert not second.css(ADS)  # this query's ads run on page 1 only
    assert not second.xpath('//div[@id="page"]//a[contains(., "下一页")]')
    previous = second.xpath('//div[@id="page"]//a[contains(., "上一页")]/@href').get()
    assert previous == "/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF"


def test_ads_can_run_on_later_pages() -> None:
    _, _, second = search("网上买药", 10)
    ads = second.css(ADS)
    assert len(ads) == 1
    assert target_of(ads[0].css("h3 a::attr(href)").get()) == "http://rx-pharmacy-online.test/"


def test_offset_past_the_end_shows_the_last_page() -> None:
    _, _, page = search("降糖药", 90)
    assert page.css("#page strong .pc::text").get() == "2"
    assert len(page.css(ORGANIC)) == 2


def test_single_page_queries_have_no_next_link() -> None:
    _, _, page = search("根治糖尿病")
    assert page.css("#page")
    assert not page.css("#page a")


def test_related_searches_are_outside_the_result_column() -> None:
    _, _, page = search("降糖药")
    assert page.css("#rs a::text").getall()[:2] == ["降糖药排行榜前十名", "新型降糖药"]
    assert not page.css("#content_left #rs")
    _, _, kidney = search("肾病 偏方")
    card = kidney.css('#content_left > div[tpl="recommend_list"]')
    assert card.css("a::text").getall() == ["肾病偏方大全", "降肌酐偏方", "肾衰竭能逆转吗"]
    assert not card.css("h3")


def test_tracking_link_redirects_to_its_encoded_target() -> None:
    _, _, page = search("降糖药")
    for result in page.css(ORGANIC):
        link = result.css("h3 a::attr(href)").get()
        status, headers, _ = handle(link)
        assert status == 302
        assert dict(headers)["Location"] == result.attrib["mu"] == target_of(link)


def test_ad_click_link_is_a_separate_path_that_redirects() -> None:
    _, _, page = search("壮阳药")
    link = page.css(ADS)[0].css("h3 a::attr(href)").get()
    parts = urlsplit(link)
    assert parts.path == "/baidu.php"
    assert "ck" in parse_qs(parts.query)
    status, headers, _ = handle(f"{parts.path}?{parts.query}")
    assert status == 302
    assert dict(headers)["Location"] == "http://nanbao-zhuangyang.test/"


def test_tracking_link_refuses_non_web_targets() -> None:
    assert handle("/link?url=" + quote("javascript:alert(1)", safe=""))[0] == 400
    assert handle("/link")[0] == 400


def test_unknown_query_gives_a_no_results_page() -> None:
    status, _, page = search("完全不存在的查询词xyz")
    assert status == 200
    title = page.css("h3.norsTitle").xpath("string()").get()
    assert title == "很抱歉，没有找到与“完全不存在的查询词xyz”相关的网页。"
    assert not page.css("#content_left > div.c-container")
    assert not page.css("#page")


def test_no_results_page_escapes_the_query() -> None:
    _, _, body = handle("/s?wd=" + quote("<script>alert(1)</script>"))
    assert b"<script>alert(1)</script>" not in body
    assert b"&lt;script&gt;" in body


@pytest.mark.parametrize("query", ["触发验证", "降糖药 触发验证"])
def test_block_trigger_gives_a_verification_page(query: str) -> None:
    status, _, page = search(query)
    assert status == 200  # like Baidu: the block is only visible in the page itself
    assert page.css("title::text").get() == "百度安全验证"
    assert "请完成下方验证后继续操作" in page.xpath("string(//body)").get()
    assert not page.css("#content_left")
    back = page.css("form#verify input[name=backurl]::attr(value)").get()
    assert parse_qs(urlsplit(back).query)["wd"] == [query]


def test_empty_query_goes_back_home() -> None:
    status, headers, _ = handle("/s?wd=")
    assert status == 302
    assert dict(headers)["Location"] == "/"


def test_unknown_path_is_404() -> None:
    assert handle("/nowhere")[0] == 404


def test_accepts_proxy_style_absolute_urls() -> None:
    status, _, body = handle("http://search.test/s?wd=" + quote("痛风特效药"))
    assert status == 200
    assert "http%3A%2F%2Ftongfeng-ling.test%2F" in body.decode("utf-8")


@pytest.mark.parametrize("spelling", ["高血压特效药", "高血压　特效药", " 高血压  特效药 "])
def test_aliases_and_spacing_find_the_same_page(spelling: str) -> None:
    _, _, page = search(spelling)
    assert len(page.css(ADS)) == 2
    assert page.css(ORGANIC)


def test_gbk_input_and_output_like_old_baidu() -> None:
    status, headers, body = handle("/s?wd=" + quote("痛风特效药".encode("gbk")) + "&ie=gbk&oe=gbk")
    assert status == 200
    assert dict(headers)["Content-Type"] == "text/html; charset=gbk"
    assert b'charset=gbk"' in body
    text = body.decode("gbk")
    assert "<title>痛风特效药_演示搜索</title>" in text
    assert '<input type="hidden" name="ie" value="gbk">' in text


# --- the data itself ------------------------------------------------------------------------------


def test_every_monitored_query_has_ads_and_organic_results() -> None:
    table = load_results()
    missing = [q for q in MONITORED_QUERIES if normalize_query(q) not in table]
    assert not missing
    for query in MONITORED_QUERIES:
        data = table[normalize_query(query)]
        assert data.ads and data.organic, query


def test_results_point_only_at_demo_sites_roots() -> None:
    raw = yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))
    offenders = []
    for query, spec in raw["queries"].items():
        for kind in ("ads", "organic"):
            for i, item in enumerate(spec.get(kind, [])):
                parts = urlsplit(item["url"])
                if parts.scheme != "http" or parts.hostname not in DEMO_SITES or parts.path != "/":
                    offenders.append(f"{query}.{kind}[{i}]: {item['url']}")
                if kind == "ads" and not item.get("advertiser"):
                    offenders.append(f"{query}.{kind}[{i}]: no advertiser")
                if item.get("position", "top") not in ("top", "bottom"):
                    offenders.append(f"{query}.{kind}[{i}]: bad position")
    assert not offenders


def test_every_demo_site_is_reachable_from_some_query() -> None:
    hosts = {urlsplit(e.url).hostname for d in load_results().values() for e in (*d.ads, *d.organic)}
    assert hosts == DEMO_SITES


def test_some_queries_span_two_pages_and_some_have_bottom_ads() -> None:
    table = load_results()
    data = [table[normalize_query(q)] for q in MONITORED_QUERIES]
    assert {d.query for d in data if len(d.organic) > 10} >= {"降糖药", "网上买药"}
    assert sum(any(a.position == "bottom" for a in d.ads) for d in data) >= 3


def test_engine_constants_match_the_tracking_links() -> None:
    assert (
        search_engine.tracking_link("http://a.test/") == "http://search.test/link?url=http%3A%2F%2Fa.test%2F"
    )
