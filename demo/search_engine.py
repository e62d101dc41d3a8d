"""Mock search engine of the demo web (host ``search.test``), modelled on Baidu's desktop pages.

Owns the engine's behaviour only: ``handle()`` turns a request path into (status, headers, body);
the demo server routes every request for ``search.test`` here. Result data lives in
``demo/search/results.yaml``. Endpoints: ``/`` home, ``/s?wd=&pn=`` result pages (organic results
and paid ads), ``/link?url=`` and ``/baidu.php?url=`` click-tracking redirects.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import yaml

HOST = "search.test"
ORIGIN = f"http://{HOST}"
RESULTS_PER_PAGE = 10
# Any query containing this word gets the verification (block) page, so scans can exercise it.
BLOCK_TRIGGER = "触发验证"
# A query containing this word is blocked the first time it is asked (per server process), then
# answered as the query without it: an engine that rate-limits and recovers, to exercise back-off.
FLAKY_TRIGGER = "偶发验证"
_flaky_seen: set[str] = set()
_flaky_lock = threading.Lock()
DATA_PATH = Path(__file__).with_name("search") / "results.yaml"

Response = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Entry:
    """One result or ad of the demo data."""

    title: str
    url: str
    snippet: str
    date: str | None = None
    advertiser: str | None = None
    shown_url: str | None = None
    position: str = "top"
    page: int = 1


@dataclass(frozen=True)
class QueryData:
    """Everything the engine shows for one query."""

    query: str
    highlight: tuple[str, ...]
    related: tuple[str, ...]
    in_column_related: tuple[str, ...]
    ads: tuple[Entry, ...]
    organic: tuple[Entry, ...]


def normalize_query(query: str) -> str:
    """Fold width, case and whitespace so 高血压　特效药 and 高血压 特效药 find the same page."""
    return " ".join(unicodedata.normalize("NFKC", query).split()).casefold()


@lru_cache(maxsize=1)
def load_results(path: Path = DATA_PATH) -> dict[str, QueryData]:
    """Read the result data, keyed by normalised query and by each alias."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    table: dict[str, QueryData] = {}
    for query, spec in raw["queries"].items():
        data = QueryData(
            query=query,
            highlight=tuple(spec.get("highlight", ())),
            related=tuple(spec.get("related", ())),
            in_column_related=tuple(spec.get("in_column_related", ())),
            ads=tuple(Entry(**_entry_fields(ad)) for ad in spec.get("ads", ())),
            organic=tuple(Entry(**_entry_fields(item)) for item in spec.get("organic", ())),
        )
        for key in (query, *spec.get("aliases", ())):
            table[normalize_query(key)] = data
    return table


def _entry_fields(item: dict[str, object]) -> dict[str, object]:
    # YAML reads an unquoted 2024-05-12 as a date: keep it as text for display.
    return {k: (str(v) if k == "date" and v is not None else v) for k, v in item.items()}


def handle(path_and_query: str) -> Response:
    """Answer one request for host search.test; accepts a path or an absolute proxy-style URL."""
    parts = urlsplit(path_and_query)
    path = parts.path or "/"
    if path == "/":
        return _html(200, _render_home())
    if path == "/s":
        return _search(parts.query)
    if path in ("/link", "/baidu.php"):
        return _redirect(parts.query)
    return _html(404, _render_not_found())


# --- endpoints -------------------------------------------------------------------------------------


def _search(raw_query: str) -> Response:
    params = _parse_params(raw_query)
    query = " ".join(params.get("wd", params.get("word", "")).split())
    if not query:
        # Baidu sends an empty search back to its home page.
        return 302, [("Location", "/"), ("Content-Type", "text/html; charset=utf-8")], b""
    out_encoding = _charset(params.get("oe", "utf-8"))
    if BLOCK_TRIGGER in query:
        # Baidu answers its verification page with status 200, not 403: detection must read the page.
        return _html(200, _render_block(query), out_encoding)
    if FLAKY_TRIGGER in query:
        with _flaky_lock:
            first_time = raw_query not in _flaky_seen
            _flaky_seen.add(raw_query)
        if first_time:
            return _html(200, _render_block(query), out_encoding)
        query = " ".join(query.replace(FLAKY_TRIGGER, " ").split())
    data = load_results().get(normalize_query(query))
    if data is None:
        return _html(200, _render_no_results(query, out_encoding), out_encoding)
    try:
        offset = max(int(params.get("pn", "0")), 0)
    except ValueError:
        offset = 0
    pages = max(1, -(-len(data.organic) // RESULTS_PER_PAGE))
    # Past the last page the engine shows the last page (its #page marks which one), as Baidu does.
    page = min(offset // RESULTS_PER_PAGE, pages - 1) + 1
    return _html(200, _render_results(query, data, page, pages, out_encoding), out_encoding)


def _redirect(raw_query: str) -> Response:
    target = _parse_params(raw_query).get("url", "")
    if urlsplit(target).scheme not in ("http", "https"):
        # A tracking link only ever leads to web pages; anything else is a broken or forged link.
        return _html(400, _page("链接无效", '<div class="err">链接无效或已过期</div>'))
    body = f'<html><body><a href="{html.escape(target)}">{html.escape(target)}</a></body></html>'
    headers = [("Location", target), ("Content-Type", "text/html; charset=utf-8")]
    return 302, headers, body.encode("utf-8")


def _parse_params(raw_query: str) -> dict[str, str]:
    # ie= names how the query string was encoded (old Baidu links carry GBK-encoded wd=).
    first = parse_qs(raw_query, keep_blank_values=True)
    encoding = _charset(first.get("ie", ["utf-8"])[0])
    parsed = parse_qs(raw_query, keep_blank_values=True, encoding=encoding, errors="replace")
    return {key: values[0] for key, values in parsed.items()}


def _charset(name: str) -> str:
    # Only the encodings a Chinese engine actually serves; anything else falls back to UTF-8.
    name = name.strip().lower()
    return name if name in ("utf-8", "gbk", "gb2312", "gb18030") else "utf-8"


def _html(status: int, text: str, encoding: str = "utf-8") -> Response:
    # Characters outside GBK become numeric references, as a GBK site would have to write them.
    body = text.encode(encoding, errors="xmlcharrefreplace")
    return status, [("Content-Type", f"text/html; charset={encoding}")], body


# --- rendering -------------------------------------------------------------------------------------


def tracking_link(target: str) -> str:
    """Organic click link: the real target rides percent-encoded in url=, so it resolves offline."""
    return f"{ORIGIN}/link?url={quote(target, safe='')}"


def ad_link(target: str, query: str, slot: int) -> str:
    """Ad click link: a different click path, with a click key like Baidu's ck=."""
    ck = hashlib.sha1(f"{query}|{slot}|{target}".encode()).hexdigest()[:12]
    return f"{ORIGIN}/baidu.php?url={quote(target, safe='')}&ck={ck}&shh={HOST}"


def search_link(query: str, offset: int = 0, **extra: str) -> str:
    params = {"wd": query, **({"pn": str(offset)} if offset else {}), **extra}
    return "/s?" + urlencode(params)


def shown_url(url: str, limit: int = 30) -> str:
    """Displayed URL as the engine prints it: no scheme, long ones cut with '...'."""
    text = re.sub(r"^[a-z]+://", "", url)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def highlight(text: str, terms: tuple[str, ...]) -> str:
    """Escape text and wrap query terms in <em>, the way result pages mark matches."""
    words = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<em>{html.escape(match.group())}</em>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _date_cn(date: str | None) -> str:
    if not date:
        return ""
    year, month, day = (int(p) for p in date.split("-"))
    return f'<span class="c-color-gray2">{year}年{month}月{day}日&nbsp;</span>'


def _page(title: str, body: str, charset: str = "utf-8", query: str = "") -> str:
    # The page script mentions the verification and no-results wording on purpose: real engine pages
    # carry UI strings in scripts, and a parser must only look at what the page shows.
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="content-type" content="text/html;charset={charset}">
<meta http-equiv="X-UA-Compatible" content="IE=edge,chrome=1">
<meta name="referrer" content="always">
<meta name="generator" content="pharmwatch-demo-search">
<title>{html.escape(title)}</title>
<link rel="search" type="application/opensearchdescription+xml" href="/content-search.xml" title="演示搜索">
<script>var bds={{comm:{{qid:"{hashlib.md5(query.encode()).hexdigest()[:16]}",
tips:{{verify:"百度安全验证",nors:"很抱歉，没有找到与相关的网页",ad:"广告"}}}}}};</script>
</head>
<body>
{body}
</body>
</html>
"""


def _head(query: str, charset: str = "utf-8") -> str:
    return f"""<div id="head"><div class="head_wrapper">
<a href="/" id="result_logo"><img src="/img/logo.png" alt="到演示搜索首页" title="到演示搜索首页"></a>
<form id="form" name="f" action="/s" class="fm">
<input type="hidden" name="ie" value="{charset}">
<span class="bg s_ipt_wr"><input id="kw" name="wd" class="s_ipt" value="{html.escape(query)}"
 maxlength="255" autocomplete="off"></span>
<span class="bg s_btn_wr"><input type="submit" id="su" value="搜索一下" class="bg s_btn"></span>
</form></div></div>
<div id="s_tab" class="s_tab"><b>网页</b><a href="/s?tn=news">资讯</a><a href="/s?tn=video">视频</a>
<a href="/s?tn=image">图片</a><a href="/s?tn=zhidao">知道</a><a href="/s?tn=wenku">文库</a></div>"""


def _render_home() -> str:
    body = f"""<div id="wrapper" class="wrapper_new">
<div id="lg"><img src="/img/logo.png" alt="演示搜索"></div>
{_head("")}
<p id="cp">PharmWatch 演示网络 · 模拟搜索引擎，仅用于测试</p></div>"""
    return _page("演示搜索，你就知道", body)


def _render_not_found() -> str:
    return _page("页面不存在_演示搜索", '<div class="err">抱歉，您要访问的页面不存在。</div>')


def _render_block(query: str) -> str:
    back = html.escape(ORIGIN + search_link(query))
    body = f"""<div class="timeout hide-callback"><div class="timeout-img"></div>
<div class="timeout-title">网络不给力，请稍后重试</div>
<button type="button" class="timeout-button">返回首页</button></div>
<div id="wappass" class="passMod_dialog-wrapper"><div class="passMod_dialog-body">
<div class="passMod_dialog-header">百度安全验证</div>
<div class="passMod_dialog-content">
<p class="vcode-spin-faq">请完成下方验证后继续操作</p>
<div class="vcode-spin-img"><img src="/img/spin.png" alt="旋转验证"></div>
<div class="vcode-spin-button"><p>拖动左侧滑块使图片为正</p></div>
<form id="verify" action="{ORIGIN}/verify" method="post">
<input type="hidden" name="backurl" value="{back}">
<input type="hidden" name="ak" value="demo"></form>
</div>
<div class="passMod_dialog-footer"><a href="/">返回首页</a> <a href="/feedback">问题反馈</a></div>
</div></div>"""
    return _page("百度安全验证", body, query=query)


def _render_no_results(query: str, charset: str) -> str:
    body = f"""<div id="wrapper">{_head(query, charset)}
<div id="container" class="container_new">
<div id="content_left">
<div class="nors"><div class="norsSuggest">
<h3 class="norsTitle">很抱歉，没有找到与<span style="font-family:宋体">“</span><em>{html.escape(query)}</em>\
<span style="font-family:宋体">”</span>相关的网页。</h3>
<p class="norsTitle2">温馨提示：</p>
<ol><li>请检查您的输入是否正确</li>
<li>如网页未收录或者新站未收录，请<a href="/sitesubmit">提交网址</a>给我们</li>
<li>如有任何意见或建议，请及时<a href="/feedback">反馈给我们</a></li></ol>
</div></div>
</div></div>
{_foot()}</div>"""
    return _page(f"{query}_演示搜索", body, charset, query)


def _render_results(query: str, data: QueryData, page: int, pages: int, charset: str) -> str:
    terms = (*query.split(), *data.highlight)
    ads = [ad for ad in data.ads if ad.page == page]
    top = [ad for ad in ads if ad.position != "bottom"]
    bottom = [ad for ad in ads if ad.position == "bottom"]
    start = (page - 1) * RESULTS_PER_PAGE
    organic = data.organic[start : start + RESULTS_PER_PAGE]

    cards: list[str] = []
    for i, ad in enumerate(top, 1):
        cards.append(_ad_card(ad, query, 3000 + i, terms))
    for i, item in enumerate(organic, start + 1):
        cards.append(_organic_card(item, i, terms))
        # Baidu drops its "others also searched" card among the results, after the third one.
        if i == start + 3 and data.in_column_related and page == 1:
            cards.append(_in_column_related(data.in_column_related))
    for i, ad in enumerate(bottom, 1):
        cards.append(_ad_card(ad, query, 4000 + i, terms))

    total = (len(data.organic) + len(data.ads)) * 98_317
    body = f"""<div id="wrapper">{_head(query, charset)}
<div id="wrapper_wrapper"><div id="container" class="container_new">
<div class="head_nums_cont_outer"><div class="nums"><span class="nums_text">\
为您找到相关结果约{total:,}个</span></div></div>
<div id="content_left">
{"".join(cards)}
</div>
{_content_right()}
{_related(data.related)}
{_pager(query, page, pages)}
</div></div>
{_foot()}</div>"""
    return _page(f"{query}_演示搜索", body, charset, query)


def _organic_card(item: Entry, rank: int, terms: tuple[str, ...]) -> str:
    link = html.escape(tracking_link(item.url))
    shown = html.escape(item.shown_url or shown_url(item.url))
    return f"""
<div class="result c-container new-pmd" id="{rank}" srcid="1599" tpl="se_com_default" \
mu="{html.escape(item.url)}" data-click="{{'rsv_bdr':'0','p5':{rank}}}">
<h3 class="c-title t"><a href="{link}" target="_blank">{highlight(item.title, terms)}</a></h3>
<div class="c-row c-gap-top-small">
<div class="c-abstract">{_date_cn(item.date)}{highlight(item.snippet, terms)}</div>
<div class="f13 c-gap-top-xsmall se_st_footer">
<a target="_blank" href="{link}" class="c-showurl c-color-gray" style="text-decoration:none;">{shown}</a>
<div class="c-tools c-gap-left" data-tools="{{'title':'…'}}"><i class="c-icon c-icon-triangle-down"></i></div>
<span class="c-icons-outer"><span class="c-icons-inner"></span></span>
</div></div>
</div>"""


def _ad_card(ad: Entry, query: str, slot: int, terms: tuple[str, ...]) -> str:
    link = html.escape(ad_link(ad.url, query, slot))
    shown = html.escape(ad.shown_url or shown_url(ad.url))
    advertiser = html.escape(ad.advertiser or "")
    return f"""
<div class="c-container ec-result new-pmd" id="{slot}" data-tuiguang="{slot}" cmatch="225" \
data-click="{{'rsv_cd':'ad','p5':{slot}}}">
<h3 class="t ec-title"><a href="{link}" target="_blank">{highlight(ad.title, terms)}</a></h3>
<div class="c-row ec-desc">{highlight(ad.snippet, terms)}</div>
<div class="ec-showurl-line f13 c-gap-top-xsmall">
<a class="c-showurl c-color-gray" href="{link}" target="_blank">{shown}</a>
<span class="ec-advertiser c-color-gray c-gap-left">{advertiser}</span><i class="c-icon ec-v-icon" \
title="信誉认证"></i>
<span class="ec-tuiguang ecfc-tuiguang c-gap-left">广告</span>
</div>
</div>"""


def _in_column_related(words: tuple[str, ...]) -> str:
    links = "".join(f'<a href="{html.escape(search_link(w, rsf="101"))}">{html.escape(w)}</a>' for w in words)
    return f"""
<div class="result-op c-container new-pmd" srcid="28608" tpl="recommend_list">
<div class="c-font-medium c-title">其他人还在搜</div>
<div class="c-row list_1V4Yg">{links}</div>
</div>"""


def _content_right() -> str:
    hot = ["医保药品目录调整", "流感高发季用药提醒", "网售处方药新规"]
    items = "".join(
        f'<li><a href="{html.escape(search_link(h, rsv_dl="0_right_fyb"))}">{html.escape(h)}</a></li>'
        for h in hot
    )
    return f"""<div id="content_right" class="cr-offset">
<div class="cr-title">演示热搜</div><ol class="hot-list">{items}</ol></div>"""


def _related(words: tuple[str, ...]) -> str:
    if not words:
        return ""
    cells = "".join(
        f'<th><a href="{html.escape(search_link(w, rsf="1"))}">{html.escape(w)}</a></th>' for w in words
    )
    return f"""<div id="rs"><div class="tt">相关搜索</div>
<table cellpadding="0"><tbody><tr>{cells}</tr></tbody></table></div>"""


def _pager(query: str, page: int, pages: int) -> str:
    if pages <= 1:
        return '<div id="page"><div class="page-inner"></div></div>'
    parts: list[str] = []
    if page > 1:
        prev = html.escape(search_link(query, (page - 2) * RESULTS_PER_PAGE))
        parts.append(f'<a class="n" href="{prev}">&lt;上一页</a>')
    for number in range(1, pages + 1):
        if number == page:
            parts.append(f'<strong><span class="pc">{number}</span></strong>')
        else:
            href = html.escape(search_link(query, (number - 1) * RESULTS_PER_PAGE))
            parts.append(f'<a href="{href}"><span class="pc">{number}</span></a>')
    if page < pages:
        nxt = html.escape(search_link(query, page * RESULTS_PER_PAGE))
        parts.append(f'<a class="n" href="{nxt}">下一页&gt;</a>')
    return f'<div id="page"><div class="page-inner">{"".join(parts)}</div></div>'


def _foot() -> str:
    return """<div id="foot"><span id="help"><a href="/help">帮助</a><a href="/feedback">举报</a>\
<a href="/feedback">用户反馈</a></span><p>PharmWatch 演示网络 · 模拟搜索引擎</p></div>"""
