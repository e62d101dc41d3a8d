"""Phone numbers on Chinese pages: mobiles, landlines written at home and for callers abroad (+86), 400/800
service numbers, each in the one normal form the blacklist and the network index compare (with its E.164
form beside it), and never the dates, prices, order, approval, ICP or licence numbers around them."""

from __future__ import annotations

import pytest

from rules.reference.identifiers.extract import extract_identifiers


def phones(text: str) -> list[tuple[str, str]]:
    return [(i.normalised, i.parts["e164"]) for i in extract_identifiers(text) if i.kind == "phone"]


@pytest.mark.parametrize(
    ("written", "normalised", "e164"),
    [
        ("+86 10 8888 8888", "010-88888888", "+861088888888"),
        ("+86-755-26543210", "0755-26543210", "+8675526543210"),
        ("+86 (0)21 6123 4567", "021-61234567", "+862161234567"),
        ("+86(21)61234567", "021-61234567", "+862161234567"),
        ("0086 21 6123 4567", "021-61234567", "+862161234567"),
        ("+86 0755 2654 3210", "0755-26543210", "+8675526543210"),  # the 0 kept after +86
        ("＋８６　４５１　８６５４　３２１０", "0451-86543210", "+8645186543210"),  # full-width
        ("0755-26543210", "0755-26543210", "+8675526543210"),
        ("(021)6123 4567", "021-61234567", "+862161234567"),
        ("０２１－６１２３４５６７", "021-61234567", "+862161234567"),
        ("400-612-3456", "400-612-3456", "+864006123456"),
        ("+86 400 612 3456", "400-612-3456", "+864006123456"),
        ("800-820-8820", "800-820-8820", "+868008208820"),
        ("+86 138 0013 8000", "13800138000", "+8613800138000"),
    ],
)
def test_each_way_of_writing_a_number_gives_one_normal_form_and_its_e164(written: str, normalised: str,
                                                                         e164: str) -> None:
    assert phones(f"联系电话：{written}") == [(normalised, e164)]


def test_a_number_written_for_abroad_and_at_home_is_one_identifier() -> None:
    abroad = phones("Tel: +86-755-2654-3210  Fax: +86-755-2654-3211")
    home = phones("电话 0755-26543210 传真 0755-26543211")
    assert abroad == home == [("0755-26543210", "+8675526543210"), ("0755-26543211", "+8675526543211")]


# A shop footer and order page as sellers write them: every number that is not a phone sits beside one.
PAGE = """
<div class="footer">
  <p>深圳市某某大药房连锁有限公司　地址：深圳市南山区科技园路88号（邮编518057）</p>
  <p>订购热线：0755-2654 3210　全国免费咨询：400-612-3456　境外客户请拨 +86 755 2654 3211</p>
  <p>批准文号：国药准字H20051234　生产批号：20231012　有效期至 2026-10-11</p>
  <p>药品网络销售备案：（粤）网药备字〔2023〕第0128号　粤ICP备05012345号-2　粤公网安备 44030502001234号</p>
  <p>营业执照注册号：440301103456789　统一社会信用代码：91440300MA5ABCDE1X</p>
  <p>药品经营许可证：粤AA7550123　医疗器械经营备案编号：粤深食药监械经营备20150123号</p>
  <p>订单号：075526543219　快递单号：SF1234567890123　下单时间：2023-10-12 08:30:15</p>
  <p>原价 ¥1298.00 现价 ¥398.00　每盒 60 粒　条码 6901234567892　客服编号 02161234567</p>
  <p>© 2005-2023 版权所有　Copyright 2010-2024</p>
</div>
"""


def test_a_real_footer_yields_its_three_phones_and_none_of_its_other_numbers() -> None:
    assert phones(PAGE) == [("0755-26543210", "+8675526543210"), ("400-612-3456", "+864006123456"),
                            ("0755-26543211", "+8675526543211")]


@pytest.mark.parametrize(
    "text",
    [
        "订单号：075526543210",
        "订单号 4006123456",
        "流水号 20231012083015",
        "生产日期 2023-10-12 保质期 24 个月",
        "有效期至2026.10.11",
        "批准文号：国药准字H20051234",
        "京ICP备05012345号-2",
        "执业药师注册证号：0512345678901",
        "+86 10 1234 5678",  # a local number never starts with 0 or 1
        "+86 138 0013",  # too short for anything
        "价格 0755元 2654 件",
    ],
)
def test_numbers_that_are_not_phones(text: str) -> None:
    assert phones(text) == []


def test_a_label_before_a_phone_that_names_it_a_phone_still_reads() -> None:
    assert phones("Phone No. 0755-26543210；客服电话号码：400-612-3456") == [
        ("0755-26543210", "+8675526543210"), ("400-612-3456", "+864006123456")]
