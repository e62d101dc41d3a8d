"""Obfuscated English drug names (rules/obfuscation.py) and the `obfuscated:` selection of rule packs."""

from __future__ import annotations

import pytest

from rules.obfuscation import find_obfuscated, load_lexicon, skeleton


def names(text: str) -> list[tuple[str, str]]:
    return [(hit.written, hit.drug.name) for hit in find_obfuscated(text)]


@pytest.mark.parametrize(
    ("text", "written", "name", "kind"),
    [
        ("buy v . iagra now", "v . iagra", "viagra", "separator"),
        ("cheap cia . lis", "cia . lis", "cialis", "separator"),
        ("xa . nax 2mg", "xa . nax", "xanax", "separator"),
        ("V-i-a-g-r-a", "V-i-a-g-r-a", "viagra", "separator"),
        ("order v i a g r a", "v i a g r a", "viagra", "separator"),
        ("t*r*a*m*a*d*o*l", "t*r*a*m*a*d*o*l", "tramadol", "separator"),
        ("c ; ia _ lis", "c ; ia _ lis", "cialis", "separator"),  # semicolons and carets, as in Enron-era spam
        ("v - 1 - c _ 0 , d ^ 1 . n", "v - 1 - c _ 0 , d ^ 1 . n", "vicodin", "separator"),
        ("V1AGRA", "V1AGRA", "viagra", "leet"),
        ("VI@GRA", "VI@GRA", "viagra", "leet"),
        ("c1alis", "c1alis", "cialis", "leet"),
        ("ph3nterm1ne", "ph3nterm1ne", "phentermine", "leet"),
        ("\\/iagra", "\\/iagra", "viagra", "leet"),
        ("v\u0456agra", "v\u0456agra", "viagra", "homoglyph"),  # Cyrillic і
        ("x\u0430n\u0430x", "x\u0430n\u0430x", "xanax", "homoglyph"),  # Cyrillic а
        ("\u03bfxycodone", "\u03bfxycodone", "oxycodone", "homoglyph"),  # Greek ο
        ("vi\u200bagra", "vi\u200bagra", "viagra", "hidden"),  # zero-width space
        ("\U0001d415\U0001d408\U0001d400\U0001d406\U0001d411\U0001d400", None, "viagra", "styled"),
        ("vlcodln", "vlcodln", "vicodin", "lookalike"),
        ("phentermlne", "phentermlne", "phentermine", "lookalike"),
        ("viagbtra", "viagbtra", "viagra", "insertion"),
        ("Viaggra", "Viaggra", "viagra", "misspelling"),
        ("hydrocodene", "hydrocodene", "hydrocodone", "misspelling"),
    ],
)
def test_each_kind_of_obfuscation_is_read(text: str, written: str | None, name: str, kind: str) -> None:
    hits = find_obfuscated(text)
    assert len(hits) == 1, hits
    hit = hits[0]
    assert hit.drug.name == name
    assert kind in hit.kinds
    # The span points at what the page wrote.
    assert text[hit.start : hit.end] == (written or text)
    assert hit.written == text[hit.start : hit.end]


def test_spans_point_into_the_original_text() -> None:
    text = "Ｂｕｙ now:\u00a0V\u200b1\u200bA-G-R-A?? and x\u0430n\u0430x — cheap!"
    hits = find_obfuscated(text)
    assert [(h.written, h.drug.name) for h in hits] == [
        ("V\u200b1\u200bA-G-R-A", "viagra"),
        ("x\u0430n\u0430x", "xanax"),
    ]
    assert set(hits[0].kinds) == {"separator", "leet", "hidden"}
    for hit in hits:
        assert text[hit.start : hit.end] == hit.written


@pytest.mark.parametrize(
    "text",
    [
        # Plain names are the rule terms' business, not disguises (case and full width included).
        "Viagra (sildenafil) is a prescription medicine for erectile dysfunction.",
        "VIAGRA 100mg, CIALIS 20mg",
        "ｖｉａｇｒａ",
        "Ask your doctor whether Xanax or Valium is right for you; valiums are benzodiazepines.",
        # Ordinary words one edit from a drug name, and words split by prose punctuation.
        "Ambient lyrics, the ultra claims and calls: a florist restored the meridian methane.",
        "After all, the celebre concert at Calais was properly amazing.",
        "The rapist was sentenced. So, ma'am, it is soma-like: e.g. a sonata in C.",
        "u l t r a m i c r o s c o p i c",
        "Soma is a Greek word for body; the norco plant and the cipro account.",
    ],
)
def test_ordinary_english_is_not_read_as_a_drug(text: str) -> None:
    assert names(text) == []


def test_patient_information_mentioning_drugs_plainly_reports_nothing() -> None:
    leaflet = (
        "Do not take sildenafil (Viagra) with nitrates. Tramadol and codeine are opioids; "
        "alprazolam (Xanax) and diazepam (Valium) are benzodiazepines. Your pharmacist can answer questions."
    )
    assert names(leaflet) == []


def test_no_two_lexicon_names_look_alike_and_classes_are_known() -> None:
    lexicon = load_lexicon()
    assert len({skeleton(e.name) for e in lexicon.entries}) == len(lexicon.entries)
    assert lexicon.classes <= {
        "erectile_dysfunction", "opioid", "benzodiazepine", "stimulant", "weight_loss", "sleep",
        "muscle_relaxant", "anticonvulsant", "antibiotic", "steroid", "hair_loss", "fertility", "acne",
        "migraine", "nsaid", "antiparasitic", "other",
    }
    assert all(e.rx_only for e in lexicon.entries)
    assert {e.name for e in lexicon.entries if e.controlled} >= {"xanax", "oxycodone", "tramadol", "adderall"}


def test_cost_is_linear_in_text_length(monkeypatch: pytest.MonkeyPatch) -> None:
    # Work counted, not time measured (a timed assertion fails on a busy machine): the names looked up
    # grow with the text, never with the number of ways to join its words.
    from rules.obfuscation import Lexicon

    looked_up: list[str] = []
    resolve = Lexicon.resolve

    def counted(self: Lexicon, piece: str, joined: bool):  # type: ignore[no-untyped-def]
        looked_up.append(piece)
        return resolve(self, piece, joined)

    monkeypatch.setattr(Lexicon, "resolve", counted)
    page = "Our pharmacy team answers questions about prescriptions, refills and delivery times. " * 200
    find_obfuscated(page)
    small = len(looked_up)
    looked_up.clear()
    find_obfuscated(page * 10)
    assert small > 0 and len(looked_up) <= 11 * small  # quadratic work would be about 100 times
    spelled = "v . i . a . g . r . a " * 2000  # letters joined by symbols: every run is tried, boundedly
    looked_up.clear()
    find_obfuscated(spelled[: len(spelled) // 10])
    small = len(looked_up)
    looked_up.clear()
    find_obfuscated(spelled)
    assert len(looked_up) <= 11 * small


# -- the `obfuscated:` selection in rule packs ------------------------------------------------------


_CACHE: dict[str, object] = {}


def _ruleset():
    from rules.engine import load_ruleset

    if "rs" not in _CACHE:
        _CACHE["rs"] = load_ruleset()
    return _CACHE["rs"]


def _findings(text: str):
    from rules.document import TextDocument

    return _ruleset().analyse(TextDocument(text)).findings


def _flagged_by(text: str, rule_id: str = "pw-en-rogue-obfuscated-drug-001") -> bool:
    return any(hit.rule_id == rule_id for hit in _findings(text))


@pytest.mark.parametrize(
    "text",
    [
        "Buy V1AGRA online, no prescription, overnight shipping",
        "cheap c-i-a-l-i-s pills",
        "Order v\u0456agra now",
        "xa . nax 2mg bars for sale",
    ],
)
def test_disguised_name_next_to_buying_words_is_a_finding(text: str) -> None:
    assert _flagged_by(text)


@pytest.mark.parametrize(
    "text",
    [
        "V1AGRA",  # a disguised name alone is at most context
        "Spam filters learned to catch 'buy v1agra' long ago.",
        "Viagra and Cialis: buy only from a pharmacy that asks for your prescription.",  # plain names
        "Ambient lyrics: order the album, claims the label.",
    ],
)
def test_disguised_name_alone_or_plain_names_are_not_this_finding(text: str) -> None:
    assert not _flagged_by(text)


def test_finding_spans_point_at_the_disguised_name_as_written() -> None:
    text = "Ｂｕｙ now: V\u200b1\u200bA-G-R-A"
    hit = next(h for h in _findings(text) if h.rule_id == "pw-en-rogue-obfuscated-drug-001")
    assert "V\u200b1\u200bA-G-R-A" in [text[a:b] for a, b in hit.spans]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{lexicon: drugs_fr}", "obfuscated lexicon 'drugs_fr' is not one of"),
        ("{lexicon: drugs_en, classes: [painkiller]}", "obfuscated classes must be a list from"),
        ("{lexicon: drugs_en, controlled: maybe}", "obfuscated controlled must be true or false"),
        ("{lexicon: drugs_en, colour: red}", "obfuscated must be a mapping of lexicon, classes, controlled"),
    ],
)
def test_loader_rejects_unknown_lexicons_classes_and_keys(tmp_path, spec: str, message: str) -> None:
    from pathlib import Path

    from rules.loader import load_rule_file

    source = Path(__file__).resolve().parents[2] / "rules/packs/rogue_pharmacy/en_obfuscated_drug_offer.yaml"
    text = source.read_text(encoding="utf-8").replace("obfuscated: {lexicon: drugs_en}", f"obfuscated: {spec}")
    path = tmp_path / "en_obfuscated_drug_offer.yaml"
    path.write_text(text, encoding="utf-8")
    rule, errors = load_rule_file(path)
    assert rule is None
    assert any(message in e.reason for e in errors), errors
