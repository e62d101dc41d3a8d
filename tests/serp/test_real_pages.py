"""The SERP parsers on real captured result pages (tests/serp/fixtures/*/real-*.html).

The other fixtures were written from knowledge of the markup; these were saved from the engines
themselves (sources, dates and licences: fixtures/REAL_SOURCES.md). Most are excerpts: the result
markup is as captured, scripts and style sheets are cut. Every page goes through the documented
command line (``pharmwatch serp parse --json``) with the engine auto-detected, as a user would run it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crawler.serp import parse_file, parse_serp
from pharmwatch.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
REAL_PAGES = sorted(FIXTURES.glob("*/real-*.html"))


def cli_parse(path: Path) -> dict[str, Any]:
    """One page through ``pharmwatch serp parse FILE --json`` (engine auto-detected)."""
    result = CliRunner().invoke(cli, ["serp", "parse", str(path), "--json"], obj={})
    assert result.exit_code == 0, result.output
    (page,) = json.loads(result.stdout)
    return page


def test_every_real_page_is_listed_in_real_sources() -> None:
    sources = (FIXTURES / "REAL_SOURCES.md").read_text(encoding="utf-8")
    assert REAL_PAGES, "no real pages found"
    for path in REAL_PAGES:
        assert f"{path.parent.name}/{path.name}" in sources, f"{path.name} has no source entry"


@pytest.mark.parametrize("path", REAL_PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_page_is_detected_and_read(path: Path) -> None:
    page = cli_parse(path)
    assert page["engine"] == path.parent.name  # auto-detected from the page alone
    assert page["parse_error"] is None
    assert page["blocked"] == ("captcha" in path.name or "sorry" in path.name or "antispider" in path.name)
    if not page["blocked"]:
        assert page["results"], path.name
        for result in page["results"]:
            assert result["title"] and result["url"].startswith("http"), result
    # The JSON contract: every documented key, nothing renamed.
    contract = {"file", "engine", "query", "blocked", "results", "page", "block_reason", "no_results", "parse_error"}
    assert contract <= set(page)


# --- Baidu ----------------------------------------------------------------------------------------


def test_baidu_2026_cosc_cards() -> None:
    """2025-26 desktop markup: div.result.c-container.new-pmd, h3.cosc-title, summary-text_*, cosc-source-text."""
    page = cli_parse(FIXTURES / "baidu" / "real-cosc-organic-2026.html")
    results = page["results"]
    assert [(r["rank"], r["is_ad"]) for r in results] == [(1, False), (2, False)]
    first = results[0]
    assert first["title"] == "模型上下文协议(Model Context Protocol,MCP)"
    # The /link?url= token is opaque; the real address is the card's mu= attribute.
    assert first["url"] == "https://baijiahao.baidu.com/s?id=1862678078838724951&wfr=spider&for=pc"
    assert first["displayed_url"] == "deepdata_cn"  # a Baijiahao author, as Baidu shows it
    assert first["snippet"].startswith("模型上下文协议（Model Context Protocol，MCP）是由Anthropic主导推出")
    assert "播报" not in first["snippet"]  # the text-to-speech button is not the abstract
    assert results[1]["url"] == "https://jingzh.blog.csdn.net/article/details/147060557"
    assert results[1]["displayed_url"] == "CSDN技术社区"


def test_baidu_ai_answer_card_is_not_a_result() -> None:
    """The 2025-26 AI answer card carries mu="http://nourl.ubs.baidu.com/<srcid>": no page behind it."""
    card = (
        '<div id="content_left"><div class="result-op c-container new-pmd" srcid="61344" id="1" '
        'tpl="new_baikan_index" mu="http://nourl.ubs.baidu.com/61344"><h3><a href="http://www.baidu.com/'
        'link?url=AI">model context protocol</a></h3></div>'
    )
    real = (FIXTURES / "baidu" / "real-cosc-organic-2026.html").read_text(encoding="utf-8")
    page = parse_serp(real.replace("<body>", "<body>" + card + "</div>", 1), engine="baidu")
    assert [r.url for r in page.results][:1] == [
        "https://baijiahao.baidu.com/s?id=1862678078838724951&wfr=spider&for=pc"
    ]
    assert all("nourl" not in r.url for r in page.results)


def test_baidu_2020_result_c_container() -> None:
    page = cli_parse(FIXTURES / "baidu" / "real-result-c-container-2020.html")
    results = page["results"]
    assert len(results) == 3 and not any(r["is_ad"] for r in results)
    # An Aladdin card (result-op, tpl=xueshu_detail) names its target in mu=.
    assert results[0]["title"] == "市域社会治理现代化路径研究——以绍兴市为例_百度学术"
    assert results[0]["url"].startswith("http://xueshu.baidu.com/s?wd=paperuri:(1v2r00k0pt260tj0ss2w0pa0wy042721)")
    assert results[0]["snippet"].startswith("市域社会治理,是指以地级市的行政区域为范围")
    # Plain results of 2020 had no mu=: the opaque tracking link is all there is.
    assert results[1]["title"] == "达州市创新“3485”模式 加快推进市域社会治理现代化- 四川省人民..."
    assert results[1]["url"].startswith("http://www.baidu.com/link?url=FCq63Pv5w4FX")
    assert results[1]["displayed_url"] == "四川省人民政府"
    assert results[2]["displayed_url"] == "zy.gansudaily.com.cn/system/20..."
    assert results[2]["snippet"].startswith("2020年6月3日 - 每日甘肃网6月3日讯")


def test_baidu_wappass_verification_page_is_blocked() -> None:
    path = FIXTURES / "baidu" / "real-wappass-captcha-2020.html"
    page = cli_parse(path)
    assert page["blocked"] is True and page["results"] == []
    assert page["block_reason"].startswith("百度安全验证")
    # As recorded: the search was redirected to wappass, the blocked query rides in backurl=.
    url = (
        "https://wappass.baidu.com/static/captcha/tuxing.html?&ak=c27bbc89afca0463650ac9bde68ebe06"
        "&backurl=https://www.baidu.com/s?wd%3DPreaching%2Bthe%2Bchoir%26pn%3D0%26oq%3DPreaching%2Bthe%2Bchoir"
        "&logid=10123463438346272915&signature=6a0208234ca259bfc8e90d6300215db6&timestamp=1592072351"
    )
    with_url = parse_serp(path.read_bytes(), url=url)
    assert (with_url.engine, with_url.blocked, with_url.query) == ("baidu", True, "Preaching the choir")


# --- Sogou ----------------------------------------------------------------------------------------


def test_sogou_2026_vrwrap_cards() -> None:
    page = cli_parse(FIXTURES / "sogou" / "real-vrwrap-2026.html")
    assert page["query"] == "model context protocol"
    results = page["results"]
    assert len(results) == 5 and not any(r["is_ad"] for r in results)
    first = results[0]
    assert first["title"] == "Model Context Protocol · GitHub"
    assert first["url"] == "https://github.com/modelcontextprotocol"  # data-url, not the /link?url= token
    assert first["displayed_url"] == "https://github.com/m..."
    assert first["snippet"].startswith("Model Context Protocol An open protocol")
    # A "more from this site" card (struct201102): its snippet sits in p.star-wiki.
    assert results[1]["title"] == "model context protocol的更多内容_CSDN技术社区"
    assert results[1]["snippet"].startswith("MCP协议(Model Context Protocol)深度解析")
    assert results[3]["url"] == "https://www.cnblogs.com/yunlong-study/p/19094390"
    assert results[3]["displayed_url"] == "https://www.cnblogs.com/y..."  # the date span is left out
    titles = [r["title"] for r in results]
    assert not any("大家还在搜" in t or "元宝" in t for t in titles)  # hint box, AI banner


def test_sogou_antispider_page_is_blocked() -> None:
    page = cli_parse(FIXTURES / "sogou" / "real-antispider-2021.html")
    assert page["blocked"] is True and page["results"] == []
    assert "验证码" in page["block_reason"]
    assert page["query"] == "中国威海环翠"  # from the hidden "from" field of the form


# --- 360 ------------------------------------------------------------------------------------------


def test_so360_2026_results_and_onebox() -> None:
    page = cli_parse(FIXTURES / "so360" / "real-organic-onebox-2026.html")
    assert page["query"] == "model context protocol"  # from the title "…_360搜索"
    results = page["results"]
    assert len(results) == 6 and not any(r["is_ad"] for r in results)
    # 360's own translation card counts as shown (360 numbers it too: the first web result is pos 3).
    assert results[0]["url"].startswith("https://fanyi.so.com/")
    second = results[1]
    assert second["title"] == "MCP (Model Context Protocol),一篇就够了"
    assert second["url"] == "http://www.uml.org.cn/ai/202507144.asp"  # data-mdurl, not /link?m=
    assert second["displayed_url"] == "www.uml.org.cn"  # without the "反馈" link
    assert second["snippet"].startswith("MCP (Model Context Protocol,模型上下文协议)定义了")
    assert results[4]["url"] == "https://blog.csdn.net/ZYC88888/article/details/146414158"
    assert "其他人还搜了" not in [r["title"] for r in results]


def test_so360_2014_top_ads() -> None:
    page = parse_file(FIXTURES / "so360" / "real-ads-2014.html")
    assert page.query == "酒店"
    ads = page.ads
    assert [(a.rank, a.ad_position) for a in ads] == [(1, "top"), (2, "top"), (3, "top")]
    assert all(a.ad_label == '与"酒店"相关的推广' for a in ads)
    # The click link is opaque; the landing page is aurl= of the e.tf.360.cn click kept in _cs=.
    assert ads[0].raw_url.startswith("http://e.tf.360.cn/search/aclk?p=59c6Q9rMUkNGtC4T")
    assert ads[0].url == "http://www.booking.com/index.zh.html?aid=375438;label=booking-221"
    assert ads[1].url.startswith("http://hotel.elong.com/?semid=360sem")
    assert [a.displayed_url for a in ads] == [
        "http://www.Booking.com/Hotels",
        "http://hotel.elong.com",
        "http://www.Ctrip.com",
    ]
    assert ads[0].title == "酒店 - 酒店预订"
    assert ads[0].snippet.startswith("酒店 到Booking.com 缤客!")
    organic = page.organic
    assert len(organic) == 7
    assert organic[0].title == "合肥酒店查询预订_携程酒店"  # the hotel onebox leads, as on the page
    assert organic[1].url == "http://jiudian.qunar.com/"
    assert organic[3].displayed_url == "baike.so.com/doc/5348694... 2013-03-19"


# --- Bing -----------------------------------------------------------------------------------------


def test_bing_2026_organic() -> None:
    page = cli_parse(FIXTURES / "bing" / "real-cn-organic-2026.html")
    assert page["query"] == "model context protocol"  # from the pager's aria-label
    results = page["results"]
    assert [r["rank"] for r in results] == list(range(1, 11)) and not any(r["is_ad"] for r in results)
    first = results[0]
    assert first["title"] == "MCP (Model Context Protocol)，一篇就够了。 - 知乎"
    assert first["url"] == "https://zhuanlan.zhihu.com/p/29001189476"
    assert first["displayed_url"] == "https://zhuanlan.zhihu.com"
    assert results[1]["snippet"].startswith("Jul 28, 2026 · MCP (Model Context Protocol) is an open-source")
    assert results[9]["url"] == "https://cloud.tencent.com/developer/article/2659252"
    parsed = parse_file(FIXTURES / "bing" / "real-cn-organic-2026.html")
    assert parsed.next_url is not None and "first=11" in parsed.next_url


# --- Google ---------------------------------------------------------------------------------------


def test_google_basic_page_text_ad() -> None:
    """The no-JavaScript page puts text ads (div.uEierd) straight into #main, not into #tads."""
    page = cli_parse(FIXTURES / "google" / "real-basic-ad-2023.html")
    assert page["query"] == "domain"
    ad, organic = page["results"]
    assert ad["is_ad"] is True and ad["ad_label"] == "Ad"
    assert ad["title"] == "Buy Domain Names - .com Domains From $2.99"
    assert ad["url"] == "https://www.godaddy.com/"  # data-pcu: the /aclk link carries an empty adurl=
    assert ad["displayed_url"] == "www.godaddy.com/"
    assert ad["snippet"].startswith("Domains, Websites, Email, Hosting")
    assert organic["is_ad"] is False
    assert organic["title"] == "Website Domain Names, Online Stores & Hosting - Domain.com"
    assert organic["url"] == "https://www.domain.com/"  # /url?q=
    assert organic["displayed_url"] == "www.domain.com"
    # "People also ask" quotes pages but is not a result.
    assert "TechTarget" not in json.dumps(page["results"])
    assert parse_file(FIXTURES / "google" / "real-basic-ad-2023.html").ads[0].ad_position == "top"


def test_google_sorry_page_is_blocked() -> None:
    page = cli_parse(FIXTURES / "google" / "real-sorry-recaptcha-2020.html")
    assert page["blocked"] is True and page["results"] == []
    assert "unusual traffic" in page["block_reason"]
    assert page["query"] == ".com domains"  # from the form's continue= URL


def test_bing_2019_top_ads() -> None:
    page = parse_file(FIXTURES / "bing" / "real-www-ads-2019.html")
    assert page.query == "kaffeemaschine kaufen"  # from the title "… - Bing"
    ads = page.ads
    assert [(a.rank, a.ad_position, a.ad_label) for a in ads] == [(1, "top", "Ad"), (2, "top", "Ad")]
    assert ads[0].title == "Alternative zu Mespresso - Kapselmaschine kaufen ab 9 Fr"
    # /aclick?…&u=<base64 of the percent-encoded landing page>
    assert ads[0].raw_url.startswith("https://www.bing.com/aclick?ld=e3fHdvx3Ag246rkf")
    assert ads[0].url == "https://www.beanarella.ch/de/kaffeemaschinen/kapselmaschinen/spezial"
    assert ads[0].displayed_url == "https://www.beanarella.ch"
    assert ads[0].snippet.startswith("100% kompostierbare Kaffeekapseln")  # without the "Ad" slug
    assert ads[1].url.startswith(
        "https://www.gryps.ch/produkte/kaffeemaschinen-71/?msclkid=3876dedb21b612acb32b838a498950d7"
    )
    assert ads[1].displayed_url == "https://www.gryps.ch/kaffeemaschine"
    assert page.organic == []  # the excerpt stops after the ads: ads alone are still a read page


# --- Pages with ads and mobile pages (second batch) ------------------------------------------------


def test_google_2021_js_layout_top_ads() -> None:
    """The JavaScript layout: #tads holds div.uEierd > div[data-text-ad] units; label "Ad·" with its dot."""
    page = cli_parse(FIXTURES / "google" / "real-js-top-ads-2021.html")
    results = page["results"]
    ads = [r for r in results if r["is_ad"]]
    organic = [r for r in results if not r["is_ad"]]
    assert [r["is_ad"] for r in results] == [True, True, True, False, False]  # page order: ads first
    assert [a["rank"] for a in ads] == [1, 2, 3] and [o["rank"] for o in organic] == [1, 2]
    assert [a["ad_label"] for a in ads] == ["Ad", "Ad", "Ad"]
    assert [a["title"] for a in ads] == [
        "GoDaddy $0.99 Domains - Get Your Domain With GoDaddy",
        "Register Your .com Domain - On Sale – Free 1st Year",
        "Top 10 Sites to Buy a Domain - Compare 10 Best Domain Hosting",
    ]
    # The ad's href is the landing page (the googleadservices click sits in data-rw).
    assert [a["url"] for a in ads] == [
        "https://www.godaddy.com/offers/domains/names",
        "https://www.ionos.com/domains/free-com-domain",
        "http://www.top10bestwebsitehosting.com/DomainHosting-Comparison",
    ]
    assert [a["displayed_url"] for a in ads] == [
        "www.godaddy.com/",
        "www.ionos.com/",
        "www.top10bestwebsitehosting.com/",
    ]
    assert ads[0]["snippet"].startswith("GoDaddy is trusted by over 20 million customers")
    assert ads[1]["snippet"].startswith("Get the 1st year free with a 2-year registration from IONOS")
    assert all(a["advertiser"] is None for a in ads)  # 2021 text ads name no advertiser
    assert "Domain Names" not in [r["title"] for r in results]  # an ad's sitelink is not a result
    assert organic[0]["title"] == "Website Domains Names & Hosting | Domain.com"
    assert organic[0]["url"] == "https://www.domain.com/"
    assert organic[0]["displayed_url"] == "www.domain.com"
    # The snippet, not the sitelinks under it.
    assert organic[0]["snippet"] == (
        "Find and purchase your next website domain name and hosting without breaking the bank. "
        "Seamlessly establish your online identify today."
    )
    assert organic[1]["url"] == "https://www.namecheap.com/"
    parsed = parse_file(FIXTURES / "google" / "real-js-top-ads-2021.html")
    assert [a.ad_position for a in parsed.ads] == ["top", "top", "top"]


def test_bing_cn_2021_ads_served_by_360() -> None:
    """cn.bing.com: top and bottom ads from 360 ("来自 360"), e.so.com clicks with the landing page in aurl=."""
    path = FIXTURES / "bing" / "real-cn-360-ads-2021.html"
    page = cli_parse(path)
    results = page["results"]
    assert [(r["is_ad"], r["rank"]) for r in results] == [(True, 1), (False, 1), (False, 2), (True, 2)]
    top, first, second, bottom = results
    for ad in (top, bottom):
        assert ad["ad_label"] == "广告"
        assert ad["title"] == "白夜琉璃游戏_2021白夜琉璃电脑版_点击进入游戏"
        assert ad["url"] == "http://luck.sng889.com/on/yx-sy/xianxia41/s5/ccid0268/"  # aurl=, base64
        assert ad["displayed_url"] == "luck.sng889.com"
        # Without the network ("来自 360") and the label.
        assert ad["snippet"].startswith("2021免费仙侠游戏「白夜琉璃」,全新地图")
        assert ad["snippet"].endswith("注册送首充,送VIP!")
        assert ad["advertiser"] is None  # 360-served ads name no advertiser on Bing
    assert first["title"] == "白夜琉璃手游下载-白夜琉璃手游内测版v1.4.8-第五驱动"
    assert first["url"] == "http://www.drv5.cn/azgame/77154.html"
    assert first["displayed_url"] == "www.drv5.cn/azgame/77154.html"
    assert first["snippet"].startswith("2021-5-11 · 白夜琉璃是一款浪漫情缘题材的唯美仙侠游戏")
    assert second["url"] == "https://www.lanrentuku.com/shouyou/47585.html"
    parsed = parse_file(path)
    assert [a.ad_position for a in parsed.ads] == ["top", "bottom"]
    assert parsed.ads[0].raw_url.startswith("http://e.so.com/search/eclk?p=dac8DLoMp5KV6LLF")


def test_sogou_2014_sponsored_ads() -> None:
    """Older desktop ads: div.sponsored#promotion_adv_container > ol > li, /bill_cpc? links, a 推广 label."""
    page = cli_parse(FIXTURES / "sogou" / "real-sponsored-ads-2014.html")
    assert page["query"] == "酒店预订"
    results = page["results"]
    assert [(r["is_ad"], r["rank"]) for r in results] == [(True, 1), (True, 2)]
    first, second = results
    assert [r["ad_label"] for r in results] == ["推广", "推广"]
    assert first["title"] == "同程网酒店预订大全,超底酒店2-7折!折上返现20%房费!"
    assert second["title"] == "酒店预订,eLong.com全球酒店预订网 2折特价预订"
    assert first["displayed_url"] == "www.17u.cn/最高返300!限时抢!"
    assert second["displayed_url"] == "www.eLong.com/艺龙网-酒店预订2-7折"
    # /bill_cpc? is opaque (no landing page on the page): the click link is what there is.
    assert first["url"].startswith("http://www.sogou.com/bill_cpc?v=1&p=WJ80$xB$YnFccAty3dpcBnwvJoqp")
    assert first["snippet"].startswith("同程网专业酒店预订网!4万余家在线酒店预订!")
    assert all(r["advertiser"] is None for r in results)


def test_baidu_mobile_2015_ad_and_cards() -> None:
    """m.baidu.com: div.result cards with data-log (real URL in 'mu'), an ad with obfuscated classes."""
    path = FIXTURES / "baidu" / "real-mobile-ad-2015.html"
    page = cli_parse(path)
    assert page["query"] == "酒店"  # from textarea#kw
    results = page["results"]
    ads = [r for r in results if r["is_ad"]]
    organic = [r for r in results if not r["is_ad"]]
    assert len(ads) == 1 and len(organic) == 4 and results[0]["is_ad"]
    ad = ads[0]
    assert ad["rank"] == 1 and ad["ad_label"] == "推广"
    assert ad["title"] == "酒店预订到Agoda 全球酒店1-7折"
    assert ad["displayed_url"] == "m.agoda.com"
    assert ad["snippet"] == "Agoda特价酒店预订,超55万家酒店,公寓,别墅的住宿选择!"
    assert ad["url"].startswith("http://m.baidu.com/baidu.php?url=GaTK00K_1fUDS9Bu")  # opaque token
    assert ad["advertiser"] is None  # the grey text is the display URL, not an advertiser
    assert [o["rank"] for o in organic] == [1, 2, 3, 4]
    assert [o["title"] for o in organic] == [
        "酒店查询与预订",
        "广州市的酒店(共760个)_百度地图",
        "【去哪儿酒店】酒店预订, 酒店查询-去哪儿网Qunar.com",
        "酒店_百度百科",
    ]
    # data-log's 'mu' names the page; the link is an opaque m.baidu.com/tc? redirect.
    assert organic[0]["url"] == "http://touch.qunar.com/h5/hotel/hoteldetail?seq=guangzhou_11785&bd_source=bd_lapp_hotel"
    assert organic[1]["url"].startswith("http://map.baidu.com/mobile/webapp/search/search/qt=s&wd=%E9%85%92%E5%BA%97")
    assert "/tc?" in organic[2]["url"] and "order=3" in organic[2]["url"]  # 'mu' is empty for this one
    assert organic[2]["displayed_url"] == "h.qunar.com"
    assert organic[2]["snippet"].startswith("去哪儿网酒店预订频道提供国内外酒店预订")
    assert organic[3]["url"] == "http://baike.baidu.com/view/128810.htm?fr=aladdin"
    assert organic[3]["snippet"].startswith("简介：酒店（又称为宾馆、旅馆")
    with_url = parse_serp(path.read_bytes(), url="https://m.baidu.com/s?word=%E9%85%92%E5%BA%97")
    assert with_url.engine == "baidu" and with_url.organic[2].url.startswith("https://m.baidu.com/from=0/")
