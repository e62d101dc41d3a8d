"""A finding's disease area is read from what its excerpt says, then from its rule."""

from rules.model import DISEASES
from rules.reference.diseases import UNSPECIFIED, disease_areas, finding_areas
from rules.vocabulary import DISEASE_TERMS_PATH, load_vocabulary


def test_every_list_is_a_rule_disease_area():
    assert set(load_vocabulary(DISEASE_TERMS_PATH).lists) <= set(DISEASES)


def test_chinese_text_names_its_areas_in_either_script():
    assert disease_areas("本品能根治痛風和高血壓") == ("hypertension", "gout")
    assert disease_areas("三个疗程告别胰岛素") == ("diabetes",)


def test_english_words_are_whole_words():
    assert disease_areas("Cheap VIAGRA online, no prescription") == ("sexual_dysfunction",)
    assert disease_areas("a ragout recipe") == ()


def test_a_finding_falls_back_to_its_rules_only_area_then_unspecified():
    assert finding_areas("专家说吃三个疗程就好了", ["kidney"]) == ("kidney",)
    assert finding_areas("专家说吃三个疗程就好了", ["kidney", "gout"]) == (UNSPECIFIED,)
    assert finding_areas("专家说吃三个疗程就好了", ["other"]) == (UNSPECIFIED,)
    assert finding_areas("根治肾炎", ["gout"]) == ("kidney",)
