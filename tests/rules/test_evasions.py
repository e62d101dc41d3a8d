"""Evasive spellings seen in real adverts are still caught, and findings point at what the page wrote.

One case per evasion the issue names: NFKC (full-width), traditional → simplified, zero-width and
filler characters between CJK, case folding, pinyin, half-pinyin and full pinyin, initials and
homophones (rules.evasions), and combinations of them.
"""

from __future__ import annotations

import pytest
from pypinyin.phrases_dict import phrases_dict

from rules import TextDocument
from rules.engine import RuleSet
from rules.evasions import CURATED, evasion_table, pinyin_variants

CASES = [
    # (text, rule that must fire, substring of the original text a finding span must cover)
    ("【港版】根治糖尿病，一個月摘掉胰島素，永不復發！", "pw-zh-diabetes-cure-001", "根治"),  # traditional
    ("降血壓特效藥，兩週血壓恢復正常，告別降壓藥", "pw-zh-hypertension-cure-001", "告別降壓藥"),
    ("腎衰竭尿毒症患者福音，免透析，三個月肌酐下降", "pw-zh-kidney-cure-001", "免透析"),
    ("糖-尿-病-克-星，根/治/不/反/弹", "pw-zh-diabetes-cure-001", "糖-尿-病"),  # fillers
    ("🔥根🔥治🔥糖🔥尿🔥病🔥", "pw-zh-diabetes-cure-001", "糖🔥尿🔥病"),  # emoji fillers
    ("根\u200b治\u200b糖\u200b尿\u200b病", "pw-zh-diabetes-cure-001", "糖\u200b尿\u200b病"),  # zero-width
    ("７天根治痛風，成功率９９％", "pw-zh-gout-cure-001", "痛風"),  # full-width + traditional
    ("根治tang尿病", "pw-zh-diabetes-cure-001", "tang尿病"),  # one character in pinyin
    ("根治tangniao病", "pw-zh-diabetes-cure-001", "tangniao病"),  # half pinyin
    ("根治 tangniaobing", "pw-zh-diabetes-cure-001", "tangniaobing"),  # full pinyin
    ("根治ＴＡＮＧ尿病", "pw-zh-diabetes-cure-001", "ＴＡＮＧ尿病"),  # full-width pinyin, upper case
    ("根治t\u200bang尿病", "pw-zh-diabetes-cure-001", "t\u200bang尿病"),  # zero-width inside pinyin
    ("根治高xue压，永不反弹", "pw-zh-hypertension-cure-001", "高xue压"),
    ("根治高xie压", "pw-zh-hypertension-cure-001", "高xie压"),  # the other reading of 血
    ("根治痛feng", "pw-zh-gout-cure-001", "痛feng"),
    ("根治yang痿早xie", "pw-zh-sexual-cure-001", "yang痿"),
    ("TNB患者福音，根治不复发", "pw-zh-diabetes-cure-001", "TNB"),  # initials
    ("GXY患者：根治不复发", "pw-zh-hypertension-cure-001", "GXY"),
    ("唐尿病克星，根治唐尿病", "pw-zh-diabetes-cure-001", "唐尿病"),  # homophones
    ("高血丫患者福音，一个疗程根治高血丫", "pw-zh-hypertension-cure-001", "高血丫"),
    ("痛疯患者看过来，痛疯断根不复发", "pw-zh-gout-cure-001", "痛疯"),
    ("徹底治癒陽萎早洩，一勞永逸", "pw-zh-sexual-cure-001", "陽萎"),  # traditional + homophone
    ("唐友们注意啦！降唐不用打针吃药，喝这个茶一个月，血唐就正常了", "pw-zh-diabetes-cure-001", "血唐"),
    ("壮 阳 神 药，纯 中 药，半 小 时 起 效", "pw-zh-ad-natural-fast-onset-001", "纯 中 药"),
    ("加薇信下单：abc8888，伟哥原装进口", "pw-zh-offplatform-contact-001", "薇信"),
    ("进口伟哥现货，需要的加薇❤信：yao-8866 下单", "pw-zh-offplatform-contact-001", "下单"),
    ("西 地 那 非 ￥５０ 无 需 处 方", "pw-zh-rx-no-prescription-001", "无 需 处 方"),
    ("美国原装WG 蓝色小药丸 正品进口 ¥98 私聊下单", "pw-zh-counterfeit-ed-brand-001", "WG"),
    ("NO PRESCRIPTION NEEDED — buy Viagra", "pw-en-rx-no-prescription-001", "NO PRESCRIPTION NEEDED"),  # case
    ("BuY CiAlIs 20MG — ｎｏ ｐｒｅｓｃｒｉｐｔｉｏｎ ｎｅｅｄｅｄ", "pw-en-rx-no-prescription-001", "CiAlIs"),
]


@pytest.mark.parametrize(("text", "rule_id", "evidence"), CASES)
def test_evasion_is_caught_and_the_span_points_at_the_original(
    bundled: RuleSet, text: str, rule_id: str, evidence: str
) -> None:
    hits = [hit for hit in bundled.analyse(TextDocument(text)).findings if hit.rule_id == rule_id]
    assert hits, f"{rule_id} did not fire on {text!r}"
    covered = [text[a:b] for a, b in hits[0].spans]
    assert any(evidence in span for span in covered), covered


def test_curated_evasions_are_not_ordinary_words() -> None:
    # Rewriting a real word (通风 "ventilation" for 痛风) would put disease words into every page.
    assert [variant for variant in CURATED if variant in phrases_dict] == []


def test_generated_variants_never_rewrite_one_real_term_into_another() -> None:
    terms = ["糖尿病", "唐尿病", "血糖", "血压", "高血压", "痛风", "尿酸", "肾病", "神病"]
    table = evasion_table(terms)
    assert not set(table) & {"糖尿病", "血糖", "血压", "高血压", "痛风", "尿酸", "肾病", "神病"}
    assert table["tangniaobing"] == "糖尿病"  # 唐尿病 is a curated spelling of 糖尿病, not a rival
    assert table["唐尿病"] == "糖尿病"
    assert "shenbing" not in table  # 肾病 and 神病 read alike: ambiguous, so never rewritten


def test_pinyin_variants_mix_characters_and_syllables() -> None:
    variants = pinyin_variants("降糖")
    assert {"降tang", "jiang糖", "jiangtang"} <= variants
    assert "xiang糖" in variants  # heteronym: an IME may offer either reading
    assert "tang" not in pinyin_variants("糖")  # one character: bare syllables are everywhere
    assert not {v for v in pinyin_variants("尿酸") if v.isascii() and len(v) < 5}


def test_an_english_page_is_not_rewritten_into_chinese(bundled: RuleSet) -> None:
    # "tang" alone (a drink, a surname) must stay English; only variants of whole terms are rewritten.
    analysis = bundled.analyse(TextDocument("Tang is an orange drink mix. Ms Tang cured her hiccups."))
    assert analysis.findings == []


def test_initials_inside_a_handle_are_not_rewritten(bundled: RuleSet) -> None:
    analysis = bundled.analyse(TextDocument("糖尿病克星，三个月根治糖尿病！需要的加微信tnb888下单"))
    assert analysis.signals["has_contact_handle"] is True  # the handle survives normalisation
