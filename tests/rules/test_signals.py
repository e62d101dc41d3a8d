"""page_signals: does the page sell drugs, show a licence number, which language, is it a warning."""

from __future__ import annotations

import pytest

from rules import TextDocument, page_signals


def signals(text: str) -> dict[str, object]:
    return page_signals(TextDocument(text))


@pytest.mark.parametrize(
    "text",
    [
        "西地那非片 ¥68 加微信下单",
        "阿莫西林胶囊 0.25g*24粒/盒 价格：12.5元 加入购物车",
        "降压药 售价198元 立即购买",
        "Buy Viagra 100mg pills - $0.99 per pill - add to cart",
    ],
)
def test_sells_drugs_needs_price_purchase_and_drug_together(text: str) -> None:
    assert signals(text)["sells_drugs"] is True


@pytest.mark.parametrize(
    "text",
    [
        "高血压患者应遵医嘱服用降压药。",  # a drug, no offer
        "新鲜水果 价格：25元 立即购买",  # an offer, no drug
        "药妆旗舰店 面霜 ¥99 立即购买",  # 药妆 is cosmetics
        "高效农药 价格68元 下单即发",
        "降压药" + "。" * 400 + "价格：25元 立即购买",  # too far apart to be one offer
    ],
)
def test_not_selling_drugs(text: str) -> None:
    assert signals(text)["sells_drugs"] is False


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("互联网药品信息服务资格证书：（浙）-经营性-2018-0010", "（浙）-经营性-2018-0010"),
        ("（鲁）-非经营性-2016-0001", "（鲁）-非经营性-2016-0001"),
        ("(京) - 非经营性-2015-0087", "(京)-非经营性-2015-0087"),
        ("（沪）- 非经营性 - 2011-0128", "（沪）-非经营性-2011-0128"),
        ("浙-（经营性）-2017-0005", "浙-（经营性）-2017-0005"),
        ("互联网药品信息服务资格证书：（浙）-2017-0027", "（浙）-2017-0027"),
        ("（粵）-經營性-2020-0101", "（粵）-經營性-2020-0101"),
    ],
)
def test_licence_numbers_are_parsed_leniently(text: str, number: str) -> None:
    found = signals(text)
    assert found["shows_licence"] is True
    assert found["licence_numbers"] == [number]


@pytest.mark.parametrize("text", ["浙2017-0027", "电话：010-2015-0087", "京ICP备12345678号", "浙B2-20160288"])
def test_things_that_are_not_licence_numbers(text: str) -> None:
    assert signals(text)["shows_licence"] is False


def test_language() -> None:
    assert signals("根治糖尿病，告别胰岛素")["language"] == "zh"
    assert signals("Buy Viagra online, no prescription needed")["language"] == "en"
    assert signals("Viagra 伟哥 正品")["language"] == "zh"


def test_warning_context_marks_warnings_and_reports_not_adverts() -> None:
    news = "市场监管局依法查处一批虚假广告，提醒消费者切勿轻信。"
    assert signals(news)["warning_context"] is True
    advert = "切勿轻信虚假广告！本品正宗，加微信：abc12345 下单"
    assert signals(advert)["warning_context"] is False
    assert signals("根治糖尿病")["warning_context"] is False


def test_identifier_lists() -> None:
    found = signals("批准文号：国药准字H20023370 保健食品 国食健注G20190123")
    assert found["drug_approval_numbers"] == ["国药准字H20023370"]
    assert found["health_food_numbers"] == ["国食健注G20190123"]
    assert found["shows_health_food_number"] is True


def test_the_url_does_not_count_for_signals() -> None:
    # "/order.html" and a price-like path are no offer; a handle-like path is no contact.
    doc = TextDocument.from_parts(
        [("title", "降压药知识"), ("body", "降压药的种类"), ("url", "http://x.test/order/price-$5/weixin12345")]
    )
    found = page_signals(doc)
    assert found["sells_drugs"] is False
    assert found["has_contact_handle"] is False


@pytest.mark.parametrize(
    "text",
    [
        "鱼油软胶囊 1000mg*100粒 国食健注G20150123 保健食品不是药物 ¥118 加入购物车",  # a health-food shop
        "钙维生素D软胶囊 60粒 蓝帽子 ¥49.9 立即购买",
        "祛痘精华 本品为化妆品，不能代替药品治疗痘痘。¥99 加入购物车",  # a drug word in a disclaimer
        "低钠盐 400g*5袋 ¥19.9 包邮 本品为食用盐，不能代替降压药。",  # sachets are food packaging too
    ],
)
def test_health_food_and_disclaimers_are_not_drug_sales(text: str) -> None:
    assert signals(text)["sells_drugs"] is False


def test_a_health_food_shop_that_names_a_medicine_still_sells_drugs() -> None:
    assert signals("保健品专区 降压药 硝苯地平片 ¥25 立即购买")["sells_drugs"] is True


def test_a_drug_trading_licence_number_is_found() -> None:
    found = signals("益丰大药房 药品经营许可证：湘AA7310156 阿莫西林胶囊 ¥12 立即购买")
    assert found["shows_trading_licence"] is True
    assert found["trading_licence_numbers"] == ["湘AA7310156"]
    assert signals("药品经营许可证办理流程")["shows_trading_licence"] is False


def test_a_drug_trading_licence_in_the_2024_numbering_is_found() -> None:
    # Since SAMR Order 84 (2024): 4-digit area and 5-digit serial, e.g. 琼AA898000001.
    found = signals("药品经营许可证：琼AA898000001 阿莫西林胶囊 ¥12 立即购买")
    assert found["trading_licence_numbers"] == ["琼AA898000001"]
    assert signals("药品经营许可证：琼AA8980000012")["shows_trading_licence"] is False


def test_page_signal_keys_list_exactly_what_is_computed() -> None:
    from rules.signals import PAGE_SIGNAL_KEYS

    assert tuple(signals("西地那非片 ¥68 加微信下单")) == PAGE_SIGNAL_KEYS
    assert tuple(signals("")) == PAGE_SIGNAL_KEYS


def test_the_known_signals_are_the_page_and_reference_signals() -> None:
    from rules.reference import SIGNAL_KEYS, reference_signals
    from rules.signal_names import KNOWN_SIGNALS
    from rules.signals import PAGE_SIGNAL_KEYS

    computed = reference_signals("国药准字H20000001", host=None, server_ip=None, registry=None,
                                 country_of=lambda _ip: None)
    assert set(computed) == set(SIGNAL_KEYS)
    assert KNOWN_SIGNALS == set(PAGE_SIGNAL_KEYS) | set(SIGNAL_KEYS)


@pytest.mark.parametrize(
    "text",
    [
        "互联网药品信息服务资格证书：（浙）-经营性-2018-0010 备案号：浙ICP备12345678号 电话 0571-88886666",
        "资格证书：（京ICP备12345678号）-非经营性-2015-0087",  # malformed: an ICP number in the brackets
        "互联网药品信息服务资格证书编号：粤ICP备12345678号",  # an ICP number given as the certificate number
        "（京） 2019-2024 年度报告",  # a span of years, not a number
    ],
)
def test_shows_licence_is_the_identifier_extractors_certificate(text: str) -> None:
    from rules.reference import extract_identifiers

    certificates = [i for i in extract_identifiers(text) if i.kind == "info_service_cert"]
    assert signals(text)["shows_licence"] is bool(certificates)
    assert signals(text)["licence_numbers"] == ["".join(i.raw.split()) for i in certificates]


def test_a_licence_number_in_the_url_does_not_count() -> None:
    doc = TextDocument.from_parts([("url", "https://shop.test/（浙）-经营性-2018-0010"), ("body", "药品 价格")])
    assert page_signals(doc)["shows_licence"] is False
    shown = TextDocument.from_parts([("body", "资格证书：（浙）-经营性-2018-0010")])
    assert page_signals(shown)["shows_licence"] is True
