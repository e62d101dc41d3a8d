"""extract_identifiers: every number format, the irregular real footers of domain.md §1, contact leads,
offsets into the original text, and no false numbers in ordinary text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.reference.identifiers import KINDS, STATUSES, Identifier, extract_identifiers, parse_identifier


def only(text: str, kind: str | None = None) -> Identifier:
    found = [i for i in extract_identifiers(text) if kind is None or i.kind == kind]
    assert len(found) == 1, found
    ident = found[0]
    assert text[ident.start : ident.end] == ident.raw
    return ident


# --- 互联网药品信息服务资格证书 -------------------------------------------------------------------------

CERT_CASES = [
    # (text, raw, normalised, status)
    ("互联网药品信息服务资格证书：（浙）-经营性-2018-0010", "（浙）-经营性-2018-0010", "（浙）-经营性-2018-0010",
     "well_formed"),
    ("（鲁）-非经营性-2016-0001", "（鲁）-非经营性-2016-0001", "（鲁）-非经营性-2016-0001", "well_formed"),
    ("证书编号 (京) - 非经营性-2015-0087 版权所有", "(京) - 非经营性-2015-0087", "（京）-非经营性-2015-0087",
     "well_formed"),
    ("（沪）- 非经营性 - 2011-0128", "（沪）- 非经营性 - 2011-0128", "（沪）-非经营性-2011-0128", "well_formed"),
    ("互联网药品信息服务资质证书编号：浙-（经营性）-2017-0005   浙公网安备 33010002000120号",
     "浙-（经营性）-2017-0005", "（浙）-经营性-2017-0005", "well_formed"),
    ("互联网药品信息服务资格证 沪-非经营性-2016-0143", "沪-非经营性-2016-0143", "（沪）-非经营性-2016-0143",
     "well_formed"),
    ("资格证编号（京）-非经营性- 2011-0034   新出发", "（京）-非经营性- 2011-0034", "（京）-非经营性-2011-0034",
     "well_formed"),
    ("互联网药品信息服务资格证书：(京)•经营性•2014•0011", "(京)•经营性•2014•0011", "（京）-经营性-2014-0011",
     "well_formed"),
    ("资格证书编号：（浙)-经营性-2018-0002", "（浙)-经营性-2018-0002", "（浙）-经营性-2018-0002", "well_formed"),
    ("（京）－非经营性－２０１５－００８７", "（京）－非经营性－２０１５－００８７", "（京）-非经营性-2015-0087",
     "well_formed"),
    ("互联网药品信息服务许可证(非经营性)(粤)-非经营性-2005-0002", "(粤)-非经营性-2005-0002",
     "（粤）-非经营性-2005-0002", "well_formed"),
    ("國家藥監局（京）-非經營性-2013-0066", "（京）-非經營性-2013-0066", "（京）-非经营性-2013-0066", "well_formed"),
    # NetEase Kaola: no type word.
    ("互联网药品信息服务资格证书：（浙）-2017-0027", "（浙）-2017-0027", "（浙）-2017-0027", "malformed"),
    # An ICP number inside the brackets.
    ("互联网药品信息服务资格证书：（京ICP备12345678号）-非经营性-2015-0087",
     "（京ICP备12345678号）-非经营性-2015-0087", "（京）-非经营性-2015-0087", "malformed"),
    ("(无)-经营性-2015-0023", "(无)-经营性-2015-0023", "（?）-经营性-2015-0023", "malformed"),
    ("互联网药品信息服务资格证书：(京)-非经营性-XXXX-XXXX", "(京)-非经营性-XXXX-XXXX", "（京）-非经营性-XXXX-XXXX",
     "malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "raw", "normalised", "status"), CERT_CASES)
def test_information_service_certificates_in_real_footer_variants(text, raw, normalised, status) -> None:
    ident = only(text, "info_service_cert")
    assert (ident.raw, ident.normalised, ident.status) == (raw, normalised, status)
    assert (ident.reason is None) == (status == "well_formed")


def test_irregular_but_complete_certificates_say_what_is_irregular() -> None:
    ident = only("浙-（经营性）-2017-0005", "info_service_cert")
    assert ident.notes == ("province not in brackets", "brackets around the type word instead of the province")
    assert ident.parts == {"province": "浙", "type": "经营性", "year": "2017", "serial": "0005"}


def test_the_icp_number_in_the_brackets_is_also_reported_as_an_icp_number() -> None:
    found = extract_identifiers("资格证书：（京ICP备12345678号）-非经营性-2015-0087")
    assert [i.kind for i in found] == ["info_service_cert", "icp_filing"]
    assert "ICP number" in (found[0].reason or "")


@pytest.mark.parametrize(
    "text",
    [
        "Copyright (京) 2019-2024 版权所有",  # a span of years
        "浙2017-0027",  # bare, no brackets, type or certificate name
        "(京) 网械平台备字 （2018）第00005号",
        "浙网文[2015]0295-065号",
        "（浙）网药平台备字〔2023〕第000013-000号",
        "订单日期 (京) 2023-03-01",
    ],
)
def test_things_that_are_not_certificate_numbers(text: str) -> None:
    assert [i for i in extract_identifiers(text) if i.kind == "info_service_cert"] == []


# --- legacy trading certificates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "status"),
    [
        ("互联网药品交易服务资格证书：国A20150001", "国A20150001", "legacy"),
        ("交易证 国A20150005号", "国A20150005", "legacy"),
        ("京C2016002", "京C2016002", "legacy"),  # only 7 digits
        ("互联网药品交易服务资格证书：国A20160014</p>", "国A20160014", "legacy"),
        ("浙A20150001", "浙A20150001", "malformed"),  # class A is national
        ("国C20150001", "国C20150001", "malformed"),  # class C is provincial
    ],
)
def test_legacy_trading_certificates(text: str, normalised: str, status: str) -> None:
    ident = only(text, "trading_cert_legacy")
    assert (ident.normalised, ident.status) == (normalised, status)
    assert "2017" in (ident.reason or "") or status == "malformed"


def test_a_seven_digit_trading_number_is_noted() -> None:
    assert only("京C2016002").notes == ("7 digits: a 3-digit serial or a digit missing",)


@pytest.mark.parametrize("text", ["药品经营许可证：浙AA5710086", "粤B2-20160288", "京A12345", "国A1999000"])
def test_things_that_are_not_trading_certificates(text: str) -> None:
    assert [i for i in extract_identifiers(text) if i.kind == "trading_cert_legacy"] == []


# --- drug approvals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "status"),
    [
        ("批准文号：国药准字H20041126", "国药准字H20041126", "well_formed"),
        ("国药准字Z53020206", "国药准字Z53020206", "well_formed"),
        ("国药准字 h 20041126", "国药准字H20041126", "well_formed"),
        ("國藥準字Ｈ２００４１１２６", "国药准字H20041126", "well_formed"),
        ("国药准字HJ20170001", "国药准字HJ20170001", "well_formed"),
        ("国药准字SC20200005", "国药准字SC20200005", "well_formed"),
        ("国药准字J20100001", "国药准字J20100001", "well_formed"),
        ("国药准字B20020001", "国药准字B20020001", "legacy"),
        ("国药试字Z20050001", "国药试字Z20050001", "legacy"),
        ("国药准字20041126", "国药准字20041126", "malformed"),
        ("国药准字H2004112", "国药准字H2004112", "malformed"),
        ("国药准字X20041126", "国药准字X20041126", "malformed"),
        ("进口药品注册证号：H20130617", "H20130617", "legacy"),
        ("医药产品注册证号：HC20140011", "HC20140011", "legacy"),
    ],
)
def test_drug_approval_numbers(text: str, normalised: str, status: str) -> None:
    ident = only(text, "drug_approval")
    assert (ident.normalised, ident.status) == (normalised, status)


def test_an_import_number_is_reported_without_its_label() -> None:
    assert only("进口药品注册证号：H20130617").raw == "H20130617"


# --- health food ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "status"),
    [
        ("国食健注G20090444", "国食健注G20090444", "well_formed"),
        ("国食健注J20150012", "国食健注J20150012", "well_formed"),
        ("食健备G201934001524", "食健备G201934001524", "well_formed"),
        ("食健备J201900123456", "食健备J201900123456", "well_formed"),
        ("国食健字G20041475", "国食健字G20041475", "legacy"),
        ("卫食健字（2000）第0001号", "卫食健字（2000）第0001号", "legacy"),
        ("卫进食健字(1999)第123号", "卫进食健字（1999）第123号", "legacy"),
        ("保健食品批准文号：G20090444", "G20090444", "malformed"),
        ("国食健注20090444", "国食健注20090444", "malformed"),
        ("食健备G201999001524", "食健备G201999001524", "malformed"),  # 99 is no province code
        ("食健备J201912123456", "食健备J201912123456", "malformed"),  # imports have 00
    ],
)
def test_health_food_numbers(text: str, normalised: str, status: str) -> None:
    ident = only(text, "health_food")
    assert (ident.normalised, ident.status) == (normalised, status)


# --- devices ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "status"),
    [
        ("注册证编号：国械注准20153540266", "国械注准20153540266", "well_formed"),
        ("浙械注准20182140001", "浙械注准20182140001", "well_formed"),
        ("国械注进20163460123", "国械注进20163460123", "well_formed"),
        ("国械注许20162460001", "国械注许20162460001", "well_formed"),
        ("备案凭证编号：国械备20151134号", "国械备20151134号", "well_formed"),
        ("浙温械备20140027号", "浙温械备20140027号", "well_formed"),
        ("国食药监械(准)字2012第3460001号", "国食药监械（准）字2012第3460001号", "legacy"),
        ("粤械注准20183010001", "粤械注准20183010001", "malformed"),  # provinces register class II only
        ("国械注准20152540266", "国械注准20152540266", "malformed"),  # 国…准 is class III
        ("械注准20153540266", "械注准20153540266", "malformed"),
        ("国械注准2015354026", "国械注准2015354026", "malformed"),
    ],
)
def test_device_numbers(text: str, normalised: str, status: str) -> None:
    ident = only(text, "device")
    assert (ident.normalised, ident.status) == (normalised, status)


def test_a_device_word_is_not_a_device_number() -> None:
    assert extract_identifiers("第一类医疗器械备案凭证 医疗器械注册证") == []


# --- ad approvals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised", "status"),
    [
        ("粤药广审(视)第251231-00012号", "粤药广审（视）第251231-00012号", "well_formed"),
        ("浙械广审（文）第260630-00001号", "浙械广审（文）第260630-00001号", "well_formed"),
        ("京特医食广审（声）第270101-00002号", "京特医食广审（声）第270101-00002号", "well_formed"),
        ("京药广审（文）第2024010001号", "京药广审（文）第2024010001号", "legacy"),
        ("国食健广审(视)第2026030001号", "国食健广审（视）第2026030001号", "legacy"),
        ("国药广审(视)第2024010007号", "国药广审（视）第2024010007号", "legacy"),
        ("药广审(文)第251231-00012号", "药广审（文）第251231-00012号", "malformed"),
        ("粤药广审第251231-00012号", "粤药广审第251231-00012号", "malformed"),
        ("粤药广审(视)第251341-00012号", "粤药广审（视）第251341-00012号", "malformed"),  # month 13
    ],
)
def test_ad_approval_numbers_in_both_forms(text: str, normalised: str, status: str) -> None:
    ident = only(text, "ad_approval")
    assert (ident.normalised, ident.status) == (normalised, status)


def test_the_new_ad_approval_form_carries_its_expiry_date() -> None:
    assert only("粤药广审(视)第251231-00012号").parts["expires"] == "2025-12-31"


# --- ICP, licence, public security ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "normalised", "status"),
    [
        ("京ICP备12345678号-1", "icp_filing", "京ICP备12345678号-1", "well_formed"),
        ("沪ICP备 09007032", "icp_filing", "沪ICP备09007032号", "well_formed"),
        ("沪ICP备2023014300号-1", "icp_filing", "沪ICP备2023014300号-1", "well_formed"),
        ("京ICP备12345678-2号", "icp_filing", "京ICP备12345678号-2", "well_formed"),
        ("浙icp备18019568号", "icp_filing", "浙ICP备18019568号", "well_formed"),
        ("ICP备案号：12345678号", "icp_filing", "ICP备12345678号", "malformed"),
        ("京ICP证030173号", "icp_licence", "京ICP证030173号", "well_formed"),
        ("增值电信业务经营许可证：浙B2-20160288", "icp_licence", "浙B2-20160288", "well_formed"),
        ("增值电信业务经营许可证：B2-20233776", "icp_licence", "B2-20233776", "well_formed"),
        ("京公网安备 11010502032052号", "psb_filing", "京公网安备11010502032052号", "well_formed"),
        ("浙公网安备 11010502032052号", "psb_filing", "浙公网安备11010502032052号", "malformed"),
        ("京公网安备110108901530", "psb_filing", "京公网安备110108901530号", "legacy"),
        ("北京市公安局朝阳分局备案编号110105014669", "psb_filing", "公安备案110105014669", "legacy"),
    ],
)
def test_icp_and_public_security_numbers(text: str, kind: str, normalised: str, status: str) -> None:
    ident = only(text, kind)
    assert (ident.normalised, ident.status) == (normalised, status)


def test_the_icp_entity_number_is_the_part_before_the_site_suffix() -> None:
    assert only("京ICP备16063439号-1").parts["entity"] == "京ICP备16063439号"


# --- contact leads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "normalised"),
    [
        ("电话：13812345678", "phone", "13812345678"),
        ("手机 138-1234-5678", "phone", "13812345678"),
        ("+86 138 1234 5678", "phone", "13812345678"),
        ("０５７１－８８８８８８８８", "phone", "0571-88888888"),
        ("举报电话：(027) 5931 3970", "phone", "027-59313970"),
        ("0359-3388114", "phone", "0359-3388114"),
        ("010-62345678", "phone", "010-62345678"),
        ("服务热线：400-9600-158", "phone", "400-960-0158"),
        ("4006676810", "phone", "400-667-6810"),
        ("微信：abc_12345", "wechat", "abc_12345"),
        ("加微信 yaoshun88 下单", "wechat", "yaoshun88"),
        ("VX: KangJian88", "wechat", "kangjian88"),
        ("v信 zhuang_yang1", "wechat", "zhuang_yang1"),
        ("加V：yao12345", "wechat", "yao12345"),
        ("weixin:drug_seller", "wechat", "drug_seller"),
        ("薇信号：tnb-cure", "wechat", "tnb-cure"),
        ("微信 13812345678", "wechat", "13812345678"),
        ("QQ：123456789", "qq", "123456789"),
        ("扣扣 88888888", "qq", "88888888"),
        ("QQ群：12345678", "qq", "12345678"),
        ("邮箱 Sales@KangJian.cn", "email", "sales@kangjian.cn"),
        ("mail: abc123#qq.com", "email", "abc123@qq.com"),
        ("ｓａｌｅｓ＠ｋａｎｇｊｉａｎ．ｃｎ", "email", "sales@kangjian.cn"),
    ],
)
def test_contact_leads(text: str, kind: str, normalised: str) -> None:
    ident = only(text, kind)
    assert ident.normalised == normalised
    assert ident.status == "well_formed"


@pytest.mark.parametrize(
    "text",
    [
        "微信支付 微信扫码 微信同号",
        "version v 20230101",
        "vx123456",
        "订单号 2023120112345678901",
        "执业药师注册证号：33012016080123",
        "规格 0.5g*20片 ¥19.80",
        "2023-03-01 至 2028-02-29",
        "img/logo.png?v=20240101",
        "contact us at example.com",
    ],
)
def test_no_contact_leads_in_ordinary_text(text: str) -> None:
    assert [i for i in extract_identifiers(text) if i.kind in ("phone", "wechat", "qq", "email")] == []


def test_digits_inside_a_longer_number_are_no_phone() -> None:
    found = extract_identifiers("国械注准20153540266 京公网安备 11010502032052号 食健备G201934001524")
    assert [i.kind for i in found] == ["device", "psb_filing", "health_food"]


# --- a whole footer, offsets --------------------------------------------------------------------------

FOOTER = """<p>增值电信业务经营许可证： 浙B2-20110446 网络文化经营许可证：浙网文[2015]0295-065号 12318举报</p>
<p>互联网药品信息服务资质证书编号：浙-（经营性）-2017-0005   浙公网安备 33010002000120号</p>
<p>互联网药品交易服务资格证书：国A20150001 浙ICP备09004315号-1 客服 400-800-8888 微信：tmall_kefu</p>
<p>© 2003-2017 TMALL.COM 版权所有</p>"""


def test_a_real_footer_yields_each_number_once_in_order() -> None:
    found = extract_identifiers(FOOTER)
    assert [(i.kind, i.normalised) for i in found] == [
        ("icp_licence", "浙B2-20110446"),
        ("info_service_cert", "（浙）-经营性-2017-0005"),
        ("psb_filing", "浙公网安备33010002000120号"),
        ("trading_cert_legacy", "国A20150001"),
        ("icp_filing", "浙ICP备09004315号-1"),
        ("phone", "400-800-8888"),
        ("wechat", "tmall_kefu"),
    ]
    for ident in found:
        assert FOOTER[ident.start : ident.end] == ident.raw


def test_offsets_point_into_text_that_normalisation_shortens_or_lengthens() -> None:
    # Zero-width characters vanish and ㈱-like characters expand under NFKC: offsets must still hold.
    text = "\u200b㍿\u200b（浙）\u200b-经营性-2023-0012 ㈱ 国药准字H20041126"
    for ident in extract_identifiers(text):
        assert text[ident.start : ident.end] == ident.raw
    assert [i.normalised for i in extract_identifiers(text)] == ["（浙）-经营性-2023-0012", "国药准字H20041126"]


def test_to_dict_is_plain_data() -> None:
    d = only("国药准字H20041126").to_dict()
    assert d["kind"] == "drug_approval" and d["normalised"] == "国药准字H20041126" and d["notes"] == []


def test_parse_identifier_accepts_exactly_one_number_of_the_kind() -> None:
    assert parse_identifier(" (浙)-经营性-2023-0012 ", "info_service_cert") is not None
    assert parse_identifier("国药准字H20041126", "health_food") is None
    assert parse_identifier("国药准字H20041126 国药准字H20041127", "drug_approval") is None
    assert parse_identifier("see 国药准字H20041126", "drug_approval") is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(),
            st.sampled_from(
                [
                    "（",
                    "）",
                    "浙",
                    "-",
                    "经营性",
                    "2017",
                    "0005",
                    "国药准字",
                    "H",
                    "ICP备",
                    "号",
                    "微信",
                    "QQ",
                    ":",
                    "\u200b",
                    "㈱",
                    "１",
                    "广审",
                    "(视)",
                    "第",
                    "械注准",
                    "食健备",
                    "G",
                    "@",
                    "#",
                    "400",
                    " ",
                ]
            ),
        ),  # fmt: skip
        max_size=30,
    ).map("".join)
)
def test_extraction_never_raises_and_offsets_are_in_bounds(text: str) -> None:
    found = extract_identifiers(text)
    last = -1
    for ident in found:
        assert 0 <= ident.start < ident.end <= len(text)
        assert text[ident.start : ident.end] == ident.raw
        assert ident.kind in KINDS and ident.status in STATUSES
        assert ident.start >= last
        last = ident.start


def test_the_check_json_contract_in_the_readme_names_every_identifier_kind() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    contract = readme.split("## The `check --json` contract", 1)[1].split("\n## ", 1)[0]
    assert [kind for kind in KINDS if f"`{kind}`" not in contract] == []
