"""The learned second opinion (rules/classifier/): a model file that is data, trained reproducibly on
the corpus as it is, whose verdicts are findings shaped like a rule's and which defers to the rules on
scope, warnings and licences, and which in turn demotes claim findings on text it reads as ordinary."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import RuleSet, TextDocument, load_ruleset
from rules.classifier import MODEL_PATH, LinearTextModel, ModelFileError, load_model
from rules.classifier.features import about_health, folded, off_topic, passages, sentences
from rules.classifier.opinion import DISPUTABLE_CATEGORIES, PAGE_SCORE_FLOOR, RULE_ID_PREFIX, SALE_CATEGORIES
from rules.corpus import ITEMS, corpus_digest, load_items
from rules.model import CATEGORIES, RulePackError

CURE_AD = "糖安康胶囊纯中药配方，根治糖尿病，告别胰岛素，服用一个疗程血糖恢复正常，不反弹。"
SPAM = "Buy Viagra and Cialis online, no prescription needed, overnight shipping, cheap meds."


def _model_hits(analysis):  # type: ignore[no-untyped-def]
    return [h for h in analysis.findings if h.rule_id.startswith(RULE_ID_PREFIX)]


def test_the_shipped_model_was_trained_on_the_corpus_as_it_is() -> None:
    model = load_model()
    assert model.metadata["corpus_sha256"] == corpus_digest(ITEMS), (
        "the corpus changed since the model was trained: run `pharmwatch rules train` (or `make model`)")
    assert model.metadata["items"] == len(load_items())


def test_a_model_trained_on_another_corpus_is_named_stale(tmp_path: Path) -> None:
    from dataclasses import replace

    from rules.classifier.train import training_mismatch

    model = load_model()
    assert training_mismatch(model) is None
    stale = training_mismatch(replace(model, metadata={**model.metadata, "corpus_sha256": "0" * 64}))
    assert stale and "pharmwatch rules train" in stale
    assert training_mismatch(model, tmp_path) is None  # an installed copy has no corpus to compare with


@pytest.mark.slow
def test_training_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pharmwatch.cli import cli

    out = tmp_path / "model.json.gz"
    result = CliRunner().invoke(cli, ["rules", "train", "--output", str(out)], obj={},
                                env={"PHARMWATCH_HOME": str(tmp_path), "PHARMWATCH_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == MODEL_PATH.read_bytes()


def test_the_run_time_scorer_agrees_with_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from rules.classifier.features import ngrams
    from rules.classifier.train import item_text, train

    items = [i for i in load_items() if i.source in {"real1.yaml", "cure_claims_zh.yaml", "negatives_news.yaml"}]
    model = LinearTextModel.from_bytes(train(items).to_bytes())
    texts = [item_text(i) for i in items]
    vectorizer = TfidfVectorizer(analyzer=ngrams, sublinear_tf=True, min_df=2)
    head = LogisticRegression(C=10.0, max_iter=5000).fit(vectorizer.fit_transform(texts), [i.flagged for i in items])
    expected = head.predict_proba(vectorizer.transform(texts[:40]))[:, 1]
    got = [model.flag_probability(model.vector(t)) for t in texts[:40]]
    assert max(abs(a - b) for a, b in zip(expected, got, strict=True)) < 1e-4


def test_a_model_file_is_data_and_a_broken_one_is_refused_with_its_reason(tmp_path: Path) -> None:
    document = json.loads(gzip.decompress(MODEL_PATH.read_bytes()))
    assert document["format"] == 1 and {"features", "categories", "metadata", "threshold"} <= set(document)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(broken)
    with pytest.raises(RulePackError, match="second-opinion model"):
        load_ruleset(model=broken)
    other = tmp_path / "other.json.gz"
    other.write_bytes(gzip.compress(json.dumps({**document, "format": 99}).encode()))
    with pytest.raises(ModelFileError, match="format 99"):
        load_model(other)


def test_only_the_bundled_packs_bring_the_bundled_model(bundled: RuleSet, tmp_path: Path) -> None:
    assert bundled.opinion is not None
    pack = Path(__file__).resolve().parents[2] / "rules" / "packs" / "disease_cure_claim"
    assert load_ruleset([pack]).opinion is None
    assert load_ruleset([pack], model=MODEL_PATH).opinion is not None


def test_a_model_finding_is_shaped_like_a_rule_finding(bundled: RuleSet) -> None:
    doc = TextDocument(f"欢迎光临。{CURE_AD}联系电话见下方。")
    analysis = bundled.analyse(doc)
    (hit,) = _model_hits(analysis)
    assert hit.category in CATEGORIES and hit.rule_id == RULE_ID_PREFIX + hit.category
    assert hit.severity == "medium" and hit.legal_basis and hit.rule_sha256 == bundled.opinion.model.sha256
    ((start, end),) = hit.spans
    assert doc.text[start:end] in CURE_AD and "根治糖尿病" in doc.text[start:end]
    assert doc.text[start:end] in hit.excerpt
    assert analysis.signals["model_score"] >= bundled.opinion.model.threshold
    assert analysis.signals["model_category"] == hit.category


def test_the_model_does_not_judge_text_that_is_not_about_health(bundled: RuleSet) -> None:
    for text in ("The weather today is sunny.", "北京今天天气晴朗，适合出游。", "end of chain http://a.test/x?hop=25"):
        analysis = bundled.analyse(TextDocument(text))
        assert analysis.signals["model_score"] == 0.0 and not _model_hits(analysis), text


def test_a_denied_or_reported_claim_is_set_aside_and_says_why(bundled: RuleSet) -> None:
    for text in ("There is no cure for diabetes yet.", "目前糖尿病还没有根治的办法，需要长期控制血糖。"):
        analysis = bundled.analyse(TextDocument(text))
        assert not analysis.flagged, (text, analysis.findings)


def test_a_warning_page_and_a_licensed_pharmacy_are_not_flagged_by_the_model(bundled: RuleSet) -> None:
    warning = TextDocument("市场监管局提醒：查处违法广告，" + CURE_AD + "等宣传均属虚假，切勿轻信。")
    analysis = bundled.analyse(warning)
    assert not _model_hits(analysis)
    page = "康健大药房 互联网药品信息服务资格证书编号：（浙）-经营性-2023-0012 布洛芬缓释胶囊 ¥25 加入购物车"
    licensed = bundled.analyse(TextDocument(page), {"shows_licence": True})
    assert not [h for h in _model_hits(licensed) if h.category in SALE_CATEGORIES]


def test_pharmacy_spam_is_a_model_finding_too(bundled: RuleSet) -> None:
    assert bundled.analyse(TextDocument(SPAM)).signals["model_score"] >= 0.5


def test_passages_cover_the_text_in_overlapping_windows_of_whole_sentences() -> None:
    text = "。".join(f"第{i}句话讲的是一件事情" for i in range(60)) + "。"
    spans = passages(text, limit=100)
    assert spans[0][0] == 0 and spans[-1][1] >= len(text) - 1
    assert all(b - a <= 100 for a, b in spans)
    assert all(spans[k + 1][0] < spans[k][1] for k in range(len(spans) - 1))  # they overlap
    assert sentences("一句。二句！\n\nthree. four") == [(0, 2), (3, 5), (8, 13), (15, 19)]
    assert about_health(folded("降糖")) and not about_health(folded("今天股市上涨"))


def test_a_fragment_scoring_high_on_an_ordinary_page_is_set_aside(bundled: RuleSet) -> None:
    # The demo's licensed pharmacy: a footer and a product list can score high as a passage, the page does not.
    from crawler.check import read_document

    demo = Path(__file__).resolve().parents[2] / "demo" / "sites" / "kangjian-pharmacy.test"
    for page in ("otc.html", "prescription-submitted.html"):
        analysis = bundled.analyse(read_document(demo / page))
        assert not analysis.flagged, (page, analysis.findings)
        assert analysis.signals["model_page_score"] < PAGE_SCORE_FLOOR
        assert analysis.signals.get("model_set_aside"), page


def test_a_claim_rule_the_model_reads_as_ordinary_text_is_demoted_not_dropped(bundled: RuleSet) -> None:
    letter = ("Recently I have seen many posts on Facebook advertising a cure for diabetes that works in a very "
              "short time. These products include teas and capsules. Patients should not stop their "
              "medication; please speak to your doctor.")
    analysis = bundled.analyse(TextDocument(letter))
    disputed = analysis.signals["model_disputed"]
    assert disputed and set(disputed.values()) <= {"medium", "high"}
    assert not analysis.flagged and analysis.risk == "low"
    assert {h.rule_id for h in analysis.findings} == set(disputed)  # still there, for a reviewer
    # A cure advert keeps its rule findings at their severity, and facts the model cannot see are never disputed.
    assert "model_disputed" not in bundled.analyse(TextDocument(CURE_AD)).signals
    assert not DISPUTABLE_CATEGORIES & SALE_CATEGORIES


def test_a_claim_amid_unrelated_text_is_read_on_its_own(bundled: RuleSet) -> None:
    # Menus, news and comments around an advert break passages instead of diluting it.
    news = ("北京今天天气晴朗，最高气温二十五度，适合全家出门踏青游玩。" * 3
            + "The city council approved the new bus routes after a long public consultation last week. " * 3)
    page = TextDocument(f"{news}\n{CURE_AD}\n{news}")
    assert page.text.count(CURE_AD) == 1
    analysis = bundled.analyse(page)
    assert analysis.signals["model_score"] >= bundled.opinion.model.threshold
    assert off_topic(news.split("。")[0] * 2) and not off_topic("三天见效，不反弹")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_each_ngram_is_one_number_and_distinct_ngrams_distinct_numbers(text: str) -> None:
    # The scorer counts n-grams as numbers (linear.gram_keys): the same multiset as the n-gram strings.
    from collections import Counter

    from rules.classifier.features import grams_of_folded
    from rules.classifier.linear import _gram_key, gram_keys

    assert Counter(gram_keys(text).tolist()) == Counter(_gram_key(g) for g in grams_of_folded(text))
    assert len({_gram_key(g) for g in grams_of_folded(text)}) == len(set(grams_of_folded(text)))
