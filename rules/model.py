"""The rule engine's data types: rules as loaded, findings, analyses and pack errors.

Owns the fixed vocabularies a rule file may use (categories, severities, statuses, diseases,
scopes) and the result types other layers consume (`RuleHit`, `Analysis`, `RulePackError`).
Nothing here reads files or matches text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rules.document import SCOPES

if TYPE_CHECKING:
    from rules.condition import Node

CATEGORIES: Final[tuple[str, ...]] = (
    "disease_cure_claim",
    "forbidden_ad_claim",
    "non_drug_as_drug",
    "illegal_additive",
    "banned_online_sale",
    "prescription_without_rx",
    "unlicensed_sale",
    "forged_or_invalid_licence",
    "counterfeit_brand",
    "rogue_pharmacy",
    "off_platform_sale",
    "blacklisted_operator",
)
# Labels for the rule packs' categories (rules/packs/<category>/); an unknown category shows as is.
CATEGORY_ZH: Final[Mapping[str, str]] = {
    "banned_online_sale": "违规网络销售药品",
    "counterfeit_brand": "假冒品牌药品",
    "disease_cure_claim": "宣称治愈疾病",
    "forbidden_ad_claim": "违法广告用语",
    "forged_or_invalid_licence": "伪造或无效资质证书",
    "illegal_additive": "非法添加",
    "non_drug_as_drug": "非药品冒充药品",
    "off_platform_sale": "引导站外交易",
    "blacklisted_operator": "重点监管对象关联",
    "prescription_without_rx": "处方药无处方销售",
    "rogue_pharmacy": "非法网络药店",
    "unlicensed_sale": "无证销售药品",
}
SEVERITIES: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
SEVERITY_RANK: Final[Mapping[str, int]] = {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
#: A finding at or above this severity puts a page on the daily flagged list.
FLAG_THRESHOLD: Final = "medium"
#: The severities at or above FLAG_THRESHOLD: a finding at one of these flags its site ("low" is context only).
FLAGGING_SEVERITIES: Final[tuple[str, ...]] = tuple(
    s for s in SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[FLAG_THRESHOLD]
)
STATUSES: Final[tuple[str, ...]] = ("stable", "test", "experimental", "deprecated")
#: Disease areas a rule may name. A closed list so that a typo is an error, not a silent new area.
DISEASES: Final[tuple[str, ...]] = (
    "diabetes",
    "hypertension",
    "hyperlipidemia",
    "kidney",
    "rheumatism",
    "gout",
    "sexual_dysfunction",
    "cardiovascular",
    "obesity",
    "cancer",
    "mental_health",
    "pain",
    "infection",
    "reproductive",
    "other",
)
#: Keys of a rule file, in the order they must appear (the convention test checks the order).
RULE_KEYS: Final[tuple[str, ...]] = (
    "title",
    "id",
    "version",
    "related",
    "status",
    "description",
    "category",
    "severity",
    "diseases",
    "legal_basis",
    "references",
    "tags",
    "scope",
    "detection",
    "claim_scope",
    "exceptions",
    "falsepositives",
    "tests",
)
REQUIRED_RULE_KEYS: Final[frozenset[str]] = frozenset(
    {
        "title",
        "id",
        "version",
        "status",
        "description",
        "category",
        "severity",
        "diseases",
        "legal_basis",
        "scope",
        "detection",
        "tests",
    }
)
RULE_ID_RE: Final = re.compile(r"^pw-[a-z0-9]+(?:-[a-z0-9]+)*-\d{3}$")
#: Default distance (in normalised characters) within which an exception suppresses a claim.
DEFAULT_EXCEPTION_WITHIN: Final = 30
EXCEPTION_SIDES: Final[tuple[str, ...]] = ("any", "before", "after")

Span = tuple[int, int]

__all__ = [
    "CATEGORIES",
    "CATEGORY_ZH",
    "DISEASES",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "Analysis",
    "ClaimScope",
    "ExceptionSelection",
    "NearSelection",
    "ObfuscatedSelection",
    "Rule",
    "RuleHit",
    "RulePackError",
    "RuleSample",
    "ScopedClaim",
    "SignalSelection",
    "TermSelection",
]


@dataclass(frozen=True)
class TermSelection:
    """Literal terms (matched by the shared automaton) and/or regexes over normalised text."""

    name: str
    terms: tuple[str, ...] = ()
    regex: tuple[re.Pattern[str], ...] = ()
    pinyin: bool = False
    min_distinct: int = 1


@dataclass(frozen=True)
class NearSelection:
    """Both selections `a` and `b` match, close to each other (and/or in one sentence)."""

    name: str
    a: str
    b: str
    within: int | None = None
    same_sentence: bool = False


@dataclass(frozen=True)
class SignalSelection:
    """True when every named page signal equals the expected value (or is in the expected list)."""

    name: str
    expected: Mapping[str, object]


@dataclass(frozen=True)
class ObfuscatedSelection:
    """Names of lexicon `lexicon` written in disguise (v1agra, c-i-a-l-i-s; see `rules.obfuscation`), only
    of the drug `classes` named (empty: any) and only controlled or uncontrolled ones (`controlled`)."""

    name: str
    lexicon: str
    classes: frozenset[str] = frozenset()
    controlled: bool | None = None


Selection = TermSelection | NearSelection | SignalSelection | ObfuscatedSelection


@dataclass(frozen=True)
class ExceptionSelection:
    """Context that suppresses claim matches near it, or the whole rule if it is a signal test.

    A claim match is suppressed when an exception match is within `within` characters (if set) and
    in the same sentence (if `same_sentence`), and lies on `side` of it: "before" (切勿轻信 "根治…"),
    "after" ("根治…" 是骗局) or "any". `applies_to` names the selections it may suppress (empty:
    every selection used positively), so that a question mark can excuse "根治" without also
    erasing the disease word of a question heading.
    """

    selection: TermSelection | SignalSelection
    within: int | None = DEFAULT_EXCEPTION_WITHIN
    same_sentence: bool = False
    side: str = "any"
    applies_to: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClaimScope:
    """Which scopes (see `rules.scope`) take claim matches away from a rule, and from which selections.

    `kinds` is a subset of `rules.scope.SCOPE_KINDS`; `applies_to` names the term/regex selections
    whose matches are claims (empty: every selection used positively). Negation and question apply
    to those only, so that a question about a disease does not erase the disease word a later claim
    needs; reported and warning passages take away every word of the rule in them.
    """

    kinds: frozenset[str]
    applies_to: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ScopedClaim:
    """A claim match a rule did not count because of its scope, and why (for review and tests)."""

    rule_id: str
    selection: str
    #: The claim's span in the original text.
    span: Span
    kind: str
    cue: str
    why: str


@dataclass(frozen=True)
class RuleSample:
    """An embedded example from a rule's `tests` block."""

    text: str
    scope: str | None = None
    signals: Mapping[str, object] = field(default_factory=dict)


@dataclass
class Rule:
    """One validated rule file.

    Public attributes (stable; `pharmwatch rules list` and the web's /-/rules page read them):
    `id`, `version`, `status`, `title_zh`, `title_en`, `description`, `category`, `severity`,
    `diseases`, `legal_basis`, `references`, `tags`, `scope`, `falsepositives`, `path` (the rule
    file) and `sha256` (of the file's bytes, also carried by every finding). The rest is the
    compiled detection logic and the embedded examples (`tests_match`, `tests_no_match`).
    """

    id: str
    version: int
    status: str
    title_zh: str
    title_en: str
    description: str
    category: str
    severity: str
    diseases: list[str]
    legal_basis: list[str]
    references: list[str]
    tags: list[str]
    scope: frozenset[str]
    selections: dict[str, Selection]
    condition_text: str
    condition: Node
    exceptions: dict[str, ExceptionSelection]
    #: None: claim matches are taken as they are (the rule opted out, or its category is not a claim).
    claim_scope: ClaimScope | None
    falsepositives: list[str]
    tests_match: list[RuleSample]
    tests_no_match: list[RuleSample]
    path: Path
    sha256: str
    key_order: list[str] = field(default_factory=list)
    line: int = 1


@dataclass
class RuleHit:
    """One rule that fired on a document, with everything a reviewer needs to judge it."""

    rule_id: str
    rule_version: int
    rule_sha256: str
    title_zh: str
    title_en: str
    category: str
    severity: str
    diseases: list[str]
    legal_basis: list[str]
    spans: list[Span]
    excerpt: str


@dataclass
class Analysis:
    """All findings for one document, the page signals used, and the overall risk."""

    findings: list[RuleHit]
    signals: dict[str, object]
    risk: str
    flagged: bool
    #: Claim matches set aside by their scope (denied, asked, reported, warned against), with the cue.
    scoped: list[ScopedClaim] = field(default_factory=list)


class RulePackError(Exception):
    """A rule pack that cannot be loaded. `errors` lists every problem found, in file order.

    `path`, `line` and `reason` describe the first problem; when there are several, `reason`
    continues with the others, one per line, so `str(err)` always equals
    f"{err.path}:{err.line}: {err.reason}" and shows every problem.
    """

    def __init__(self, path: Path | str, line: int, reason: str, errors: list[RulePackError] | None = None):
        self.path = Path(path)
        self.line = line
        self.errors: list[RulePackError] = errors if errors else [self]
        if errors and len(errors) > 1:
            reason = reason + "\n" + "\n".join(str(e) for e in errors[1:])
        self.reason = reason
        super().__init__(f"{self.path}:{self.line}: {self.reason}")

    @classmethod
    def collect(cls, errors: list[RulePackError]) -> RulePackError:
        first = errors[0]
        return cls(first.path, first.line, first.reason, errors=list(errors))
