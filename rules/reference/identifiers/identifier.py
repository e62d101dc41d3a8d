"""The `Identifier` record, its kinds and statuses, and what every number family's patterns share.

Province abbreviations and codes, the spaces tolerated between the parts of a number, and the
`Candidate` each family yields before `extract` resolves overlaps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

#: Every identifier kind, in the order overlapping matches are preferred.
KINDS: Final[tuple[str, ...]] = (
    "info_service_cert",
    "ad_approval",
    "drug_approval",
    "health_food",
    "device",
    "trading_cert_legacy",
    "drug_trading_licence",
    "device_trading_licence",
    "platform_filing",
    "icp_licence",
    "icp_filing",
    "psb_filing",
    "email",
    "wechat",
    "qq",
    "phone",
)
#: Kinds held in the reference registries (the rest are only extracted).
REGISTRY_KINDS: Final[tuple[str, ...]] = (
    "info_service_cert",
    "trading_cert_legacy",
    "drug_approval",
    "health_food",
    "device",
    "ad_approval",
)
CONTACT_KINDS: Final = frozenset({"phone", "wechat", "qq", "email"})
STATUSES: Final[tuple[str, ...]] = ("well_formed", "legacy", "malformed")

#: Province abbreviations → administrative division code (first two digits of 公网安备, 食健备G numbers).
#: The alternative abbreviations (黔 滇 陇 蜀 秦) are used in ICP numbers and some certificates.
PROVINCE_CODES: Final[dict[str, str]] = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15", "辽": "21", "吉": "22", "黑": "23",
    "沪": "31", "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36", "鲁": "37", "豫": "41",
    "鄂": "42", "湘": "43", "粤": "44", "桂": "45", "琼": "46", "渝": "50", "川": "51", "蜀": "51",
    "贵": "52", "黔": "52", "云": "53", "滇": "53", "藏": "54", "陕": "61", "秦": "61", "甘": "62",
    "陇": "62", "青": "63", "宁": "64", "新": "65",
}  # fmt: skip
#: The province abbreviations as the body of a regex character class.
PROVINCE_CHARS: Final = "".join(PROVINCE_CODES)
DIVISION_CODES: Final = frozenset(PROVINCE_CODES.values())


@dataclass(frozen=True)
class Identifier:
    """One number or contact lead found in a text.

    `raw` is `text[start:end]` of the text given to `extract_identifiers`; `normalised` is its
    canonical form (the registries' key); `status` is well_formed, legacy or malformed and `reason`
    says why for the latter two. `parts` holds the decoded fields (province, year, serial, type, ...);
    `notes` lists cosmetic irregularities of a well-formed number (misplaced brackets, missing 号).
    """

    kind: str
    raw: str
    normalised: str
    start: int
    end: int
    status: str
    reason: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "raw": self.raw,
            "normalised": self.normalised,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "reason": self.reason,
            "parts": dict(self.parts),
            "notes": list(self.notes),
        }


@dataclass
class Candidate:
    """A match in normalised text, before overlaps are resolved and offsets mapped back."""

    kind: str
    start: int  # normalised offsets
    end: int
    normalised: str
    status: str
    reason: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def verdict(problems: list[str], legacy: str | None = None) -> tuple[str, str | None]:
    """Status and reason: malformed when a part is wrong, legacy when only the format is retired."""
    if problems:
        return "malformed", "; ".join(problems)
    if legacy:
        return "legacy", legacy
    return "well_formed", None


GAP: Final = r"\s{0,3}"  # spaces tolerated between the parts of a number
HAO: Final = r"(?:\s{0,2}号)?"  # an optional trailing 号, taken only when present
COLON: Final = r"(?:\s{0,2}[:])?\s{0,3}"


def context_before(text: str, pos: int, pattern: re.Pattern[str], window: int) -> bool:
    """Does a label (`pattern`) stand in the `window` characters before `pos`?"""
    return pattern.search(text, max(0, pos - window), pos) is not None
