"""Evasive spellings seen in real adverts are still caught by the shipped packs."""

from __future__ import annotations

import pytest

from rules import TextDocument
from rules.engine import RuleSet


@pytest.mark.parametrize(
    ("text", "rule_id"),
    [
        ("【港版】根治糖尿病，一個月摘掉胰島素，永不復發！", "pw-zh-diabetes-cure-001"),  # traditional
        ("降血壓特效藥，兩週血壓恢復正常，告別降壓藥", "pw-zh-hypertension-cure-001"),
        ("腎衰竭尿毒症患者福音，免透析，三個月肌酐下降", "pw-zh-kidney-cure-001"),
        ("糖-尿-病-克-星，根/治/不/反/弹", "pw-zh-diabetes-cure-001"),  # fillers
        ("🔥根🔥治🔥糖🔥尿🔥病🔥", "pw-zh-diabetes-cure-001"),  # emoji fillers
        ("根\u200b治\u200b糖\u200b尿\u200b病", "pw-zh-diabetes-cure-001"),  # zero-width
        ("７天根治痛風，成功率９９％", "pw-zh-gout-cure-001"),  # full-width digits
        ("根治tang尿病", "pw-zh-diabetes-cure-001"),  # pinyin
        ("根治高xue压，永不反弹", "pw-zh-hypertension-cure-001"),
        ("根治痛feng", "pw-zh-gout-cure-001"),
        ("壮 阳 神 药，纯 中 药，半 小 时 起 效", "pw-zh-ad-natural-fast-onset-001"),
        ("加薇信下单：abc8888，伟哥原装进口", "pw-zh-offplatform-contact-001"),
        ("西 地 那 非 ￥５０ 无 需 处 方", "pw-zh-rx-no-prescription-001"),
        ("NO PRESCRIPTION NEEDED — buy Viagra", "pw-en-rx-no-prescription-001"),
    ],
)
def test_evasion_is_caught(bundled: RuleSet, text: str, rule_id: str) -> None:
    fired = {hit.rule_id for hit in bundled.analyse(TextDocument(text)).findings}
    assert rule_id in fired, sorted(fired)
