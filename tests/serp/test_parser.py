"""Tests of crawler.serp's parser: the mock engine's live pages, Baidu fixtures, every engine's fixtures, fuzzing."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.serp import SerpPage, SerpParseError, build_search_url, parse_file, parse_serp
from crawler.serp.parser import _SAVED_FROM
from demo.search_engine import handle, load_results, normalize_query

FIXTURES = Path(__file__).parent / "fixtures"
BAIDU = FIXTURES / "baidu"


def mock_page(query: str, page: int = 1, **extra: str) -> tuple[bytes, str]:
    url = build_search_url("mock", query, page) + "".join(f"&{k}={v}" for k, v in extra.items())
    status, _, body = handle(url)
    assert status == 200
    return body, url


def parse_mock(query: str, page: int = 1) -> SerpPage:
    body, url = mock_page(query, page)
    return parse_serp(body, url=url)


# --- mock engine ----------------------------------------------------------------------------------


def test_mock_first_page_ads_and_organic() -> None:
    page = parse_mock("降糖药")
    assert (page.engine, page.query, page.page) == ("mock", "降糖药", 1)
    assert not page.blocked and not page.no_results and page.parse_error is None
    ads, organic = page.ads, page.organic
    assert [a.rank for a in ads] == [1, 2, 3, 4]
    assert [a.ad_position for a in ads] == ["top", "top", "top", "bottom"]
    assert {a.ad_label for a in ads} == {"广告"}
    assert [a.advertiser for a in ads] == [
        "广州糖安生物科技有限公司",
        "深圳药顺医药咨询有限公司",
        "杭州健康保健品商贸有限公司",
        "郑州仁心堂中医药科技有限公司",
    ]
    assert ads[0].title == "降糖新药 三天见效 告别胰岛素 无效退款"
    assert ads[0].url == "http://tangan-cure.test/"
    assert ads[0].raw_url.startswith("http://search.test/baidu.php?url=http%3A%2F%2Ftangan-cure.test%2F&ck=")
    assert ads[0].displayed_url == "tangan-cure.test"
    assert ads[0].snippet.startswith("糖尿病患者的福音！")
    assert [o.rank for o in organic] == list(range(1, 11))
    assert all(o.page == 1 and o.ad_label is None and o.advertiser is None for o in organic)
    first = organic[0]
    assert first.url == "http://kangjian-pharmacy.test/"
    assert first.raw_url == "http://search.test/link?url=http%3A%2F%2Fkangjian-pharmacy.test%2F"
    assert first.displayed_url == "kangjian-pharmacy.test/"
    assert first.snippet.startswith("2024年5月12日 康健大药房为持证网上药店")
    # <em> highlights are flattened into the text
    assert organic[1].title == "糖尿病患者如何正确使用降糖药？ - 人民医院内分泌科"
    assert page.next_url == "http://search.test/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=10"


def test_mock_second_page() -> None:
    page = parse_mock("降糖药", 2)
    assert page.page == 2
    assert [(r.rank, r.is_ad, r.url) for r in page.results] == [
        (1, False, "http://shenkang-tang.test/"),
        (2, False, "http://tongfeng-ling.test/"),
    ]
    assert all(r.page == 2 for r in page.results)
    assert page.next_url is None


def test_following_next_url_reaches_the_last_page() -> None:
    body, url = mock_page("网上买药")
    seen = []
    while url:
        page = parse_serp(body, url=url)
        seen.append((page.page, len(page.organic), len(page.ads)))
        url = page.next_url
        if url:
            body = handle(url)[2]
    assert seen == [(1, 10, 3), (2, 4, 1)]


def test_related_searches_are_not_results() -> None:
    page = parse_mock("肾病 偏方")
    titles = {r.title for r in page.results}
    assert len(page.organic) == 5 and len(page.ads) == 1
    assert "其他人还在搜" not in titles
    assert page.related == [
        "慢性肾病能治好吗",
        "肌酐高怎么降",
        "尿毒症偏方",
        "肾病综合征",  # #rs
        "肾病偏方大全",
        "降肌酐偏方",
        "肾衰竭能逆转吗",  # the in-column card
    ]
    assert not titles & set(page.related)


@pytest.mark.parametrize("query", sorted({d.query for d in load_results().values()}))
def test_mock_pages_match_the_engine_data(query: str) -> None:
    data = load_results()[normalize_query(query)]
    page = parse_mock(query)
    ads_on_page = [a for a in data.ads if a.page == 1]
    # Top ads come first, bottom ads after the organic results.
    ordered_ads = sorted(ads_on_page, key=lambda a: a.position == "bottom")
    expected_ads = [(a.title, a.url, a.advertiser) for a in ordered_ads]
    assert [(a.title, a.url, a.advertiser) for a in page.ads] == expected_ads
    assert [(o.title, o.url) for o in page.organic] == [(o.title, o.url) for o in data.organic[:10]]
    assert page.query == query


def test_mock_no_results_page() -> None:
    page = parse_mock("完全不存在的查询词xyz")
    assert page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "完全不存在的查询词xyz"


@pytest.mark.parametrize("query", ["触发验证", "壮阳药 触发验证"])
def test_mock_block_page(query: str) -> None:
    page = parse_mock(query)
    assert page.blocked
    assert page.block_reason == "百度安全验证 verification page (search.test)"
    assert page.results == [] and page.parse_error is None
    assert page.query == query


def test_block_and_no_results_words_in_scripts_do_not_count() -> None:
    # Every mock page carries 百度安全验证 and 很抱歉，没有找到与 inside a <script>.
    page = parse_mock("痛风特效药")
    assert not page.blocked and not page.no_results and page.results


def test_mock_gbk_page_from_bytes() -> None:
    # Like old Baidu links: the query itself GBK-encoded (ie=gbk), and the page served in GBK (oe=gbk).
    url = "http://search.test/s?wd=" + quote("痛风特效药".encode("gbk")) + "&ie=gbk&oe=gbk"
    body = handle(url)[2]
    assert "痛风".encode("gbk") in body
    page = parse_serp(body, url=url)
    assert page.query == "痛风特效药"
    assert page.ads[0].title == "痛风特效药 7天排酸 根治痛风 无效退款"


# --- Baidu fixtures -------------------------------------------------------------------------------


def test_baidu_ads_top_and_bottom() -> None:
    page = parse_file(BAIDU / "ads_top_bottom.html")
    assert (page.engine, page.query, page.page) == ("baidu", "降糖药", 1)
    assert not page.blocked and not page.no_results
    ads = page.ads
    assert [(a.rank, a.ad_position, a.ad_label, a.advertiser) for a in ads] == [
        (1, "top", "广告", "广州糖安生物科技有限公司"),
        (2, "top", "广告", "深圳药顺医药咨询有限公司"),  # obfuscated classes: found by its label text
        (3, "bottom", "广告", "郑州仁心堂中医药科技有限公司"),
    ]
    assert ads[0].title == "降糖新药 三天见效 告别胰岛素 无效退款"
    assert ads[0].url == "https://www.tangyao-jiankang.example/lp/jt01.html"  # data-landurl
    assert ads[0].displayed_url == "www.tangyao-jiankang.example"
    assert ads[1].url.startswith("https://www.baidu.com/baidu.php?url=K000000")  # opaque: kept as is
    assert ads[1].url == ads[1].raw_url
    assert ads[1].displayed_url == "www.yaoshun-rx.example"
    assert ads[1].snippet.startswith("格列美脲、阿卡波糖")
    organic = page.organic
    assert [o.rank for o in organic] == [1, 2, 3, 4, 5]
    assert [o.url for o in organic] == [
        "https://health.baidu.com/m/drug/list?word=%E9%99%8D%E7%B3%96%E8%8D%AF",
        "https://baike.baidu.com/item/%E9%99%8D%E7%B3%96%E8%8D%AF/1093764",
        "https://www.tangyao-jiankang.example/news/2024/0518/1123.html",
        "https://zhidao.baidu.com/question/1862435709927104707.html",
        "https://www.nmpa.gov.cn/xxgk/kpzhsh/kpzhshyp/20240312093000123.html",
    ]
    assert all(o.raw_url.startswith("http://www.baidu.com/link?url=") for o in organic)
    assert organic[1].displayed_url == "百度百科"
    # whitespace (a line break inside the snippet, &nbsp; after the date) collapses to single spaces
    assert organic[1].snippet == (
        "2023年11月2日 降糖药是指用于治疗糖尿病、 降低血糖的药物。"
        "按作用机制可分为促胰岛素分泌剂、非促胰岛素分泌剂……"
    )
    assert "其他人还在搜" not in {r.title for r in page.results}
    assert page.related[:3] == ["降糖药排行榜前十名", "降糖药副作用", "纯中药降糖"]
    assert "二甲双胍" in page.related
    assert page.next_url.startswith("https://www.baidu.com/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=10&")


def test_baidu_organic_only_saved_page() -> None:
    page = parse_file(BAIDU / "organic_only.html")
    assert page.engine == "baidu"
    assert page.query == "二甲双胍 副作用"
    assert page.page == 2
    assert page.ads == []
    assert len(page.organic) == 8
    assert [r.rank for r in page.results] == list(range(1, 9))
    video = page.organic[3]
    assert video.title == "二甲双胍的副作用有哪些？医生3分钟讲清楚 - 好看视频"
    assert video.url == "https://haokan.baidu.com/v?vid=13387452219062018833"
    assert video.snippet is None
    older = page.organic[2]  # the older c-abstract / c-showurl layout on the same page
    assert older.snippet.startswith("最佳答案: 肾功能正常的人")
    assert older.displayed_url == "百度知道"
    assert page.related == ["二甲双胍伤肾吗", "二甲双胍什么时候吃"]
    assert "pn=20" in page.next_url


def test_baidu_block_page() -> None:
    page = parse_file(BAIDU / "block.html")
    assert page.engine == "baidu"
    assert page.blocked
    assert page.block_reason == "百度安全验证 (Baidu security verification / CAPTCHA)"
    assert page.query == "降糖药"  # from the verification URL's backurl=
    assert page.results == [] and page.parse_error is None and not page.no_results


def test_baidu_block_detected_from_the_url_alone() -> None:
    html = "<html><head><title>验证</title></head><body><div id='x'></div></body></html>"
    url = "https://wappass.baidu.com/static/captcha/tuxing.html?ak=1&backurl=https%3A%2F%2Fwww.baidu.com%2Fs%3Fwd%3Dabc"
    page = parse_serp(html, url=url)
    assert page.engine == "baidu" and page.blocked
    assert page.block_reason == "redirected to wappass.baidu.com verification"
    assert page.query == "abc"


def test_baidu_no_results_page() -> None:
    page = parse_file(BAIDU / "no_results.html")
    assert page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "xq降糖灵胶囊9527号"


def test_baidu_old_gb2312_page_from_bytes() -> None:
    raw = (BAIDU / "old_gb2312.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    page = parse_serp(raw)
    assert page.engine == "baidu" and page.query == "痛风特效药"
    assert [(a.ad_label, a.advertiser, a.displayed_url) for a in page.ads] == [
        ("推广", "南昌痛风灵医药科技有限公司", "www.tongfeng-tie.example")
    ]
    assert page.ads[0].snippet.startswith("痛风一贴灵，7天排尽尿酸")
    assert [o.title for o in page.organic] == [
        "痛风有没有特效药？风湿免疫科医生这样说",
        "痛风一贴灵官网 - 痛风特效药",
        "痛风吃什么药好得快_百度知道",
    ]
    # No mu= on these old results: the opaque tracking link is all there is.
    first = page.organic[0]
    assert (
        first.url
        == first.raw_url
        == "http://www.baidu.com/link?url=Fq3cNvW1uG8pV6pV8bQ2ktuGFv3lTxW6pq7PNbV9Ua_9PVyPjhH-mdQFpSqSC0yW"
    )
    assert first.displayed_url == "www.fengshi-ke.example/2014/03..."
    assert (
        page.next_url
        == "https://www.baidu.com/s?wd=%CD%B4%B7%E7%CC%D8%D0%A7%D2%A9&pn=10&ie=gb2312&rsv_page=1"
    )


# --- decoding -------------------------------------------------------------------------------------


def _gbk_without_declaration() -> bytes:
    text = (BAIDU / "old_gb2312.html").read_bytes().decode("gb18030")
    meta = '<meta http-equiv="content-type" content="text/html;charset=gb2312">'
    return text.replace(meta, "").encode("gbk")


def test_gbk_bytes_with_charset_from_http_header() -> None:
    page = parse_serp(_gbk_without_declaration(), encoding="gbk", engine="baidu")
    assert page.query == "痛风特效药"


def test_undeclared_gbk_bytes_are_guessed() -> None:
    page = parse_serp(_gbk_without_declaration(), engine="baidu")
    assert page.query == "痛风特效药"
    assert len(page.results) == 4


def test_str_and_bytes_give_the_same_page() -> None:
    raw = (BAIDU / "ads_top_bottom.html").read_bytes()
    assert parse_serp(raw).to_json() == parse_serp(raw.decode("utf-8")).to_json()


# --- parse failures -------------------------------------------------------------------------------


def test_zero_results_on_a_changed_baidu_page_is_a_parse_error() -> None:
    html = (BAIDU / "ads_top_bottom.html").read_text(encoding="utf-8")
    # Both the result column and the card class renamed: neither the column selectors nor the
    # c-container fallback can find a result.
    html = html.replace('id="content_left"', 'id="content_main"').replace("c-container", "r-card")
    page = parse_serp(html)
    assert page.engine == "baidu"
    assert not page.blocked and not page.no_results and page.results == []
    assert page.parse_error.startswith("0 results found with selectors of baidu; the markup may have changed")


def test_zero_results_on_a_changed_mock_page_is_a_parse_error() -> None:
    body, url = mock_page("降糖药")
    page = parse_serp(body.replace(b"<h3", b"<h4").replace(b"</h3>", b"</h4>"), url=url)
    assert page.results == []
    assert page.parse_error.startswith("0 results found with selectors of mock; the markup may have changed")


def test_home_page_is_not_a_result_page() -> None:
    page = parse_serp(handle("/")[2], url="http://search.test/")
    assert page.parse_error is not None and not page.blocked


# --- engine detection -----------------------------------------------------------------------------


def test_engine_detected_from_url_host() -> None:
    body, _ = mock_page("降糖药")
    # The host wins over markers: a mock page claimed to come from Baidu is parsed as Baidu.
    assert parse_serp(body, url="http://search.test/s?wd=x").engine == "mock"
    assert parse_serp(body, url="https://www.baidu.com/s?wd=x").engine == "baidu"


def test_engine_detected_from_markers_without_url() -> None:
    body, _ = mock_page("降糖药")
    assert parse_serp(body).engine == "mock"
    assert parse_file(BAIDU / "no_results.html").engine == "baidu"


def test_engine_detected_from_markers_when_host_is_unknown() -> None:
    body, _ = mock_page("降糖药")
    page = parse_serp(body, url="http://127.0.0.1:8080/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF")
    assert page.engine == "mock"
    assert page.next_url == "http://127.0.0.1:8080/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=10"


def test_undetectable_page_raises() -> None:
    with pytest.raises(SerpParseError, match="could not detect the search engine.*pass engine="):
        parse_serp("<html><body><p>hello</p></body></html>", url="http://example.test/")


def test_unknown_engine_name_raises() -> None:
    known = "baidu, bing, google, mock, so360, sogou"
    with pytest.raises(SerpParseError, match=f"unknown search engine 'altavista'; known engines: {known}"):
        parse_serp("<html></html>", engine="altavista")


# --- contract -------------------------------------------------------------------------------------


def test_json_shape() -> None:
    data = parse_mock("壮阳药").to_json()
    assert list(data) == [
        "engine",
        "query",
        "blocked",
        "results",
        "page",
        "block_reason",
        "no_results",
        "parse_error",
    ]
    for result in data["results"]:
        assert list(result) == [
            "rank",
            "title",
            "url",
            "displayed_url",
            "snippet",
            "is_ad",
            "ad_label",
            "advertiser",
        ]
    assert data["results"][0] == {
        "rank": 1,
        "title": "男宝 纯中药壮阳 立竿见影 隐私发货",
        "url": "http://nanbao-zhuangyang.test/",
        "displayed_url": "nanbao-zhuangyang.test",
        "snippet": "纯中药配方，30分钟见效，持久不软，无任何副作用，不含西药成分。隐私包装，货到付款。",
        "is_ad": True,
        "ad_label": "广告",
        "advertiser": "广西南宝生物科技有限公司",
    }


def test_build_search_url() -> None:
    assert build_search_url("mock", "降糖药", 1) == "http://search.test/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=0"
    assert build_search_url("mock", "高血压 特效药", 3).endswith("&pn=20")
    assert build_search_url("baidu", "buy viagra", 2) == "https://www.baidu.com/s?wd=buy+viagra&pn=10"
    with pytest.raises(ValueError, match="1-based"):
        build_search_url("mock", "x", 0)
    with pytest.raises(SerpParseError):
        build_search_url("nope", "x", 1)


def test_built_url_round_trips_through_the_mock_engine() -> None:
    query = "buy viagra online no prescription"
    url = build_search_url("mock", query, 1)
    page = parse_serp(handle(url)[2], url=url)
    assert page.query == query
    assert page.ads[0].url == "http://rx-pharmacy-online.test/"


def test_parse_file_accepts_str_paths_and_engine() -> None:
    page = parse_file(str(BAIDU / "block.html"), engine="baidu")
    assert page.blocked


@pytest.mark.parametrize("name", ["ads_top_bottom", "organic_only", "old_gb2312"])
def test_baidu_fixtures_parse_cleanly(name: str) -> None:
    page = parse_file(BAIDU / f"{name}.html")
    assert page.parse_error is None and page.results
    for result in page.results:
        assert result.title and result.url.startswith(("http://", "https://"))
        assert result.title == " ".join(result.title.split())


def test_quote_helper_matches_engine_encoding() -> None:
    # The mock engine and build_search_url must agree on how a query with spaces is written.
    assert handle("/s?wd=" + quote("肾病 偏方"))[2] == handle(build_search_url("mock", "肾病 偏方", 1))[2]


# --- every engine's fixtures ------------------------------------------------------------------------

ENGINE_FIXTURES = sorted(p for p in FIXTURES.glob("*/*.html"))
REAL_ENGINES = ["baidu", "sogou", "so360", "bing", "google"]


@pytest.mark.parametrize("path", ENGINE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_is_detected_without_its_url(path: Path) -> None:
    saved = re.compile(_SAVED_FROM.pattern.encode(), re.IGNORECASE)
    raw = saved.sub(b"", path.read_bytes())  # no "saved from url" comment either: markers alone
    assert parse_serp(raw).engine == path.parent.name


@pytest.mark.parametrize("path", ENGINE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_is_trustworthy(path: Path) -> None:
    # Exactly one of: blocked, "no results", results; never a parse error on a real engine's page.
    page = parse_file(path)
    assert page.parse_error is None
    assert [page.blocked, page.no_results, bool(page.results)].count(True) == 1
    assert page.blocked == (page.block_reason is not None)
    for result in page.results:
        assert result.url.startswith(("http://", "https://")) and " " not in result.url
        assert result.title == " ".join(result.title.split())
        assert result.is_ad == (result.ad_label is not None)
    if page.results:
        assert [r.rank for r in page.organic] == list(range(1, len(page.organic) + 1))
        assert [r.rank for r in page.ads] == list(range(1, len(page.ads) + 1))


@pytest.mark.parametrize("path", ENGINE_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bytes_and_decoded_text_give_the_same_page(path: Path) -> None:
    raw = path.read_bytes()
    from crawler.charset import decode_declared

    assert parse_serp(raw).to_json() == parse_serp(decode_declared(raw)[1]).to_json()


@pytest.mark.parametrize("engine", REAL_ENGINES)
def test_cloudflare_challenge_blocks_every_real_engine(engine: str) -> None:
    raw = (FIXTURES / "cloudflare_challenge.html").read_bytes()
    page = parse_serp(raw, engine=engine)
    assert page.blocked and page.block_reason == "Cloudflare challenge (Just a moment...)"
    # From a proxy in front of the engine: the URL's host names the engine.
    url = build_search_url(engine, "降糖药", 1)
    page = parse_serp(raw.replace(b"Just a moment...", b""), url=url)
    assert (page.engine, page.blocked, page.query) == (engine, True, "降糖药")
    assert page.block_reason == "Cloudflare challenge (cf-chl)"


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("https://www.sogou.com/web?query=x", "sogou"),
        ("http://www.sogou.com/antispider/?from=%2Fweb%3Fquery%3Dx", "sogou"),
        ("https://www.so.com/s?q=x&pn=2", "so360"),
        ("https://cn.bing.com/search?q=x", "bing"),
        ("https://www.bing.com/search?q=x&first=11", "bing"),
        ("https://www.google.com/search?q=x", "google"),
        ("https://www.google.com.hk/search?q=x", "google"),
        ("https://ipv4.google.com/sorry/index?continue=x", "google"),
        ("https://www.baidu.com/s?wd=x", "baidu"),
    ],
)
def test_engine_detected_from_each_engines_hosts(url: str, engine: str) -> None:
    assert parse_serp("<html><body></body></html>", url=url).engine == engine


def test_engine_aliases() -> None:
    page = parse_file(FIXTURES / "bing" / "no_results.html", engine="cn_bing")
    assert page.engine == "bing"


def test_no_results_text_next_to_results_is_a_corrected_search() -> None:
    html = (BAIDU / "ads_top_bottom.html").read_text(encoding="utf-8")
    notice = '<div class="nors">很抱歉，没有找到与“降唐药”相关的网页。</div>'
    html = html.replace('<div id="content_left">', '<div id="content_left">' + notice)
    page = parse_serp(html)
    assert not page.no_results and len(page.organic) == 5


def test_an_unexpected_failure_is_a_parse_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.serp import parser

    def broken(self: object, page_number: int) -> list:
        raise ValueError("boom")

    monkeypatch.setattr(parser._Parser, "_results", broken)
    page = parse_file(BAIDU / "ads_top_bottom.html")
    assert page.engine == "baidu" and page.results == []
    assert page.parse_error.startswith("the page could not be parsed (ValueError: boom); edit baidu.yaml")


# --- never raises ---------------------------------------------------------------------------------

_FRAGMENTS = [
    '<div class="vrwrap"><h3 class="vr-title"><a href="/link?url=',
    '<li class="b_algo"><h2><a href="https://cn.bing.com/ck/a?u=a1',
    '<div class="g"><a href="/url?q=http://[::1',
    '<div data-text-ad="1"><a data-pcu="," href="//',
    '<ul class="result"><li class="res-list"><h3 class="res-title"><a data-mdurl="',
    '<div class="c-container" mu="http://%zz"><h3><a href="http://www.baidu.com/link?url=',
    "<title>百度安全验证</title>",
    "<!-- saved from url=(0010)http://[x -->",
    '<meta charset="x-unknown">',
    "\x00\ud800",
    "</div></li></ol>",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    html=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000),
        st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=40), max_size=30).map("".join),
    ),
    engine=st.sampled_from([*REAL_ENGINES, "mock"]),
    url=st.one_of(st.none(), st.text(max_size=60), st.just("https://www.google.com/sorry/index?continue=%")),
    encoding=st.one_of(st.none(), st.sampled_from(["gbk", "utf-8", "big5", "no-such-charset", "utf-16"])),
)
def test_parse_serp_never_raises_with_engine_given(html: str | bytes, engine: str, url: str | None,
                                                   encoding: str | None) -> None:
    try:
        page = parse_serp(html, url=url, engine=engine, encoding=encoding)
    except SerpParseError:
        return
    assert page.engine == engine
    page.to_json()


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(ENGINE_FIXTURES), cut=st.floats(min_value=0, max_value=1))
def test_truncated_real_pages_never_raise(path: Path, cut: float) -> None:
    raw = path.read_bytes()
    page = parse_serp(raw[: int(len(raw) * cut)], engine=path.parent.name)
    assert page.blocked or page.no_results or page.results or page.parse_error
