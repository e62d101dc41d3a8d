"""reference_signals: each signal, from page text plus an in-memory registry, a host and a server IP."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import TextDocument, page_signals
from rules.reference import (
    SIGNAL_KEYS,
    CertificateRecord,
    ProductRecord,
    RegistryLookup,
    StaticRegistry,
    reference_signals,
    server_country,
)
from rules.reference.checks import host_matches, product_name_variants
from rules.reference.claims import find_claims

TODAY = date(2026, 11, 28)
HOST = "kangjian-pharmacy.test"
FOOTER = "互联网药品信息服务资格证书编号：（浙）-经营性-2023-0012 浙ICP备2023012345号-1"

REGISTRY = StaticRegistry(
    certificates=[
        CertificateRecord("（浙）-经营性-2023-0012", "浙江康健大药房连锁有限公司", "经营性", (HOST,),
                          date(2023, 3, 1), date(2028, 2, 29)),
        CertificateRecord("（京）-非经营性-2016-0042", "北京慈济堂", "非经营性", ("cijitang.test",),
                          date(2016, 4, 1), date(2021, 3, 31)),
        CertificateRecord("（沪）-经营性-2019-0031", "上海瑞康", "经营性", ("ruikang.test",),
                          date(2019, 7, 15), date(2029, 7, 14), status="revoked"),
        CertificateRecord("（浙）-非经营性-2017-0027", "网易考拉", "非经营性", ("kaola.test",),
                          date(2017, 1, 1), date(2027, 1, 1)),
    ],
    drug_approvals=[
        ProductRecord("国药准字H20023370", "盐酸二甲双胍缓释片"),
        ProductRecord("国药准字Z53020206", "蛮龙液"),
        ProductRecord("国药准字H20058888", "格列美脲片", status="cancelled"),
    ],
    health_foods=[ProductRecord("国食健注G20190123", "糖络康胶囊")],
    devices=[ProductRecord("浙械注准20182140001", "电子血压计")],
    ad_approvals=[ProductRecord("浙药广审（文）第281231-00012号", "布洛芬缓释胶囊")],
)  # fmt: skip


def signals(
    text: str,
    *,
    host: str | None = HOST,
    ip: str | None = None,
    registry: RegistryLookup | None = REGISTRY,
    **kw: object,
) -> dict[str, object]:
    return reference_signals(text, host=host, server_ip=ip, registry=registry, today=TODAY, **kw)  # type: ignore[arg-type]


def test_every_documented_key_is_returned() -> None:
    assert set(signals(FOOTER)) == set(SIGNAL_KEYS)


def test_the_static_registry_is_a_registry_lookup() -> None:
    assert isinstance(REGISTRY, RegistryLookup)


# --- licence ------------------------------------------------------------------------------------------


def shows_licence(text: str) -> object:
    """The page signal (rules.signals) the reference checks leave to the page: one definition."""
    return page_signals(TextDocument(text))["shows_licence"]


def test_a_valid_licence_for_this_domain() -> None:
    s = signals(FOOTER)
    assert "shows_licence" not in s and shows_licence(FOOTER) is True
    assert s["licence_valid"] is True
    assert (s["licence_unknown"], s["licence_domain_mismatch"], s["licence_expired_or_revoked"]) == (False,) * 3
    assert s["licence_checks"][0]["holder"] == "浙江康健大药房连锁有限公司"  # type: ignore[index]


def test_a_subdomain_of_the_licensed_domain_is_the_same_site() -> None:
    assert signals(FOOTER, host="m.kangjian-pharmacy.test")["licence_valid"] is True
    assert signals(FOOTER, host="WWW.Kangjian-Pharmacy.test:8080")["licence_valid"] is True


def test_a_licence_shown_on_another_domain() -> None:
    s = signals(FOOTER, host="borrowed-licence.test")
    assert s["licence_valid"] is False
    assert s["licence_domain_mismatch"] is True
    assert s["licence_unknown"] is False


def test_an_expired_licence() -> None:
    s = signals("互联网药品信息服务资格证书：（京）-非经营性-2016-0042", host="cijitang.test")
    assert (s["licence_valid"], s["licence_expired_or_revoked"]) == (False, True)
    assert s["licence_checks"][0]["verdict"] == "expired"  # type: ignore[index]


def test_a_revoked_licence() -> None:
    s = signals("（沪）-经营性-2019-0031", host="ruikang.test")
    assert (s["licence_valid"], s["licence_expired_or_revoked"]) == (False, True)


def test_a_licence_before_its_start_date() -> None:
    s = reference_signals(FOOTER, host=HOST, server_ip=None, registry=REGISTRY, today=date(2023, 1, 1))
    assert (s["licence_valid"], s["licence_expired_or_revoked"]) == (False, True)


def test_a_well_formed_but_unknown_number() -> None:
    s = signals("互联网药品信息服务资格证书：（粤）-经营性-2019-0999")
    assert shows_licence("互联网药品信息服务资格证书：（粤）-经营性-2019-0999") is True
    assert (s["licence_valid"], s["licence_unknown"]) == (False, True)
    assert s["licence_domain_mismatch"] is False


def test_a_number_without_type_word_is_found_when_only_one_type_fits() -> None:
    s = signals("互联网药品信息服务资格证书：（浙）-2017-0027", host="kaola.test")
    assert s["licence_valid"] is True


def test_a_malformed_number_with_an_icp_number_in_brackets_is_not_valid() -> None:
    s = signals("资格证书：（京ICP备12345678号）-非经营性-2015-0087")
    assert shows_licence("资格证书：（京ICP备12345678号）-非经营性-2015-0087") is True
    assert (s["licence_valid"], s["licence_unknown"]) == (False, True)


def test_licence_signals_are_none_without_a_registry_or_a_number() -> None:
    for s in (signals(FOOTER, registry=None), signals("no number here"), signals(FOOTER, registry=StaticRegistry())):
        assert s["licence_valid"] is None and s["licence_unknown"] is None
        assert s["licence_domain_mismatch"] is None and s["licence_expired_or_revoked"] is None
    assert shows_licence("no number here") is False


def test_the_domain_is_not_checked_without_a_host() -> None:
    assert signals(FOOTER, host=None)["licence_valid"] is True


# --- legacy trading certificates ----------------------------------------------------------------------


def test_a_legacy_trading_certificate_shown_as_current() -> None:
    assert signals("互联网药品交易服务资格证书：国A20150001")["legacy_trading_certificate_shown_as_current"] is True


def test_a_legacy_trading_certificate_mentioned_as_history_is_not_current() -> None:
    for text in ("原互联网药品交易服务资格证书国A20150001", "交易服务资格证书：国A20150001（已注销）"):
        assert signals(text)["legacy_trading_certificate_shown_as_current"] is False
    assert signals(FOOTER)["legacy_trading_certificate_shown_as_current"] is False


# --- product numbers --------------------------------------------------------------------------------


def test_a_product_number_of_this_product() -> None:
    s = signals("盐酸二甲双胍缓释片 0.5g*30片 国药准字H20023370 ¥32")
    assert (s["approval_unknown"], s["approval_product_mismatch"], s["approval_expired_or_revoked"]) == (False,) * 3


def test_a_short_product_name_on_the_page_matches_the_registered_name() -> None:
    assert signals("二甲双胍 国药准字H20023370")["approval_product_mismatch"] is False


def test_a_borrowed_approval_number_of_another_product() -> None:
    s = signals("降糖神效胶囊 国药准字Z53020206 纯中药 ¥298")
    assert (s["approval_product_mismatch"], s["approval_unknown"]) == (True, False)
    assert s["approval_checks"][0]["product_name"] == "蛮龙液"  # type: ignore[index]


def test_an_unknown_or_malformed_approval_number() -> None:
    assert signals("特效降压丸 国药准字Z20099999")["approval_unknown"] is True
    assert signals("特效降压丸 国药准字Z2009999")["approval_unknown"] is True


def test_a_cancelled_approval_number() -> None:
    s = signals("格列美脲片 国药准字H20058888")
    assert (s["approval_expired_or_revoked"], s["approval_unknown"]) == (True, False)


def test_health_food_and_device_numbers_are_looked_up_too() -> None:
    assert signals("糖络康胶囊 国食健注G20190123")["approval_unknown"] is False
    assert signals("某某胶囊 国食健注G20190999")["approval_unknown"] is True
    assert signals("电子血压计 浙械注准20182140001")["approval_product_mismatch"] is False
    assert signals("降压仪 浙械注准20182140001")["approval_product_mismatch"] is True


def test_approval_signals_are_none_when_nothing_could_be_checked() -> None:
    assert signals("no numbers")["approval_unknown"] is None
    assert signals("国药准字H20023370", registry=None)["approval_unknown"] is None
    assert signals("国药准字H20023370", registry=StaticRegistry())["approval_product_mismatch"] is None


def test_product_name_variants() -> None:
    assert product_name_variants("硝苯地平缓释片(Ⅱ)") == ["硝苯地平缓释片(ii)", "硝苯地平缓释片", "硝苯地平"]
    assert "维生素c咀嚼片" in product_name_variants("康健牌维生素C咀嚼片")


# --- cross-category claims ----------------------------------------------------------------------------


def test_a_health_food_number_with_a_treatment_claim() -> None:
    s = signals("糖络康胶囊 国食健注G20190123 可替代降糖药，三个疗程修复胰岛")
    assert s["health_food_number_with_treatment_claim"] is True


def test_a_health_food_with_only_its_approved_function_and_the_disclaimer() -> None:
    text = "糖络康胶囊 国食健注G20190123 保健功能：辅助降血糖。保健食品不是药物，不能代替药物治疗疾病。"
    assert signals(text)["health_food_number_with_treatment_claim"] is False


def test_the_caller_may_supply_the_treatment_and_drug_claim_verdicts() -> None:
    assert signals("国食健注G20190123", treatment_claim=True)["health_food_number_with_treatment_claim"] is True
    assert signals("浙械注准20182140001 根治", drug_claim=False)["device_number_with_drug_claim"] is False


def test_a_device_number_with_a_drug_claim() -> None:
    assert signals("电子血压计 浙械注准20182140001 根治高血压 药到病除")["device_number_with_drug_claim"] is True
    assert signals("电子血压计 浙械注准20182140001 测量准确")["device_number_with_drug_claim"] is False


def test_an_ad_without_approval_number() -> None:
    assert signals("降糖胶囊 疗效显著 无效退款 立即订购")["ad_without_approval_number"] is True
    with_number = "布洛芬缓释胶囊 疗效显著 浙药广审（文）第281231-00012号"
    assert signals(with_number)["ad_without_approval_number"] is False
    assert signals("布洛芬缓释胶囊 规格0.3g", is_ad=True)["ad_without_approval_number"] is True
    assert signals("降糖胶囊 疗效显著", is_ad=False)["ad_without_approval_number"] is False
    assert signals("新鲜水果 立竿见影 包邮")["ad_without_approval_number"] is False  # no regulated product


def test_an_expired_new_form_ad_approval_number() -> None:
    assert signals("粤药广审(视)第251231-00012号")["ad_approval_expired"] is True
    assert signals("浙药广审（文）第281231-00012号")["ad_approval_expired"] is False


def test_claims_ignore_negations_disclaimers_and_quotations() -> None:
    claims = find_claims("警惕“根治糖尿病”的虚假宣传。糖尿病目前尚无法根治。本品不能代替药物治疗疾病。切勿口服。")
    assert (claims.treatment, claims.drug, claims.promotion) == ((), (), ())


# --- ICP, contacts, hosting ---------------------------------------------------------------------------


def test_icp_missing() -> None:
    assert signals(FOOTER)["icp_missing"] is False
    assert signals("京ICP证030173号")["icp_missing"] is False
    assert signals("互联网药品信息服务资格证书：（浙）-经营性-2023-0012")["icp_missing"] is True


def test_contact_leads_are_listed_once() -> None:
    s = signals("微信：tnb_cure 微信：tnb_cure 电话 13812345678")
    assert s["contact_leads"] == ["phone:13812345678", "wechat:tnb_cure"]


def test_identifiers_are_listed_as_dicts() -> None:
    found = signals(FOOTER)["identifiers"]
    assert [d["kind"] for d in found] == ["info_service_cert", "icp_filing"]  # type: ignore[index,union-attr]


@pytest.mark.parametrize(
    ("ip", "country", "overseas"),
    [
        ("114.114.114.114", "CN", False),
        ("223.5.5.5", "CN", False),
        ("8.8.8.8", "US", True),
        ("2001:4860:4860::8888", "US", True),
        ("127.0.0.1", None, None),
        ("10.1.2.3", None, None),
        ("192.168.0.1", None, None),
        ("::1", None, None),
        ("::ffff:127.0.0.1", None, None),
        ("203.0.113.5", None, None),  # documentation range
        ("not-an-ip", None, None),
        (None, None, None),
    ],
)
def test_server_country_and_overseas_hosting(ip: str | None, country: str | None, overseas: bool | None) -> None:
    assert server_country(ip) == country
    s = signals(FOOTER, ip=ip)
    assert (s["server_country"], s["overseas_hosting"]) == (country, overseas)


def test_hong_kong_hosting_counts_as_outside_the_mainland() -> None:
    s = signals(FOOTER, ip="1.1.1.1", country_of=lambda ip: "HK")
    assert (s["server_country"], s["overseas_hosting"]) == ("HK", True)


def test_host_matches() -> None:
    assert host_matches("www.a.test", ["a.test"]) and host_matches("a.test", ["www.a.test"])
    assert not host_matches("evil-a.test", ["a.test"]) and not host_matches("a.test.evil", ["a.test"])


def test_signals_are_json_serialisable_for_the_capture_row() -> None:
    import json

    text = FOOTER + " 国药准字Z53020206 降糖 国食健注G20190123 根治 粤药广审(视)第251231-00012号 微信：abc_123"
    json.dumps(signals(text, ip="8.8.8.8"), ensure_ascii=False)


ALPHABET = list("（浙）-经营性2023001国药准字HZ食健注G械备广审(文)第号ICP微信QQ根治 ")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=60))
def test_reference_signals_never_raise(text: str) -> None:
    signals(text, ip="1.2.3.4")


def test_an_ocr_letter_o_in_a_registered_number_is_looked_up_as_zero_but_stays_malformed() -> None:
    s = signals("互联网药品信息服务资格证书：（浙）-经营性-2O23-OO12")
    assert s["licence_valid"] is True
    assert s["licence_checks"][0]["status"] == "malformed"  # type: ignore[index]


@pytest.mark.parametrize("kinds", [("info_service_cert",), ("phone",), ("drug_approval", "icp_filing")])
def test_extracting_some_kinds_gives_what_extracting_all_gives_for_them(kinds: tuple[str, ...]) -> None:
    text = FOOTER + " 国药准字H20000001 电话 0571-88886666 资格证书：（京ICP备12345678号）-非经营性-2015-0087"
    from rules.reference import extract_identifiers

    every = [i for i in extract_identifiers(text) if i.kind in kinds]
    assert every and extract_identifiers(text, kinds=kinds) == every
