"""Tests of crawler/serp/engines/bing.yaml on cn.bing.com and www.bing.com fixtures (Bing serves UTF-8 only)."""

from __future__ import annotations

from pathlib import Path

from crawler.serp import build_search_url, parse_file, parse_serp

BING = Path(__file__).parents[1] / "fixtures" / "bing"


def test_cn_bing_ads_top_and_bottom_and_organic() -> None:
    page = parse_file(BING / "cn_ads_top_bottom.html")  # no URL: detected from its markers
    assert (page.engine, page.query, page.page) == ("bing", "降糖药", 1)  # query from the <textarea> box
    assert not page.blocked and not page.no_results and page.parse_error is None
    ads = page.ads
    assert [(a.rank, a.ad_position, a.ad_label, a.advertiser) for a in ads] == [
        (1, "top", "广告", None),  # 360-served ads name only the network ("来自 360")
        (2, "top", "广告", None),
        (3, "bottom", "广告", None),
    ]
    # e.so.com click link, landing page in aurl= (base64)
    assert ads[0].url == "https://www.tangyao-jiankang.example/lp/bing-cn.html?utm_source=bing"
    # /aclick?u=<base64 of a percent-encoded e.so.com click link> -> e.so.com aurl= -> landing page
    assert ads[1].url == "http://www.zhongyao-tnb.example/lp/bing.html"
    assert ads[1].raw_url.startswith("https://cn.bing.com/aclick?ld=")
    assert ads[2].url.startswith("http://e.so.com/search/eclk?p=Rb5nM8qW")  # nothing readable: kept
    assert ads[0].title == "降糖新药 三天见效 告别胰岛素 无效退款"
    assert ads[0].displayed_url == "www.tangyao-jiankang.example"
    # the network and the label inside the paragraph are not ad text
    assert ads[0].snippet == "糖尿病患者福音！纯植物提取降糖新药，三天血糖稳降，一个疗程摆脱胰岛素。"
    organic = page.organic
    assert [(o.rank, o.url) for o in organic] == [
        (1, "https://baike.baidu.com/item/%E9%99%8D%E7%B3%96%E8%8D%AF/1093764"),  # /ck/a u=a1<base64url>
        (2, "https://www.tangyao-jiankang.example/news/2024/0518/1123.html"),
        (3, "https://www.zhihu.com/question/38541022"),  # older direct link
        (4, "https://www.nmpa.gov.cn/xxgk/kpzhsh/kpzhshyp/20240312093000123.html"),
    ]
    assert organic[0].raw_url.startswith("https://cn.bing.com/ck/a?!&&p=")
    assert organic[0].title == "降糖药 - 百度百科"
    assert organic[0].displayed_url == "https://baike.baidu.com › item"
    # the "网页" slug is left out; &ensp; collapses to a space
    assert organic[0].snippet.startswith("2023年11月2日 · 降糖药是指用于治疗糖尿病")
    assert organic[2].displayed_url == "https://www.zhihu.com/question/38541022"
    assert organic[3].snippet.startswith("目前糖尿病尚不能根治")  # rich card, no <p>
    titles = {r.title for r in page.results}
    assert "降糖药能停吗 - 问答来源页" not in titles  # "related questions" is not a result
    assert page.related == ["降糖药排行榜", "新型降糖药", "纯中药降糖"]
    assert page.next_url == "https://cn.bing.com/search?q=%e9%99%8d%e7%b3%96%e8%8d%af&first=11&FORM=PORE"


def test_www_bing_organic_only_page_two() -> None:
    page = parse_file(BING / "www_organic_only.html")
    assert (page.engine, page.query, page.page) == ("bing", "metformin side effects", 2)
    assert page.ads == [] and page.parse_error is None
    assert [r.rank for r in page.results] == [1, 2, 3, 4, 5]
    first = page.results[0]
    assert first.url == "https://www.mayoclinic.example/drugs-supplements/metformin-oral-route/side-effects/drg-20067074"
    assert first.title == "Metformin (oral route) - Side effects & dosage - Mayo Clinic"
    assert first.displayed_url == "https://www.mayoclinic.example › drugs-supplements › metformin"
    assert first.snippet.startswith("Along with its needed effects, metformin")  # "Web" slug left out
    assert page.results[1].snippet.startswith("Jan 12, 2024 · Like all medicines")
    assert page.results[2].snippet.startswith("Metformin, sold under the brand name")  # "Wikipedia" slug
    assert page.results[4].url == "https://www.reddit.com/r/diabetes/comments/1a2b3c/metformin_side_effects_get_better/"
    assert page.next_url == "https://www.bing.com/search?q=metformin+side+effects&first=21&FORM=PORE"


def test_www_bing_microsoft_ad_with_advertiser() -> None:
    page = parse_file(BING / "www_ads_sponsored.html")
    ad = page.ads[0]
    assert (ad.ad_label, ad.advertiser, ad.ad_position) == ("Ad", "Canadian Rx Direct", "top")
    assert ad.url == "https://www.canadian-rx-direct.example/metformin?msclkid=4f2e1d0c"  # /aclick u=a1...
    assert ad.title == "Buy Metformin Online - No Prescription Needed"
    assert ad.displayed_url == "https://www.canadian-rx-direct.example › metformin"
    assert page.organic[0].url == "https://www.fda.gov/drugs/drug-safety-and-availability/metformin"


def test_captcha_page_is_blocked() -> None:
    page = parse_file(BING / "captcha.html")
    assert page.engine == "bing" and page.blocked
    assert page.block_reason == "Bing verification challenge (One last step / Cloudflare Turnstile)"
    assert page.query == "降糖药"  # the challenge keeps Bing's header and search box
    assert page.results == [] and page.parse_error is None


def test_captcha_found_by_text_alone() -> None:
    html = (BING / "captcha.html").read_text(encoding="utf-8")
    script = '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit" async defer></script>'
    html = html.replace(script, "").replace('class="captcha"', 'class="chal"')
    page = parse_serp(html, url="https://cn.bing.com/search?q=%E9%99%8D%E7%B3%96%E8%8D%AF")
    assert page.block_reason == "Bing verification challenge (Please solve the challenge below to continue)"


def test_no_results_page() -> None:
    page = parse_file(BING / "no_results.html")
    assert page.engine == "bing" and page.no_results and not page.blocked
    assert page.results == [] and page.parse_error is None
    assert page.query == "xq降糖灵胶囊9527号"


def test_changed_markup_is_a_parse_error() -> None:
    html = (BING / "www_organic_only.html").read_text(encoding="utf-8").replace('class="b_algo"', 'class="b_algo_v2"')
    page = parse_serp(html)
    assert page.engine == "bing" and page.results == []
    assert page.parse_error.startswith("0 results found with selectors of bing; the markup may have changed")


def test_search_url_uses_first() -> None:
    assert build_search_url("bing", "降糖药", 1) == "https://cn.bing.com/search?q=%E9%99%8D%E7%B3%96%E8%8D%AF&first=1"
    assert build_search_url("bing", "降糖药", 3).endswith("&first=21")
    # a www.bing.com page is Bing too, and its page number is read from first=
    page = parse_serp(
        (BING / "no_results.html").read_text(encoding="utf-8"), url="https://www.bing.com/search?q=x&first=21"
    )
    assert (page.engine, page.page) == ("bing", 3)
