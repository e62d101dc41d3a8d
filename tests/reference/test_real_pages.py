"""Real pharmacy pages (tests/reference/real/, sources in SOURCES.md): what `check` reads from each.

Every identifier a page yields is listed, in order, with its kind, status and canonical form: a number
missed, a false extraction (a phone number read as a licence) or a changed classification fails here.
"""

from __future__ import annotations

import quopri
from pathlib import Path

import pytest

from crawler.check import read_document
from rules import page_signals as computed_page_signals
from rules.reference.checks import reference_signals
from rules.reference.identifiers import extract_identifiers

REAL = Path(__file__).resolve().parent / "real"

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "yuekangsong_footer.html": [
        ("trading_cert_legacy", "legacy", "京C20150004"),  # meta description
        ("phone", "well_formed", "400-812-0102"),
        ("icp_filing", "well_formed", "京ICP备15001998号"),
        ("info_service_cert", "well_formed", "（京）-非经营性-2015-0001"),
        ("trading_cert_legacy", "legacy", "京C20150004"),
        ("psb_filing", "well_formed", "京公网安备11030102010086号"),
    ],
    "j1_footer.html": [
        ("phone", "well_formed", "400-780-0800"),
        ("icp_filing", "well_formed", "沪ICP备09007253号"),
    ],
    "yao123_header.html": [
        ("trading_cert_legacy", "legacy", "沪C20160003"),
        ("info_service_cert", "well_formed", "（沪）-非经营性-2016-0011"),
        ("phone", "well_formed", "400-115-1161"),
    ],
    "yao123_product.html": [
        ("drug_approval", "well_formed", "国药准字Z23021657"),
        ("drug_approval", "well_formed", "国药准字Z23021657"),
    ],
    "tmall_footer.html": [
        ("icp_licence", "well_formed", "浙B2-20110446"),
        ("phone", "well_formed", "0571-81683755"),
        ("email", "well_formed", "blxxjb@alibaba-inc.com"),
        ("trading_cert_legacy", "legacy", "粤C20150002"),
        ("psb_filing", "well_formed", "粤公网安备44010602001483号"),
        ("icp_filing", "well_formed", "粤ICP备14088652号-2"),
        ("device_trading_licence", "well_formed", "粤穗食药监械经营许20171161号"),
        ("info_service_cert", "well_formed", "（粤）-经营性-2018-0092"),
        ("info_service_cert", "well_formed", "（浙）-经营性-2017-0005"),
        ("psb_filing", "well_formed", "浙公网安备33010002000120号"),
        ("platform_filing", "well_formed", "（浙）网械平台备字[2018]第00002号"),
        ("trading_cert_legacy", "legacy", "国A20150001"),
        ("platform_filing", "well_formed", "浙网食A33010002"),
    ],
}
# Saved home pages of licensed online pharmacies and one English pill shop (SOURCES.md, second table).
EXPECTED.update({
    "jianke_home.html": [
        ("trading_cert_legacy", "legacy", "粤C20140009"),
        ("drug_trading_licence", "well_formed", "粤BA1710104"),
        ("device_trading_licence", "well_formed", "粤东食药监械经营许20140015号"),
        ("device_trading_licence", "well_formed", "粤东食药监械经营许20140914号"),
        ("phone", "well_formed", "400-698-9999"),
        ("phone", "well_formed", "400-666-6800"),
    ],
    "yiyao111_footer_gbk.html": [
        ("phone", "well_formed", "400-007-0958"),  # header
        ("phone", "well_formed", "400-007-0958"),  # footer
        ("trading_cert_legacy", "legacy", "粤C20150007"),
        ("icp_licence", "well_formed", "粤B2-20150066"),  # written "ICP粤B2-20150066"
        ("icp_filing", "well_formed", "粤ICP备12015869号-1"),
        ("phone", "well_formed", "020-31067218"),
        ("psb_filing", "well_formed", "粤公网安备44010402000743号"),  # written "公安备案号 44010402000743"
    ],
    "yaofang_footer.html": [
        ("phone", "well_formed", "400-650-9988"),
        ("phone", "well_formed", "13681055756"),
        ("phone", "well_formed", "13520875129"),
        ("phone", "well_formed", "13426463071"),
        ("trading_cert_legacy", "legacy", "京C20160005"),
        ("psb_filing", "well_formed", "京公网安备11010602100232号"),
        ("icp_licence", "well_formed", "京ICP证041574号"),
        ("icp_filing", "well_formed", "京ICP备10054530号-1"),
    ],
    "kad360_footer.html": [
        ("icp_filing", "well_formed", "粤ICP备10212320号-1"),  # link text
        ("icp_filing", "well_formed", "粤ICP备10212320号-1"),  # the badge's alt text
    ],
    "themansmeds_rogue.html": [],
})
EXPECTED["yao123_product_gbk.html"] = EXPECTED["yao123_product.html"]
# Other kinds of page (SOURCES.md, third table; more assertions in test_real_pages_more.py).
EXPECTED.update({
    "wechat_article_chaping.html": [("wechat", "well_formed", "chaping321")],
    "byhealth_jianliduo_healthfood.html": [("phone", "well_formed", "400-091-6916")],
    "zhongyan_skin_hospital_mobile.html": [("wechat", "well_formed", "zypfbyy01")],
})


def page_signals(name: str) -> tuple[str, dict[str, object]]:
    """The signals the rules see without a registry: the page signals overlaid with the reference ones."""
    doc = read_document(REAL / name)
    return doc.text, {**computed_page_signals(doc), **reference_signals(doc.text, host=None, server_ip=None,
                                                                         registry=None)}


def test_every_stored_page_has_a_source_and_an_expectation() -> None:
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in REAL.glob("*.html"))
    assert pages == sorted(EXPECTED)
    for page in pages:
        assert f"`{page}`" in sources
        assert (REAL / page).stat().st_size < 40_000


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_real_page_yields_exactly_its_identifiers(name: str) -> None:
    text, signals = page_signals(name)
    found = [(i["kind"], i["status"], i["normalised"]) for i in signals["identifiers"]]  # type: ignore[union-attr]
    assert found == EXPECTED[name]
    for ident in signals["identifiers"]:  # type: ignore[union-attr]
        assert text[ident["start"] : ident["end"]] == ident["raw"]


def test_page_level_signals_of_the_real_pages() -> None:
    expected = {  # shows_licence, icp_missing, legacy trading certificate shown as current
        "yuekangsong_footer.html": (True, False, True),
        # The certificates are only named as links and the ICP badge is an image: nothing to read.
        "j1_footer.html": (False, False, False),
        "yao123_header.html": (True, True, True),
        "yao123_product.html": (False, True, False),
        "tmall_footer.html": (True, False, True),
    }
    for name, flags in expected.items():
        _, s = page_signals(name)
        assert (s["shows_licence"], s["icp_missing"], s["legacy_trading_certificate_shown_as_current"]) == flags, name


def test_source_line_breaks_inside_an_element_do_not_split_the_text() -> None:
    text = read_document(REAL / "yao123_product.html").text
    lines = text.split("\n")
    assert "商品名称：葵花 胃康灵胶囊 48粒" in lines  # `葵花 胃康灵胶囊\n\t\t48粒` in one <span>
    assert "批准文号 国药准字Z23021657" in lines  # a two-cell table row is one line
    assert "2 忌愤怒、忧郁，保持心情舒畅。3 有高血压" in text
    footer = read_document(REAL / "yuekangsong_footer.html").text
    assert "京公网安备 11030102010086号" in footer.split("\n")


def test_the_gbk_copy_reads_exactly_like_the_utf8_page() -> None:
    assert read_document(REAL / "yao123_product_gbk.html").text == read_document(REAL / "yao123_product.html").text


def test_scripts_and_hidden_credential_blocks() -> None:
    footer = read_document(REAL / "yuekangsong_footer.html").text
    assert "_vds" not in footer and "setAccountId" not in footer
    # The 阿里健康 credentials sit in a display:none block: kept, since a regulator wants every number shown.
    assert "粤穗食药监械经营许20171161号" in read_document(REAL / "tmall_footer.html").text


def test_a_browser_single_file_save_is_read_as_its_html(tmp_path: Path) -> None:
    html = (REAL / "yuekangsong_footer.html").read_text(encoding="utf-8")
    part = quopri.encodestring(html.encode("utf-8")).decode("ascii")
    mhtml = (
        "From: <Saved by Blink>\r\nSnapshot-Content-Location: https://www.yuekangsong.com/\r\n"
        "Subject: =?utf-8?Q?=E7=99=BE=E5=A7=93?=\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="----MultipartBoundary--x----"\r\n\r\n'
        "------MultipartBoundary--x----\r\nContent-Type: text/html\r\nContent-ID: <frame-1@mhtml.blink>\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\nContent-Location: https://www.yuekangsong.com/\r\n\r\n"
        f"{part}\r\n------MultipartBoundary--x----\r\nContent-Type: text/css\r\n"
        "Content-Location: cid:css-0@mhtml.blink\r\n\r\nbody{color:red}\r\n------MultipartBoundary--x------\r\n"
    )
    (tmp_path / "page.mhtml").write_text(mhtml, encoding="ascii")
    (tmp_path / "page.bin").write_text(mhtml, encoding="ascii")  # recognised without the suffix too
    for name in ("page.mhtml", "page.bin"):
        assert read_document(tmp_path / name).text == read_document(REAL / "yuekangsong_footer.html").text


def test_utf16_saved_pages_are_html_not_text(tmp_path: Path) -> None:
    html = (REAL / "yao123_header.html").read_text(encoding="utf-8")
    expected = read_document(REAL / "yao123_header.html").text
    (tmp_path / "bom.htm").write_bytes(html.encode("utf-16"))  # Windows "Unicode" with a BOM
    (tmp_path / "nobom.htm").write_bytes(html.encode("utf-16-le"))
    assert read_document(tmp_path / "bom.htm").text == expected
    assert read_document(tmp_path / "nobom.htm").text == expected


def test_markup_after_a_long_preamble_is_still_html(tmp_path: Path) -> None:
    html = (REAL / "yao123_header.html").read_bytes()
    (tmp_path / "page.jsp").write_bytes(b"\r\n" * 3000 + html)  # a template engine's blank lines
    assert read_document(tmp_path / "page.jsp").text == read_document(REAL / "yao123_header.html").text


# Formats seen in other real footers and product pages (SOURCES.md, last section).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("药品经营许可证：粤BA1710104", [("drug_trading_licence", "well_formed", "粤BA1710104")]),
        ("药品经营许可证：琼AA898000001", [("drug_trading_licence", "well_formed", "琼AA898000001")]),
        ("许可证编号：沪CB0210083-012", [("drug_trading_licence", "well_formed", "沪CB0210083-012")]),
        ("药品经营许可证：粤XY1710104", [("drug_trading_licence", "malformed", "粤XY1710104")]),
        ("互联网交易资格证：粤C20140009", [("trading_cert_legacy", "legacy", "粤C20140009")]),
        ("互联网药品交易资格证书编号:川B20130002", [("trading_cert_legacy", "legacy", "川B20130002")]),
        ("互联网药品交易服务证：京C20160005号", [("trading_cert_legacy", "legacy", "京C20160005")]),
        ("GSP证书 | ICP粤B2-20150066", [("icp_licence", "well_formed", "粤B2-20150066")]),
        ("证书号：湘ICP备18006584号", [("icp_filing", "well_formed", "湘ICP备18006584号")]),
        ("第二类医疗器械经营备案凭证：粤穗药监械经营备20221234号",
         [("device_trading_licence", "well_formed", "粤穗药监械经营备20221234号")]),
        ("（粤）网械平台备字〔2018〕第00007号",
         [("platform_filing", "well_formed", "（粤）网械平台备字[2018]第00007号")]),
        ("浙网食A44010002", [("platform_filing", "malformed", "浙网食A44010002")]),
        ("公安机关备案号：44030502001234", [("psb_filing", "well_formed", "粤公网安备44030502001234号")]),
        ("京公网安备11010802044671号 京ICP备2024077296号-1",
         [("psb_filing", "well_formed", "京公网安备11010802044671号"),
          ("icp_filing", "well_formed", "京ICP备2024077296号-1")]),
        ("客服热线：4007-800-800 咨询热线：400-6989-999 400 612 3456",
         [("phone", "well_formed", "400-780-0800"), ("phone", "well_formed", "400-698-9999"),
          ("phone", "well_formed", "400-612-3456")]),
        ("批准文号：国药准字HJ20130295", [("drug_approval", "well_formed", "国药准字HJ20130295")]),
        ("国药准字：H13021770", [("drug_approval", "well_formed", "国药准字H13021770")]),
        ("(京）网械平台备字(2018）第OO005号互联网药品信息服务资格证(京)-非经营性-2014-0090营业执照",
         [("platform_filing", "malformed", "（京）网械平台备字[2018]第OO005号"),
          ("info_service_cert", "well_formed", "（京）-非经营性-2014-0090")]),
        ("穗公网监备案证第44010650010167    互联网药品信息服务资格证编号（粤）-非经营性-2012-0018",
         [("psb_filing", "legacy", "穗公网监备案证第44010650010167"),
          ("info_service_cert", "well_formed", "（粤）-非经营性-2012-0018")]),
        ("互联网药品信息服务资格证（粤）-非经营性-2020-0102 | 粤东食药监械经营备20203930",
         [("info_service_cert", "well_formed", "（粤）-非经营性-2020-0102"),
          ("device_trading_licence", "well_formed", "粤东食药监械经营备20203930号")]),
    ],
)
def test_real_formats(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(i.kind, i.status, i.normalised) for i in extract_identifiers(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "车牌 京AB12345",  # a plate is no drug-trading licence
        "全新 AB1234567 型号",
        "订单号：20231108123456789 快递单号 SF1234567890123",
        "营业执照注册号：440301103571937 统一社会信用代码：91440300MA5DC6QX7B",
        "标识状态：已激活 粤工商备E191601000055 电子标识有效期：2016-01-04～2021-01-23",
        "Copyright ©2006-2017 www.jianke.com All rights reserved",
        "互联网药品信息服务资格证书编号（鄂）",  # the label without its number
        "赣ICP备（暂无） 互联网药品信息服务资格证书：（暂无）-学习性-（暂无）",
    ],
)
def test_real_non_numbers(text: str) -> None:
    assert [(i.kind, i.normalised) for i in extract_identifiers(text)] == []


def test_a_placeholder_province_stays_malformed() -> None:
    found = extract_identifiers("互联网药品信息服务资格证书:(蛙)-经营性-2016-0011 | 蛙ICP备 66666666")
    assert [(i.kind, i.status) for i in found] == [("info_service_cert", "malformed"), ("icp_filing", "malformed")]



_RULESET = None


def check_page(name: str) -> dict[str, object]:
    """`check --json`'s object for a stored page (the shipped rule packs, no registry)."""
    global _RULESET
    from crawler.check import check_target
    from rules import load_ruleset

    if _RULESET is None:
        _RULESET = load_ruleset()
    return check_target(str(REAL / name), _RULESET)


def findings_by_rule(result: dict[str, object]) -> dict[str, tuple[str, str]]:
    return {f["rule_id"]: (f["category"], f["severity"]) for f in result["findings"]}  # type: ignore[union-attr,index]


def test_page_level_signals_of_the_pharmacy_home_pages() -> None:
    expected = {  # sells_drugs, shows_licence, icp_missing, legacy trading certificate shown as current
        # Sells (mini cart, 去结算, 订购热线); the information certificate only as a link; the ICP badge is a
        # CSS sprite with no number anywhere in the markup.
        "jianke_home.html": (True, False, True, True),
        "yiyao111_footer_gbk.html": (True, False, False, True),
        "yaofang_footer.html": (False, False, False, True),
        "kad360_footer.html": (False, False, False, False),
        # "Buy Now" exists only as the value of <input type="submit">.
        "themansmeds_rogue.html": (True, False, True, False),
    }
    for name, flags in expected.items():
        s = check_page(name)["signals"]
        got = (s["sells_drugs"], s["shows_licence"], s["icp_missing"],  # type: ignore[index]
               s["legacy_trading_certificate_shown_as_current"])  # type: ignore[index]
        assert got == flags, name


def test_real_layout_text_reaches_the_rules() -> None:
    jianke = read_document(REAL / "jianke_home.html").text.split("\n")
    assert "东阿阿胶 赠打粉机 搜 索" in jianke  # the search box's prefilled value, then the search link
    assert "请输入手机号或订单号 确定" in jianke  # a text field's value, then <input type="button" value="确定">
    assert "杏苏止咳糖浆 ￥5.50 ×1 删除" in jianke
    assert not any("hm.baidu.com" in line or "RomoveProduct" in line for line in jianke)
    rogue = read_document(REAL / "themansmeds_rogue.html").text
    assert rogue.count("Buy Now") == 1
    assert "04495d36d9d0a49f369c76d55faa467d" not in rogue and "html-cart" not in rogue  # hidden inputs
    assert '"Your local & Reliable Source for Online LifeStyle Medications"' in rogue
    kad = read_document(REAL / "kad360_footer.html").text
    assert "UA-3051632-5" not in kad and "eclick" not in kad  # script and <noscript> pixel
    yiyao = read_document(REAL / "yiyao111_footer_gbk.html").text
    assert yiyao.startswith("1药网-网上药店领导者")  # GBK declared by <meta charset="GBK">
    company = "公司名称：广东壹号大药房连锁有限公司 公司地址：广东省广州市越秀区共和西路1号2层 联系电话：020-31067218"
    assert company in yiyao.split("\n")  # the line after <br>


def test_every_wording_of_the_legacy_trading_certificate_is_reported_but_not_flagged() -> None:
    # 互联网药品交易服务资格证书 is written as 交易资格证书 (百姓平安, 1药网), 交易资格证 (健客), 交易服务证
    # (仁和药房网) and 交易服务编号 (百姓平安 meta): each page shows a cancelled certificate as current.
    for name in ("yuekangsong_footer.html", "jianke_home.html", "yiyao111_footer_gbk.html", "yaofang_footer.html",
                 "tmall_footer.html", "yao123_header.html"):
        found = findings_by_rule(check_page(name))
        assert found.get("pw-zh-licence-legacy-trading-001") == ("forged_or_invalid_licence", "low"), name
    assert "pw-zh-licence-legacy-trading-001" not in findings_by_rule(check_page("kad360_footer.html"))


def test_footers_of_licensed_pharmacies_are_not_flagged() -> None:
    for name in ("yuekangsong_footer.html", "yaofang_footer.html", "kad360_footer.html", "tmall_footer.html",
                 "yao123_header.html", "j1_footer.html"):
        result = check_page(name)
        assert result["flagged"] is False, (name, result["findings"])


def test_home_pages_of_licensed_pharmacies_are_not_flagged() -> None:
    # 健客: 国家药监局认证的合法网上药店 is the site's licence, not a product's endorsement, and 订购热线 next to
    # a menu entry 他达拉非片(希爱力) offers nothing; 1药网: the trading certificate 粤C20150007 is a licence shown
    # (cancelled, so recorded at low severity by the legacy rule), not a missing one.
    for name in ("jianke_home.html", "yiyao111_footer_gbk.html"):
        result = check_page(name)
        assert result["flagged"] is False, (name, result["findings"])
        found = findings_by_rule(result)
        for rule_id in ("pw-zh-ad-endorsement-001", "pw-zh-rx-offer-without-warning-001", "pw-zh-unlicensed-sale-001"):
            assert rule_id not in found, (name, rule_id)
        assert found.get("pw-zh-licence-legacy-trading-001") == ("forged_or_invalid_licence", "low"), name


def test_an_english_pill_shop_is_flagged_as_selling_prescription_drugs() -> None:
    result = check_page("themansmeds_rogue.html")
    assert result["flagged"] is True
    categories = {f["category"] for f in result["findings"]}  # type: ignore[union-attr,index]
    assert categories & {"prescription_without_rx", "rogue_pharmacy"}
    # Generic Viagra/Cialis/Levitra by the pill, bonus pills, prices and Buy Now, with no prescription step.
    assert findings_by_rule(result).get("pw-en-rx-offer-001") == ("prescription_without_rx", "high")
