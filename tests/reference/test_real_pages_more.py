"""Real pages of the other kinds regulators meet (tests/reference/real/, SOURCES.md third table): a WeChat
official-account article, a health-food landing page, a private hospital's mobile landing page.

What a person reading each page would record: the text as it reads on screen (one line per line shown,
no script or style noise), every number and contact lead with its kind and status, and what `check --json`
should say.
"""

from __future__ import annotations

import pytest

from rules.reference.identifiers import extract_identifiers
from tests.reference.test_real_pages import EXPECTED, REAL, check_page, page_signals

# Their identifiers are asserted with the other pages' (test_real_pages.EXPECTED):
# - the article: the account's WeChat id, in the (hidden) profile pop-over of the header;
# - 健力多: "营养热线：4000-916-916" (the stock code 300146 is no number of ours);
# - the hospital: "微信号(zypfbyy01)" under the QR code; the placeholder 15800000000 of an empty field is no
#   number, nor are the opening hours 08：00-17：30.
MORE = ("wechat_article_chaping.html", "byhealth_jianliduo_healthfood.html", "zhongyan_skin_hospital_mobile.html")


def lines(name: str) -> list[str]:
    text, _ = page_signals(name)
    return text.split("\n")


def test_a_wechat_article_reads_as_its_paragraphs() -> None:
    text = lines("wechat_article_chaping.html")
    assert text[0] == "百度要发大招了？？？"  # the <title>, its source line breaks gone
    assert "今天百度的新闻不少 ~" in text
    assert "百度和金龙客车合作的 L4 级自动驾驶巴士，在今天宣布量产下线了。" in text  # &nbsp; is a space
    # Two <strong> runs inside one <p> are one line.
    assert ("百度和谷歌一开始的定位实在是很像，都是搜索引擎巨头，都有掌握大量数据这个优势，"
            "谷歌现在一门心思做 AI，百度没啥理由不也这么做，因为合适。") in text
    assert "如果出现状况人不接管，会慢慢靠边停车" in text  # nested <span>s
    joined = "\n".join(text)
    for noise in ("first_sceen__time", "MzA5NDc1NzQ4MA", "write_sceen_time", "mmbiz.qpic.cn", "powered by xmt"):
        assert noise not in joined


def test_a_tech_article_quoting_fake_hospitals_is_not_flagged() -> None:
    result = check_page("wechat_article_chaping.html")
    assert result["flagged"] is False, result["findings"]


def test_a_health_food_landing_page_reads_as_shown() -> None:
    text = lines("byhealth_jianliduo_healthfood.html")
    assert text[0] == "健力多首页"
    assert ("健力多氨糖软骨素钙片，补软骨，护关节，科学五合一配方，促进软骨修复，"
            "甄选新西兰进口CPP，促进肠黏膜对钙的吸收") in text
    assert "营养热线：4000-916-916 股票代码：300146 防伪查询 登录" in text
    assert "适宜人群：中老年人" in text and "不适宜人群：少年儿童" in text
    assert "以下内容为营养科普知识，仅供参考学习。相关内容不代表产品功效，请理性阅读。" in text
    assert "软骨要修复，补氨糖是关键" in text  # an image's alt (the picture carries the claim)
    joined = "\n".join(text)
    assert "navigator.userAgent" not in joined and "hm.baidu.com" not in joined


def test_a_health_food_page_signals() -> None:
    s = check_page("byhealth_jianliduo_healthfood.html")["signals"]
    # No 国食健字/食健备 number in the text (the blue hat is in a picture), no licence, no ICP number.
    assert (s["shows_licence"], s["icp_missing"]) == (False, True)  # type: ignore[index]
    assert s["health_food_number_with_treatment_claim"] is False  # type: ignore[index]


def test_a_health_food_promising_cartilage_repair_is_flagged() -> None:
    # 促进软骨修复 / 软骨要修复 next to 氨糖软骨素钙片: a repair claim beyond any approved health-food function.
    result = check_page("byhealth_jianliduo_healthfood.html")
    assert result["flagged"] is True
    assert {f["category"] for f in result["findings"]} & {"non_drug_as_drug", "forbidden_ad_claim"}  # type: ignore[union-attr,index]
    found = {f["rule_id"]: f["category"] for f in result["findings"]}  # type: ignore[union-attr,index]
    assert found.get("pw-zh-nondrug-healthfood-treatment-001") == "non_drug_as_drug"


def test_a_private_hospital_landing_page_reads_as_shown() -> None:
    text = lines("zhongyan_skin_hospital_mobile.html")
    assert "在线咨询" in text and "康复案例" in text
    assert "“脸上痘痘治好，我就结婚！”" in text
    assert "效果这么好,了解详情" in text
    assert "微信号(zypfbyy01)" in text
    # Menu links side by side are separate words on screen, not one run of characters.
    assert "银屑病(牛皮癣) 白癜风 灰指甲 斑秃" in text
    assert "疥疮 鱼鳞病 在线咨询 一键通话" in text
    # An empty field's placeholder is no text (the reader types there); a submit button's label is.
    assert "手机号码：" in text and "加密提交" in text
    assert "15800000000" not in "\n".join(text)


def test_a_private_hospital_page_leaves_a_contact_lead() -> None:
    s = check_page("zhongyan_skin_hospital_mobile.html")["signals"]
    assert s["contact_leads"] == ["wechat:zypfbyy01"]  # type: ignore[index]


def test_a_private_hospital_advertising_cures_with_patient_testimonials_is_flagged() -> None:
    # 康复案例/典型案例, “脸上痘痘治好，我就结婚！”, 效果这么好 and 打破…久治不愈难题 beside 医院/在线咨询/专家.
    result = check_page("zhongyan_skin_hospital_mobile.html")
    assert result["flagged"] is True
    assert {f["category"] for f in result["findings"]} & {"forbidden_ad_claim", "disease_cure_claim"}  # type: ignore[union-attr,index]
    found = {f["rule_id"]: (f["category"], f["severity"]) for f in result["findings"]}  # type: ignore[union-attr,index]
    assert found.get("pw-zh-ad-patient-testimonial-001") == ("forbidden_ad_claim", "medium")


# Formats seen in other real pages while looking for these (SOURCES.md, last section).
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 药品价格315网 product line, copied into a scraper's comment.
        ("批准文号：国食健注G20170396 生产厂家：广州市绿健生物科技有限公司 条形码：6971501680012",
         [("health_food", "well_formed", "国食健注G20170396")]),
        # A taobao seller API example: the old Ministry of Health approval.
        ("卫食健字(1997)第167号", [("health_food", "legacy", "卫食健字（1997）第167号")]),
        # 临武商城 about page: an ICP filing given as the trading certificate's number.
        ("互联网药品交易服务资格证书，证书号：湘ICP备18006584号",
         [("trading_cert_legacy", "malformed", "湘ICP备18006584号"),
          ("icp_filing", "well_formed", "湘ICP备18006584号")]),
        ("互联网药品信息服务资格证书编号：粤ICP备15012374号",
         [("info_service_cert", "malformed", "粤ICP备15012374号"),
          ("icp_filing", "well_formed", "粤ICP备15012374号")]),
        ("微信号(zypfbyy01)", [("wechat", "well_formed", "zypfbyy01")]),
        ("加微信（abc_123456）咨询", [("wechat", "well_formed", "abc_123456")]),
    ],
)
def test_more_real_formats(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(i.kind, i.status, i.normalised) for i in extract_identifiers(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "关注微信(WeChat)公众号",  # the platform's name in brackets, not an id
        "ICP备案查询 互联网药品信息服务资格证书查询",  # labels without numbers
    ],
)
def test_more_real_non_numbers(text: str) -> None:
    assert [(i.kind, i.normalised) for i in extract_identifiers(text)] == []


def test_an_icp_number_given_as_the_certificate_number_is_an_invalid_licence() -> None:
    from rules.reference.checks import reference_signals

    for text in ("本站互联网药品交易服务资格证书，证书号：湘ICP备18006584号 药品经营许可证",
                 "互联网药品信息服务资格证书编号：粤ICP备15012374号"):
        s = reference_signals(text, host=None, server_ip=None, registry=None)
        assert s["licence_valid"] is False, text
        assert s["legacy_trading_certificate_shown_as_current"] is False  # not an A/B/C number at all
        assert [c["verdict"] for c in s["licence_checks"]] == ["malformed"]  # type: ignore[union-attr,index]


def test_check_reports_an_icp_number_given_as_the_certificate_number(tmp_path) -> None:
    from crawler.check import check_target
    from rules import load_ruleset

    page = tmp_path / "about.html"
    page.write_text("<html><body><p>临武商城 互联网药品交易服务资格证书，证书号：湘ICP备18006584号</p>"
                    "<p>网上药店 正品保障 立即购买</p></body></html>", encoding="utf-8")
    result = check_target(str(page), load_ruleset())
    found = {f["rule_id"]: f["category"] for f in result["findings"]}
    assert found.get("pw-zh-licence-invalid-001") == "forged_or_invalid_licence"
    assert result["flagged"] is True


def test_every_new_page_has_a_source() -> None:
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    for name in MORE:
        assert name in EXPECTED  # so test_real_pages asserts exactly its identifiers
        assert f"`{name}`" in sources
        assert (REAL / name).stat().st_size < 8_000
