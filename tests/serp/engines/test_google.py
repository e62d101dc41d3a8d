"""Tests of crawler/serp/engines/google.yaml on google.com / google.com.hk fixtures (JS and basic layouts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.serp import build_search_url, parse_file, parse_serp

GOOGLE = Path(__file__).parents[1] / "fixtures" / "google"


def test_ads_top_and_bottom_and_organic() -> None:
    page = parse_file(GOOGLE / "ads_top_bottom.html")  # no URL: detected from its markers
    assert (page.engine, page.query, page.page) == ("google", "降糖药", 1)
    assert not page.blocked and not page.no_results and page.parse_error is None
    ads = page.ads
    assert [(a.rank, a.ad_position, a.ad_label, a.advertiser) for a in ads] == [
        (1, "top", "赞助商广告", "广州糖安生物科技有限公司"),
        (2, "top", "赞助商广告", None),  # no advertiser line on this card
        (3, "bottom", "赞助商广告", "郑州仁心堂中医药科技有限公司"),
    ]
    assert ads[0].title == "降糖新药 三天见效 告别胰岛素 - 无效全额退款"
    assert ads[0].url == "https://www.tangyao-jiankang.example/lp/gg01.html"  # the href is the landing page
    assert ads[0].displayed_url == "https://www.tangyao-jiankang.example"
    assert ads[0].snippet.startswith("糖尿病患者福音！纯植物提取降糖新药")
    # googleadservices.com/pagead/aclk?...&adurl=<landing page>
    assert ads[1].url == "https://www.yaoshun-rx.example/goods/jtyao.html?gclid=EAIaIQobChMI"
    assert ads[2].url == "https://www.renxintang-zy.example/tnb/?src=gg"  # the href, not data-pcu
    organic = page.organic
    assert [(o.rank, o.url) for o in organic] == [
        (1, "https://baike.baidu.com/item/%E9%99%8D%E7%B3%96%E8%8D%AF/1093764"),
        (2, "https://www.tangyao-jiankang.example/news/2024/0518/1123.html"),  # /url?q=
        (3, "https://www.zhihu.com/question/38541022"),  # sitelinks are part of it
        (4, "https://www.nmpa.gov.cn/xxgk/kpzhsh/kpzhshyp/20240312093000123.html"),
    ]
    assert organic[1].raw_url.startswith("/url?q=https://www.tangyao-jiankang.example/")
    assert organic[0].title == "降糖药- 百度百科"
    assert organic[0].displayed_url == "https://baike.baidu.com › item › 降糖药"
    assert organic[0].snippet.startswith("2023年11月2日 — 降糖药是指用于治疗糖尿病")
    titles = {r.title for r in page.results}
    assert "降糖药能停吗？医生解答 - 问答来源页" not in titles  # "People also ask" quotes pages: not results
    assert "糖尿病话题" not in titles
    assert page.related == ["降糖药排行榜", "新型降糖药"]
    assert not titles & set(page.related)
    assert page.next_url == (
        "https://www.google.com.hk/search?q=%E9%99%8D%E7%B3%96%E8%8D%AF&sca_esv=b3f1c2d4&start=10&sa=N"
    )


def test_organic_only_saved_page_two() -> None:
    page = parse_file(GOOGLE / "organic_only.html")
    assert (page.engine, page.query, page.page) == ("google", "metformin side effects", 2)
    assert page.ads == [] and page.parse_error is None
    assert [r.rank for r in page.results] == [1, 2, 3, 4, 5]
    first = page.results[0]
    assert first.title == "Metformin (Oral Route) Side Effects - Mayo Clinic"
    assert first.url == "https://www.mayoclinic.example/drugs-supplements/metformin-oral-route/side-effects/drg-20067074"
    assert first.displayed_url == "https://www.mayoclinic.example › drugs-supplements › metformin"
    assert first.snippet.startswith("Feb 1, 2024 — Along with its needed effects")
    assert page.results[2].url == "https://en.wikipedia.org/wiki/Metformin"  # nested div.g counts once
    assert page.results[2].snippet.startswith("Metformin, sold under the brand name Glucophage")  # aCOpRe
    assert page.results[3].snippet is None  # video result
    assert page.next_url == "https://www.google.com/search?q=metformin+side+effects&start=20&sa=N"


def test_basic_html_page_in_big5() -> None:
    raw = (GOOGLE / "basic_big5.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    page = parse_serp(raw)
    assert (page.engine, page.query) == ("google", "降血糖藥")
    assert [(a.ad_label, a.title, a.url, a.displayed_url) for a in page.ads] == [
        (
            "廣告",
            "降血糖新藥 三日見效 告別胰島素",
            "https://www.tangyao-hk.example/lp?src=ggbasic",  # /aclk?...&adurl=
            "www.tangyao-hk.example",  # the label before the URL is left out
        ),
    ]
    assert page.ads[0].snippet == "純天然草本降糖，香港直送內地，三日血糖穩定，無效退款。"
    assert [(o.rank, o.url) for o in page.organic] == [
        (1, "https://www.ha-health.example/zh/drugs/antidiabetic.html"),
        (2, "https://zh.wikipedia.org/zh-hk/%E9%99%8D%E8%A1%80%E7%B3%96%E8%97%A5"),
        (3, "https://www.hk-pharmacy-online.example/products/glucose-control"),
    ]
    assert page.organic[1].displayed_url == "zh.wikipedia.org › zh-hk › 降血糖藥"  # &#8250; and &#...; entities
    assert page.organic[1].snippet == "降血糖藥是用於治療糖尿病的藥物，口服藥物包括雙胍類、磺醯脲類等。"
    assert page.related == ["降血糖藥排名"]
    assert "start=10" in page.next_url


def test_unusual_traffic_page_is_blocked() -> None:
    page = parse_file(GOOGLE / "sorry.html")
    assert page.engine == "google" and page.blocked
    assert page.block_reason == "Google unusual traffic (/sorry/index CAPTCHA)"
    assert page.query == "降糖药"  # from continue=, not the sorry page's own q= token
    assert page.results == [] and page.parse_error is None


def test_unusual_traffic_page_without_its_url() -> None:
    html = (GOOGLE / "sorry.html").read_text(encoding="utf-8")
    html = html.replace(html.splitlines()[1], "")
    page = parse_serp(html)
    assert page.engine == "google" and page.blocked
    assert page.block_reason == "Google unusual traffic (Our systems have detected unusual traffic)"
    assert page.query == "降糖药"  # from the form's "continue" field


def test_javascript_interstitial_is_blocked() -> None:
    url = "https://www.google.com/search?q=%E9%99%8D%E7%B3%96%E8%8D%AF"
    page = parse_serp((GOOGLE / "enablejs.html").read_bytes(), url=url)
    assert page.blocked and page.query == "降糖药"
    assert page.block_reason == "Google requires JavaScript (enablejs interstitial, no results served)"


def test_consent_page_is_blocked() -> None:
    html = '<html><body><form action="https://consent.google.com/save" method="POST"><button>全部接受</button></form>'
    page = parse_serp(html, url="https://consent.google.com/ml?continue=https://www.google.com/search?q%3Dabc")
    assert page.blocked and page.block_reason == "Google consent interstitial (Before you continue)"
    assert page.query == "abc"


def test_no_results_page() -> None:
    page = parse_file(GOOGLE / "no_results.html")
    assert page.engine == "google" and page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "xq降糖灵胶囊9527号"


@pytest.mark.parametrize(
    ("old", "new"),
    [('class="g tF2Cxc"', 'class="rslt"'), ("<h3 ", "<h4 ")],
    ids=["result-class", "title-heading"],
)
def test_changed_markup_is_a_parse_error(old: str, new: str) -> None:
    html = (GOOGLE / "organic_only.html").read_text(encoding="utf-8").replace(old, new)
    html = html.replace('<div class="g" data-hveid="CAUQAA"><div data-hveid="CAUQAQ" class="tF2Cxc">', "<div><div>")
    page = parse_serp(html)
    assert page.engine == "google" and page.results == []
    assert page.parse_error.startswith("0 results found with selectors of google; the markup may have changed")


def test_search_url() -> None:
    url = build_search_url("google", "降糖药", 2)
    assert url == "https://www.google.com.hk/search?q=%E9%99%8D%E7%B3%96%E8%8D%AF&start=10"
    assert build_search_url("google_hk", "x", 1).endswith("&start=0")
