"""Which disease areas a text speaks of: the grouping of findings by disease area.

Owns `disease_areas()` and `finding_areas()`. The words per area are reviewed data in
`rules/reference/disease_terms.yaml`; areas are the rule packs' (`rules.model.DISEASES`). The daily list,
the morning digest and the statistics group findings this way. A rule's own `diseases` list is often broad
(one cure-claim rule names six areas), so a finding's area is read from its excerpt first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from rules.normalise import normalise
from rules.vocabulary import DISEASE_TERMS_PATH, load_vocabulary

#: The bucket of a finding whose excerpt names no area and whose rule names none or several.
UNSPECIFIED: Final = "unspecified"


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    vocabulary = load_vocabulary(DISEASE_TERMS_PATH)
    out = []
    for name, term_list in vocabulary.lists.items():
        # Latin terms are whole words (so "gout" is not read in "ragout"); Chinese terms are substrings.
        alternatives = sorted(term_list.terms, key=len, reverse=True)
        body = "|".join(rf"\b{re.escape(t)}" if t.isascii() else re.escape(t) for t in alternatives)
        out.append((name, re.compile(body)))
    return tuple(out)


def disease_areas(text: str) -> tuple[str, ...]:
    """The areas `text` names, in the vocabulary's order (empty when it names none)."""
    folded = normalise(text).text
    return tuple(name for name, pattern in _patterns() if pattern.search(folded))


def finding_areas(excerpt: str, rule_diseases: Iterable[str] = ()) -> tuple[str, ...]:
    """A finding's areas: those its excerpt names, else its rule's only area, else (UNSPECIFIED,)."""
    named = disease_areas(excerpt)
    if named:
        return named
    listed = [d for d in rule_diseases if d != "other"]
    return (listed[0],) if len(listed) == 1 else (UNSPECIFIED,)


#: Chinese labels of the disease areas (reports, digest, UI); an unknown area shows as is.
DISEASE_ZH: Final = {
    "diabetes": "糖尿病", "hypertension": "高血压", "hyperlipidemia": "高血脂", "kidney": "肾病",
    "rheumatism": "风湿", "gout": "痛风", "sexual_dysfunction": "性功能障碍", "cardiovascular": "心脑血管",
    "obesity": "减肥", "cancer": "肿瘤", "mental_health": "精神与睡眠", "pain": "止痛", "infection": "感染与肝病",
    "reproductive": "生殖与妇科", "other": "其他", UNSPECIFIED: "未注明",
}
