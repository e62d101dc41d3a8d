"""Lenient extraction of licence, approval, filing numbers and contact leads from page text.

Owns `extract_identifiers()` and `Identifier`. Real footers are irregular (domain.md §1): the text is
NFKC-normalised (full-width brackets, digits and letters become ASCII), dashes and bullets are unified,
a few traditional characters are simplified, and spaces between the parts of a number are tolerated.
Each match is then classified: well_formed (all parts present and plausible; cosmetic irregularities are
listed in `notes`), legacy (a retired format) or malformed (a part missing or implausible), with a reason.
Offsets always point into the text as given, so evidence can highlight the number as the page shows it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
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
_P: Final = "".join(PROVINCE_CODES)
_DIVISION_CODES: Final = frozenset(PROVINCE_CODES.values())

# ---------------------------------------------------------------------------------------------------
# Normalisation with an offset map


# Characters that only hide things (zero-width, BOM, soft hyphen) are dropped; dashes, bullets and
# odd brackets are unified so each regex needs one spelling.
_DASHES: Final = "‐‑‒–—―−﹘﹣－~～•·・‧∙⋅"
_OPEN: Final = "【〔〖［[「『"
_CLOSE: Final = "】〕〗］]」』"
# Traditional forms of the characters that identifiers use (Hong Kong / Taiwan mirrors).
_TRADITIONAL: Final = dict(
    zip(
        "國藥準試證註備衛進廣審視聲號網營經資許醫療滬魯遼蘇贛陝閩貴瓊寧雲晉粵類電話機隴黔滇廠",
        "国药准试证注备卫进广审视声号网营经资许医疗沪鲁辽苏赣陕闽贵琼宁云晋粤类电话机陇黔滇厂",
        strict=True,
    )
)
_CHAR_CACHE: dict[str, str] = {}


def _map_char(ch: str) -> str:
    out = _CHAR_CACHE.get(ch)
    if out is not None:
        return out
    if ch in _DASHES:
        out = "-"
    elif ch in _OPEN:
        out = "("
    elif ch in _CLOSE:
        out = ")"
    elif ch in _TRADITIONAL:
        out = _TRADITIONAL[ch]
    elif unicodedata.category(ch) in ("Cf", "Cs") or ch == "\u00ad":
        out = ""
    else:
        out = unicodedata.normalize("NFKC", ch)
        if len(out) == 1 and out in _DASHES:
            out = "-"
        elif any(unicodedata.category(c) in ("Cf", "Cs") for c in out):
            out = ""
        elif out.isspace() and out not in ("\n", "\r", "\t"):
            out = " "
    if len(_CHAR_CACHE) < 100_000:  # bounded: a hostile page may use many distinct code points
        _CHAR_CACHE[ch] = out
    return out


@dataclass(frozen=True)
class _Norm:
    """Normalised text and where each of its characters came from in the original."""

    text: str
    origin: list[int] | None  # origin[i] = original index of norm char i; None = identity

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        if end <= start:
            o = self.origin[start] if start < len(self.origin) else self.origin[-1] if self.origin else 0
            return o, o
        return self.origin[start], self.origin[end - 1] + 1


def _normalise(text: str) -> _Norm:
    table: dict[int, str] = {}
    identity_lengths = True
    for ch in set(text):
        mapped = _map_char(ch)
        if mapped != ch:
            table[ord(ch)] = mapped
            if len(mapped) != 1:
                identity_lengths = False
    if identity_lengths:
        return _Norm(text.translate(table) if table else text, None)
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        mapped = table.get(ord(ch), ch)
        pieces.append(mapped)
        origin.extend([i] * len(mapped))
    return _Norm("".join(pieces), origin)


# ---------------------------------------------------------------------------------------------------
# The identifier


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
class _Candidate:
    kind: str
    start: int  # normalised offsets
    end: int
    normalised: str
    status: str
    reason: str | None = None
    parts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _verdict(problems: list[str], legacy: str | None = None) -> tuple[str, str | None]:
    if problems:
        return "malformed", "; ".join(problems)
    if legacy:
        return "legacy", legacy
    return "well_formed", None


_S: Final = r"\s{0,3}"  # spaces tolerated between the parts of a number
_HAO: Final = r"(?:\s{0,2}号)?"  # an optional trailing 号, taken only when present
_COLON: Final = r"(?:\s{0,2}[:])?\s{0,3}"


def _context_before(text: str, pos: int, pattern: re.Pattern[str], window: int) -> bool:
    return pattern.search(text, max(0, pos - window), pos) is not None


# ---------------------------------------------------------------------------------------------------
# 互联网药品信息服务资格证书 (domain.md §1.1)

_CERT_RE: Final = re.compile(
    rf"""
    (?:
        \({_S}(?P<icp>[{_P}]?{_S}ICP{_S}[备证]?[^()\n]{{0,24}}?){_S}\)        # an ICP number in the brackets
      | \({_S}(?P<prov1>[{_P}]){_S}\)                                          # (浙)
      | (?<![A-Za-z0-9(])(?P<prov2>[{_P}])(?={_S}[-(])                         # 浙- or 浙(经营性)
      | \({_S}(?P<other>[^\s()\d\-:]{{1,6}}?){_S}\)                             # (无), (浙江)
    )
    {_S}-?{_S}
    (?:\({_S}(?P<type1>非?经营性){_S}\)|(?P<type2>非?经营性))?
    {_S}-?{_S}
    (?P<year>[0-9OXx]{{4}}){_S}-{_S}(?P<serial>[0-9OXx]{{3,4}})(?![0-9A-Za-z])
    """,
    re.VERBOSE,
)
_CERT_CONTEXT_RE: Final = re.compile(r"资[格质]证|信息服务|证书编号|证书号|许可证|药品信息")
_FULL_PROVINCES: Final = {
    "北京": "京", "天津": "津", "上海": "沪", "重庆": "渝", "河北": "冀", "河南": "豫", "云南": "云", "辽宁": "辽",
    "黑龙江": "黑", "湖南": "湘", "安徽": "皖", "山东": "鲁", "新疆": "新", "江苏": "苏", "浙江": "浙", "江西": "赣",
    "湖北": "鄂", "广西": "桂", "甘肃": "甘", "山西": "晋", "内蒙古": "蒙", "陕西": "陕", "吉林": "吉", "福建": "闽",
    "贵州": "贵", "广东": "粤", "青海": "青", "西藏": "藏", "四川": "川", "宁夏": "宁", "海南": "琼",
}  # fmt: skip


def _looks_like_years(year: str, serial: str) -> bool:
    return serial.isdigit() and len(serial) == 4 and 1990 <= int(year) < int(serial) <= 2100


def _certificates(text: str) -> Iterator[_Candidate]:
    for m in _CERT_RE.finditer(text):
        problems: list[str] = []
        notes: list[str] = []
        cert_type = m.group("type1") or m.group("type2")
        year, serial = m.group("year"), m.group("serial")
        has_context = _context_before(text, m.start(), _CERT_CONTEXT_RE, 40)
        province = m.group("prov1") or m.group("prov2")
        if m.group("icp"):
            icp = m.group("icp")
            province = icp.strip()[0] if icp.strip()[:1] in PROVINCE_CODES else ""
            problems.append(f"an ICP number ({icp.strip()}) stands in the brackets where the province belongs")
            if not (cert_type or has_context):
                continue
        elif m.group("other"):
            other = m.group("other")
            if not (cert_type or has_context):
                continue
            province = _FULL_PROVINCES.get(other, "")
            if province:
                notes.append(f"full province name {other} instead of the abbreviation {province}")
            else:
                problems.append(f"{other!r} is not a province abbreviation")
        elif m.group("prov2"):
            if not (cert_type or has_context):
                continue  # a bare "浙-2017-0027" could be anything
            notes.append("province not in brackets")
        elif not (cert_type or has_context) and (not year.isdigit() or _looks_like_years(year, serial)):
            continue  # "(京) 2019-2024" is a span of years
        if m.group("type1"):
            notes.append("brackets around the type word instead of the province")
        if not cert_type:
            problems.append("type word (经营性/非经营性) missing")
        digits = year + serial
        if "X" in digits.upper():
            problems.append("placeholder (XXXX) instead of digits: a template, not a number")
        elif "O" in digits:
            problems.append("letter O among the digits")
        elif not 2000 <= int(year) <= date.today().year + 1:
            problems.append(f"implausible year {year}")
        if len(serial) != 4:
            problems.append(f"serial {serial} has {len(serial)} digits, not 4")
        status, reason = _verdict(problems)
        prov_part = f"（{province}）" if province else "（?）"
        normalised = "-".join(p for p in (prov_part, cert_type or "", year, serial) if p)
        parts = {"province": province, "type": cert_type or "", "year": year, "serial": serial}
        yield _Candidate("info_service_cert", m.start(), m.end(), normalised, status, reason, parts, notes)


# An ICP number given as the certificate's number: "互联网药品交易服务资格证书，证书号：湘ICP备18006584号"
# (临武商城 about page), "互联网药品信息服务资格证书编号：粤ICP备…". The ICP filing is reported as what it is;
# the certificate it stands for is reported too, malformed: a telecom filing is no drug certificate.
_CERT_LABEL_BEFORE_RE: Final = re.compile(
    r"(?:互联网)?(?:药品)?(?P<what>交易|信息)(?:服务)?(?:资格|资质)?(?:证书?|许可证?)"
    r"(?:编号|号码|号)?[\s:,，、(]{0,4}(?:证书)?(?:编号|号码|号)?[\s:(]{0,3}$"
)


def _icp_given_as_certificate(text: str) -> Iterator[_Candidate]:
    for icp in _icp(text):
        label = _CERT_LABEL_BEFORE_RE.search(text, max(0, icp.start - 40), icp.start)
        if label is None or "药品" not in text[max(0, label.start() - 8) : label.end()]:
            continue
        province = icp.parts.get("province", "")
        reason = (f"an ICP number ({icp.normalised}) given as the certificate number: "
                  "an ICP filing is no drug certificate")
        if label.group("what") == "信息":
            parts = {"province": province, "type": "", "year": "", "serial": "", "icp": icp.normalised}
            yield _Candidate("info_service_cert", icp.start, icp.end, icp.normalised, "malformed", reason, parts)
        else:
            parts = {"issuer": province, "class": "", "year": "", "serial": "", "icp": icp.normalised}
            yield _Candidate("trading_cert_legacy", icp.start, icp.end, icp.normalised, "malformed", reason, parts)


# ---------------------------------------------------------------------------------------------------
# Legacy 互联网药品交易服务资格证书 A/B/C (domain.md §1.2)

_TRADING_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?P<issuer>国|[{_P}]){_S}(?P<cls>[ABCabc]){_S}(?P<digits>\d{{7,8}})(?!\d){_HAO}"
)
# The certificate's name as real footers write it: 互联网药品交易服务资格证书, 互联网药品交易资格证书 (百姓平安,
# 1药网, 药易购), 互联网交易资格证 (健客), 互联网药品交易服务证 (仁和药房网), 互联网药品交易服务编号 (meta).
_TRADING_CONTEXT_RE: Final = re.compile(r"交易服务|交易资格|交易证|资格证|交易许可")
_TRADING_LEGACY: Final = "A/B/C internet drug-trading certificates were abolished in 2017 (国发〔2017〕7号, 46号)"


def _trading(text: str) -> Iterator[_Candidate]:
    for m in _TRADING_RE.finditer(text):
        issuer, cls, digits = m.group("issuer"), m.group("cls").upper(), m.group("digits")
        year = int(digits[:4])
        problems: list[str] = []
        notes: list[str] = [] if m.group("cls").isupper() else ["class letter in lower case"]
        if not 2004 <= year <= 2018:
            if not _context_before(text, m.start(), _TRADING_CONTEXT_RE, 30):
                continue
            problems.append(f"implausible year {year} (certificates were issued 2005–2017)")
        if cls == "A" and issuer != "国":
            problems.append("class A certificates were issued nationally (国A…), not by a province")
        if cls != "A" and issuer == "国":
            problems.append(f"class {cls} certificates were issued by a province, not nationally")
        if len(digits) == 7:
            notes.append("7 digits: a 3-digit serial or a digit missing")
        status, reason = _verdict(problems, _TRADING_LEGACY)
        parts = {"issuer": issuer, "class": cls, "year": digits[:4], "serial": digits[4:]}
        yield _Candidate(
            "trading_cert_legacy", m.start(), m.end(), f"{issuer}{cls}{digits}", status, reason, parts, notes
        )


# ---------------------------------------------------------------------------------------------------
# 药品经营许可证 (drug-trading licence): province + two class letters + area code + serial.
# Before 2024: 3-digit area + 4-digit serial (粤BA1710104, seen in a 健客网 header); since 2024
# (药品经营和使用质量监督管理办法, SAMR Order 84): 4-digit area + 5-digit serial (琼AA898000001).
# Class letters: A wholesale, B retail chain head office, C chain store, D single pharmacy; then A for a
# legal person, B for a branch. A branch of a chain may carry "-NNN".

_DRUG_TRADING_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?P<p>[{_P}]){_S}(?P<cls>[A-Z]{{2}}){_S}(?P<digits>\d{{9}}|\d{{7}})(?!\d)"
    rf"(?:{_S}-{_S}(?P<branch>\d{{3}})(?![\d-]))?"
)
_DRUG_TRADING_CONTEXT_RE: Final = re.compile(r"药品经营许可|经营许可证|许可证编号|许可证号|零售药店|药店")


def _drug_trading(text: str) -> Iterator[_Candidate]:
    for m in _DRUG_TRADING_RE.finditer(text):
        province, cls, digits, branch = m.group("p"), m.group("cls"), m.group("digits"), m.group("branch")
        regular = cls[0] in "ABCD" and cls[1] in "AB"
        if not (regular and m.group(0).isalnum()) and not _context_before(
            text, m.start(), _DRUG_TRADING_CONTEXT_RE, 30
        ):
            continue  # unlabelled, it must look exactly like a licence (no spaces, a real class)
        problems = [] if regular else [f"{cls} is no licence class (A-D, then A or B)"]
        notes = []
        if len(digits) == 7:
            notes.append("numbering used before 2024 (3-digit area, 4-digit serial)")
            parts = {"province": province, "class": cls, "area": digits[:3], "serial": digits[3:]}
        else:
            parts = {"province": province, "class": cls, "area": digits[:4], "serial": digits[4:]}
        if branch:
            parts["branch"] = branch
        status, reason = _verdict(problems)
        normalised = f"{province}{cls}{digits}" + (f"-{branch}" if branch else "")
        yield _Candidate("drug_trading_licence", m.start(), m.end(), normalised, status, reason, parts, notes)


# ---------------------------------------------------------------------------------------------------
# 医疗器械经营许可证 / 第二类医疗器械经营备案凭证: 粤穗食药监械经营许20171161号 (阿里健康 footer),
# 粤穗药监械经营备20221234号 — province, city, (食)药监械经营 许 (licence, class III) or 备 (class II filing).

_DEVICE_TRADING_RE: Final = re.compile(
    rf"(?P<p>[{_P}])(?P<city>[\u4e00-\u9fff]{{0,2}}?){_S}(?P<food>食)?{_S}药{_S}监{_S}械{_S}经{_S}营{_S}(?P<t>许|备){_S}"
    rf"(?P<digits>\d{{6,10}})(?!\d){_HAO}"
)


def _device_trading(text: str) -> Iterator[_Candidate]:
    for m in _DEVICE_TRADING_RE.finditer(text):
        province, city, kind_char, digits = m.group("p"), m.group("city"), m.group("t"), m.group("digits")
        problems = [] if len(digits) == 8 else [f"{len(digits)} digits, not 8 (year and serial)"]
        if len(digits) == 8 and not 2000 <= int(digits[:4]) <= date.today().year + 1:
            problems.append(f"implausible year {digits[:4]}")
        status, reason = _verdict(problems)
        parts = {"province": province, "city": city, "type": "licence" if kind_char == "许" else "filing",
                 "year": digits[:4], "serial": digits[4:]}
        normalised = f"{province}{city}{m.group('food') or ''}药监械经营{kind_char}{digits}号"
        yield _Candidate("device_trading_licence", m.start(), m.end(), normalised, status, reason, parts)


# ---------------------------------------------------------------------------------------------------
# Third-party platform filings: （浙）网械平台备字[2018]第00004号 (online device sales), 浙网食A33010002
# (online food sales). Both seen in the Tmall footer (domain.md §1.7).

_DEVICE_PLATFORM_RE: Final = re.compile(
    rf"\({_S}(?P<p>[{_P}]){_S}\){_S}网{_S}械{_S}平{_S}台{_S}备{_S}字{_S}\(?{_S}(?P<year>\d{{4}}){_S}\)?{_S}"
    rf"第?{_S}(?P<serial>[\dO]{{3,6}})(?![\dO]){_HAO}"
)
_FOOD_PLATFORM_RE: Final = re.compile(rf"(?P<p>[{_P}]){_S}网{_S}食{_S}(?P<cls>[A-Z]){_S}(?P<digits>\d{{8}})(?!\d)")


def _platform_filings(text: str) -> Iterator[_Candidate]:
    for m in _DEVICE_PLATFORM_RE.finditer(text):
        province, year, serial = m.group("p"), m.group("year"), m.group("serial")
        problems = [] if len(serial) == 5 else [f"serial {serial} has {len(serial)} digits, not 5"]
        if "O" in serial:
            problems.append("letter O among the digits")  # （京）网械平台备字(2018）第OO005号, seen in a real footer
        status, reason = _verdict(problems)
        parts = {"province": province, "type": "device", "year": year, "serial": serial}
        normalised = f"（{province}）网械平台备字[{year}]第{serial}号"
        yield _Candidate("platform_filing", m.start(), m.end(), normalised, status, reason, parts)
    for m in _FOOD_PLATFORM_RE.finditer(text):
        province, cls, digits = m.group("p"), m.group("cls"), m.group("digits")
        problems = []
        if digits[:2] != PROVINCE_CODES[province]:
            problems.append(f"division code {digits[:2]} does not belong to {province}")
        status, reason = _verdict(problems)
        parts = {"province": province, "type": "food", "class": cls, "division": digits[:6]}
        yield _Candidate("platform_filing", m.start(), m.end(), f"{province}网食{cls}{digits}", status, reason, parts)


# ---------------------------------------------------------------------------------------------------
# Drug approval numbers (domain.md §1.7)

_DRUG_RE: Final = re.compile(
    rf"国{_S}药{_S}(?P<word>准|试|证){_S}字{_COLON}(?P<l1>[A-Za-z])?{_S}(?P<l2>[CJcj](?={_S}\d))?{_S}"
    r"(?P<digits>\d{5,11})(?!\d)"
)
_DRUG_LETTERS: Final = "HZSBTFJ"
_IMPORT_RE: Final = re.compile(
    rf"(?:进口药品注册证|医药产品注册证|进口注册证|注册证号|注册证编号)(?:{_S}(?:号|编号))?{_COLON}"
    rf"(?P<code>(?P<b>B)?{_S}(?P<l>[HZS]){_S}(?P<c>C)?{_S}(?P<digits>\d{{8}}))(?!\d)",
    re.IGNORECASE,
)


def _drugs(text: str) -> Iterator[_Candidate]:
    for m in _DRUG_RE.finditer(text):
        word, digits = m.group("word"), m.group("digits")
        l1 = (m.group("l1") or "").upper()
        l2 = (m.group("l2") or "").upper()
        problems: list[str] = []
        legacy = None
        if not l1:
            problems.append("type letter (H/Z/S/B/T/F/J) missing")
        elif l1 not in _DRUG_LETTERS:
            problems.append(f"{l1} is not a drug type letter (H/Z/S/B/T/F/J)")
        if l2 and l1 not in "HZS":
            problems.append(f"second letter {l2} only follows H, Z or S")
        if len(digits) != 8:
            problems.append(f"{len(digits)} digits, not 8")
        if word == "试":
            legacy = "trial-production number (国药试字), no longer issued"
        elif word == "证":
            legacy = "new-drug certificate number (国药证字), not a marketing approval"
        elif l1 == "B":
            legacy = "国药准字B (保健药品) comes from the 2000s re-registration clean-up"
        status, reason = _verdict(problems, legacy)
        parts = {"word": word, "type": l1, "origin": l2, "digits": digits}
        yield _Candidate("drug_approval", m.start(), m.end(), f"国药{word}字{l1}{l2}{digits}", status, reason, parts)
    for m in _IMPORT_RE.finditer(text):
        b, letter, c = (m.group("b") or "").upper(), m.group("l").upper(), (m.group("c") or "").upper()
        parts = {"word": "进口", "type": letter, "origin": c or "import", "digits": m.group("digits")}
        legacy = "pre-2020 import registration (进口药品注册证/医药产品注册证); renewals carry 国药准字…J/C"
        yield _Candidate(
            "drug_approval",
            m.start("code"),
            m.end("code"),
            f"{b}{letter}{c}{m.group('digits')}",
            "legacy",
            legacy,
            parts,
        )


# ---------------------------------------------------------------------------------------------------
# Health food (保健食品) registrations and filings

_HF_REG_RE: Final = re.compile(
    rf"国{_S}食{_S}健{_S}(?P<word>注|字){_COLON}(?P<l>[A-Za-z])?{_S}(?P<digits>\d{{5,11}})(?!\d)"
)
_HF_FILING_RE: Final = re.compile(rf"食{_S}健{_S}备{_COLON}(?P<l>[A-Za-z])?{_S}(?P<digits>\d{{8,15}})(?!\d){_HAO}")
_HF_MOH_RE: Final = re.compile(
    rf"卫{_S}(?P<jin>进)?{_S}食{_S}健{_S}字{_S}\({_S}(?P<year>\d{{4}}){_S}\){_S}第?{_S}(?P<serial>\d{{3,4}})(?!\d){_HAO}"
)
_HF_BARE_RE: Final = re.compile(r"(?<![A-Za-z0-9])(?P<l>[GJ])(?P<digits>\d{8})(?!\d)")
_HF_BARE_CONTEXT_RE: Final = re.compile(r"保健食品|批准文号|蓝帽")


def _health_foods(text: str) -> Iterator[_Candidate]:
    for m in _HF_REG_RE.finditer(text):
        word, digits, letter = m.group("word"), m.group("digits"), (m.group("l") or "").upper()
        problems = []
        if not letter:
            problems.append("letter G (domestic) or J (imported) missing")
        elif letter not in "GJ":
            problems.append(f"{letter} is not G (domestic) or J (imported)")
        if len(digits) != 8:
            problems.append(f"{len(digits)} digits, not 8")
        legacy = "pre-2016 registration format (国食健字); current registrations are 国食健注" if word == "字" else None
        status, reason = _verdict(problems, legacy)
        parts = {"word": word, "origin": letter, "year": digits[:4], "serial": digits[4:]}
        yield _Candidate("health_food", m.start(), m.end(), f"国食健{word}{letter}{digits}", status, reason, parts)
    for m in _HF_FILING_RE.finditer(text):
        digits, letter = m.group("digits"), (m.group("l") or "").upper()
        problems = []
        if not letter:
            problems.append("letter G (domestic) or J (imported) missing")
        elif letter not in "GJ":
            problems.append(f"{letter} is not G (domestic) or J (imported)")
        if len(digits) != 12:
            problems.append(f"{len(digits)} digits, not 12")
        elif letter == "G" and digits[4:6] not in _DIVISION_CODES:
            problems.append(f"{digits[4:6]} is not a province code")
        elif letter == "J" and digits[4:6] != "00":
            problems.append("imported filings have 00 after the year")
        status, reason = _verdict(problems)
        parts = {"word": "备", "origin": letter, "year": digits[:4], "province_code": digits[4:6], "serial": digits[6:]}
        yield _Candidate("health_food", m.start(), m.end(), f"食健备{letter}{digits}", status, reason, parts)
    for m in _HF_MOH_RE.finditer(text):
        jin, year, serial = m.group("jin") or "", m.group("year"), m.group("serial")
        parts = {"word": "卫", "origin": "J" if jin else "G", "year": year, "serial": serial}
        legacy = "Ministry of Health approval (卫食健字, issued before 2003)"
        yield _Candidate(
            "health_food", m.start(), m.end(), f"卫{jin}食健字（{year}）第{serial}号", "legacy", legacy, parts
        )
    for m in _HF_BARE_RE.finditer(text):
        if not _context_before(text, m.start(), _HF_BARE_CONTEXT_RE, 12):
            continue
        if text[max(0, m.start() - 8) : m.start()].rstrip(" :").endswith(("注", "字", "备")):
            continue  # the prefixed forms above already have it
        letter, digits = m.group("l"), m.group("digits")
        parts = {"word": "", "origin": letter, "year": digits[:4], "serial": digits[4:]}
        yield _Candidate(
            "health_food",
            m.start(),
            m.end(),
            f"{letter}{digits}",
            "malformed",
            "prefix (国食健注/国食健字) missing",
            parts,
        )


# ---------------------------------------------------------------------------------------------------
# Medical devices (医疗器械) registrations and filings

_DEV_REG_RE: Final = re.compile(
    rf"(?P<p>国|[{_P}])?{_S}械{_S}注{_S}(?P<t>准|进|许){_COLON}(?P<digits>\d{{6,14}})(?!\d){_HAO}"
)
_DEV_FILING_RE: Final = re.compile(
    rf"(?P<p>国|[{_P}][\u4e00-\u9fff]?){_S}械{_S}备(?:{_S}案)?{_COLON}(?P<digits>\d{{6,10}})(?!\d){_HAO}"
)
_DEV_OLD_RE: Final = re.compile(
    rf"(?P<p>国|[{_P}][\u4e00-\u9fff]?){_S}(?:食{_S})?药{_S}监{_S}械{_S}\({_S}(?P<t>准|进|许|试){_S}\){_S}字{_S}"
    rf"(?P<year>\d{{4}}){_S}第{_S}(?P<serial>\d{{6,8}})(?!\d){_HAO}"
)


def _devices(text: str) -> Iterator[_Candidate]:
    for m in _DEV_REG_RE.finditer(text):
        prefix, kind_char, digits = m.group("p") or "", m.group("t"), m.group("digits")
        problems = []
        if not prefix:
            problems.append("issuer (国 or province) missing before 械注")
        if len(digits) != 11:
            problems.append(f"{len(digits)} digits, not 11 (year, class, category, serial)")
        else:
            device_class = digits[4]
            if device_class not in "23":
                problems.append(f"class {device_class} devices are filed (械备), not registered")
            elif prefix and prefix != "国" and device_class != "2":
                problems.append("provinces register domestic class II devices only")
            elif prefix == "国" and kind_char == "准" and device_class != "3":
                problems.append("国械注准 is for domestic class III devices")
        if kind_char in "进许" and prefix and prefix != "国":
            problems.append(f"械注{kind_char} (imported) numbers are issued nationally (国)")
        status, reason = _verdict(problems)
        parts = {
            "issuer": prefix,
            "type": kind_char,
            "year": digits[:4],
            "class": digits[4:5],
            "category": digits[5:7],
            "serial": digits[7:],
        }
        yield _Candidate("device", m.start(), m.end(), f"{prefix}械注{kind_char}{digits}", status, reason, parts)
    for m in _DEV_FILING_RE.finditer(text):
        prefix, digits = m.group("p"), m.group("digits")
        problems = [f"{len(digits)} digits, not 8"] if len(digits) != 8 else []
        status, reason = _verdict(problems)
        parts = {"issuer": prefix, "type": "备", "year": digits[:4], "class": "1", "serial": digits[4:]}
        yield _Candidate("device", m.start(), m.end(), f"{prefix}械备{digits}号", status, reason, parts)
    for m in _DEV_OLD_RE.finditer(text):
        prefix, kind_char, year, serial = m.group("p"), m.group("t"), m.group("year"), m.group("serial")
        parts = {"issuer": prefix, "type": kind_char, "year": year, "class": serial[:1], "serial": serial}
        normalised = f"{prefix}食药监械（{kind_char}）字{year}第{serial}号"
        yield _Candidate(
            "device",
            m.start(),
            m.end(),
            normalised,
            "legacy",
            "pre-2014 device registration format (食药监械(准)字)",
            parts,
        )


# ---------------------------------------------------------------------------------------------------
# Ad approval numbers (广审号, domain.md §1.6)

_AD_RE: Final = re.compile(
    rf"(?P<p>国|[{_P}])?{_S}(?P<cat>药|械|食健|特医食|保健食品){_S}广{_S}审{_COLON}"
    rf"(?:\({_S}(?P<media>视|声|文|[\u4e00-\u9fff]){_S}\))?{_S}(?:第{_S})?"
    rf"(?P<digits>\d{{6}}{_S}-{_S}\d{{5}}|\d{{6,12}})(?![\d-]){_HAO}"
)


def _ads(text: str) -> Iterator[_Candidate]:
    for m in _AD_RE.finditer(text):
        prefix, cat, media = m.group("p") or "", m.group("cat"), m.group("media") or ""
        digits = re.sub(r"\s", "", m.group("digits"))
        problems = []
        legacy = None
        parts = {"issuer": prefix, "category": "食健" if cat == "保健食品" else cat, "media": media}
        if not prefix:
            problems.append("issuer (国 or province) missing before the category")
        if not media:
            problems.append("media (视/声/文) missing")
        elif media not in "视声文":
            problems.append(f"media {media} is not 视, 声 or 文")
        if "-" in digits:
            head, serial = digits.split("-")
            parts["serial"] = serial
            try:
                expires = date(2000 + int(head[:2]), int(head[2:4]), int(head[4:6]))
                parts["expires"] = expires.isoformat()
            except ValueError:
                problems.append(f"{head} is not an expiry date (YYMMDD)")
        elif len(digits) == 10:
            legacy = "pre-2020 format (YYYYMM + serial)"
            parts["issued"] = f"{digits[:4]}-{digits[4:6]}"
            parts["serial"] = digits[6:]
        else:
            problems.append(f"{len(digits)} digits: neither YYMMDD-NNNNN nor the older 10-digit form")
        status, reason = _verdict(problems, legacy)
        media_part = f"（{media}）" if media else ""
        normalised = f"{prefix}{parts['category']}广审{media_part}第{digits}号"
        yield _Candidate("ad_approval", m.start(), m.end(), normalised, status, reason, parts)


# ---------------------------------------------------------------------------------------------------
# ICP filing and licence, public-security filing (domain.md §1.8)

_ICP_FILING_RE: Final = re.compile(
    rf"(?P<p>[{_P}])?{_S}ICP{_S}备(?:{_S}案)?(?:{_S}号)?{_COLON}(?P<digits>\d{{5,12}})(?!\d)"
    rf"(?P<hao>{_S}号)?(?:{_S}-{_S}(?P<n>\d{{1,3}})(?!\d)(?P<hao2>{_S}号)?)?",
    re.IGNORECASE,
)
_ICP_LICENCE_RE: Final = re.compile(
    rf"(?P<p>[{_P}])?{_S}ICP{_S}证{_COLON}(?P<digits>\d{{5,8}})(?!\d){_HAO}", re.IGNORECASE
)
# "ICP粤B2-20150066" (1药网 footer): the ICP label may stand right before the province.
_TELECOM_RE: Final = re.compile(
    rf"(?:(?<=ICP)|(?<=icp)|(?<![A-Za-z0-9]))(?P<p>[{_P}])?{_S}(?P<b>B[12]){_S}-{_S}(?P<digits>\d{{6,10}})(?!\d){_HAO}"
)
_TELECOM_CONTEXT_RE: Final = re.compile(r"许可证|电信|经营许可")
_PSB_RE: Final = re.compile(
    rf"(?P<p>[{_P}])?{_S}公{_S}网{_S}安{_S}备(?:{_S}案)?(?:{_S}号)?{_COLON}(?P<digits>\d{{6,18}})(?!\d){_HAO}"
)
_PSB_LABELLED_RE: Final = re.compile(
    rf"公安(?:机关)?(?:联网)?备案(?:号|编号)?{_COLON}(?P<digits>\d{{14}})(?!\d){_HAO}"
)
_PSB_MONITOR_RE: Final = re.compile(
    rf"(?P<city>[\u4e00-\u9fff])?{_S}公{_S}网{_S}监{_S}备{_S}案(?:{_S}证)?{_S}(?:第|号|编号)?{_COLON}(?P<digits>\d{{10,14}})(?!\d){_HAO}"
)
_PSB_OLD_RE: Final = re.compile(
    r"公安(?:局|厅)[\u4e00-\u9fff]{0,8}?备案(?:编号|号)\s{0,3}[:]?\s{0,3}(?P<digits>\d{8,14})(?!\d)"
)


def _icp(text: str) -> Iterator[_Candidate]:
    for m in _ICP_FILING_RE.finditer(text):
        prefix, digits, suffix = m.group("p") or "", m.group("digits"), m.group("n")
        problems = []
        notes = []
        if not prefix:
            problems.append("province missing before ICP备")
        if not 6 <= len(digits) <= 10:
            problems.append(f"{len(digits)} digits")
        if not (m.group("hao") or m.group("hao2")):
            notes.append("号 missing")
        elif m.group("hao2") and not m.group("hao"):
            notes.append("号 after the site suffix")
        status, reason = _verdict(problems)
        entity = f"{prefix}ICP备{digits}号"
        parts = {"province": prefix, "entity": entity, "site": suffix or ""}
        normalised = f"{entity}-{suffix}" if suffix else entity
        yield _Candidate("icp_filing", m.start(), m.end(), normalised, status, reason, parts, notes)
    for m in _ICP_LICENCE_RE.finditer(text):
        prefix, digits = m.group("p") or "", m.group("digits")
        problems = [] if prefix else ["province missing before ICP证"]
        if len(digits) != 6:
            problems.append(f"{len(digits)} digits, not 6")
        status, reason = _verdict(problems)
        yield _Candidate(
            "icp_licence",
            m.start(),
            m.end(),
            f"{prefix}ICP证{digits}号",
            status,
            reason,
            {"province": prefix, "form": "ICP证"},
        )
    for m in _TELECOM_RE.finditer(text):
        prefix, b, digits = m.group("p") or "", m.group("b"), m.group("digits")
        plausible = len(digits) == 8 and digits[:2] in ("19", "20")
        if not plausible and not _context_before(text, m.start(), _TELECOM_CONTEXT_RE, 20):
            continue
        problems = [] if len(digits) == 8 else [f"{len(digits)} digits, not 8"]
        status, reason = _verdict(problems)
        yield _Candidate(
            "icp_licence", m.start(), m.end(), f"{prefix}{b}-{digits}", status, reason, {"province": prefix, "form": b}
        )


def _psb(text: str) -> Iterator[_Candidate]:
    for m in _PSB_RE.finditer(text):
        prefix, digits = m.group("p") or "", m.group("digits")
        problems = []
        legacy = None
        if not prefix:
            problems.append("province missing before 公网安备")
        if len(digits) == 14:
            if digits[:2] not in _DIVISION_CODES:
                problems.append(f"{digits[:2]} is not a province code")
            elif prefix and PROVINCE_CODES[prefix] != digits[:2]:
                problems.append(f"division code {digits[:2]} does not belong to {prefix}")
        elif 10 <= len(digits) <= 13:
            legacy = "not the 14-digit national form (an older local filing)"
        else:
            problems.append(f"{len(digits)} digits, not 14")
        status, reason = _verdict(problems, legacy)
        yield _Candidate(
            "psb_filing",
            m.start(),
            m.end(),
            f"{prefix}公网安备{digits}号",
            status,
            reason,
            {"province": prefix, "division": digits[:6]},
        )
    for m in _PSB_LABELLED_RE.finditer(text):
        digits = m.group("digits")
        division = digits[:2]
        provinces = [p for p, code in PROVINCE_CODES.items() if code == division]
        province = provinces[0] if provinces else ""
        problems = [] if province else [f"{division} is not a province code"]
        status, reason = _verdict(problems)
        yield _Candidate(
            "psb_filing",
            m.start("digits"),
            m.end(),
            f"{province}公网安备{digits}号",
            status,
            reason,
            {"province": province, "division": digits[:6]},
            ["written as 公安备案号; province taken from the division code"],
        )
    for m in _PSB_MONITOR_RE.finditer(text):
        digits, city = m.group("digits"), m.group("city") or ""
        yield _Candidate(
            "psb_filing",
            m.start(),
            m.end(),
            f"{city}公网监备案证第{digits}",
            "legacy",
            "local 公网监备案 (network-monitoring filing) from before the national 公网安备 system",
            {"province": "", "division": digits[:6]},
        )
    for m in _PSB_OLD_RE.finditer(text):
        digits = m.group("digits")
        yield _Candidate(
            "psb_filing",
            m.start("digits"),
            m.end("digits"),
            f"公安备案{digits}",
            "legacy",
            "local public-security filing number from before the national 公网安备 system",
            {"province": "", "division": digits[:6]},
        )


# ---------------------------------------------------------------------------------------------------
# Contact leads: phones, WeChat and QQ ids, e-mail addresses

_MOBILE_RE: Final = re.compile(r"(?<![\d.])(?:(?:\+|00)\s?86[\s-]{0,2})?(?P<m>1[3-9]\d(?:[\s-]?\d{4}){2})(?!\d)")
_LANDLINE_RE: Final = re.compile(
    r"(?<![\d.\-])(?P<body>\(\s?0?\d{2,3}\s?\)[\s-]?\d{3,4}[\s-]?\d{4}|0\d{2,3}[\s-]?\d{3,4}[\s-]?\d{4})(?![\d-])"
)
# 400/800 numbers are grouped every way on real pages: 400-612-3456, 4008-120-102, 400-6989-999, 400 6989 999.
_HOTLINE_RE: Final = re.compile(r"(?<![\d.\-])(?P<p>[48]00)(?P<rest>(?:[\s-]?\d){7})(?![\d-])")
_WECHAT_RE: Final = re.compile(
    r"(?:(?:微|威|薇|徽|维|v)\s?信|微\s?x|(?<![a-z])(?:vx|wx|weixin|wechat|v)(?![a-z])|加\s?(?:v|微))"
    r"(?:\s?(?:号码|号|id))?(?P<sep>\s{0,2}:\s{0,2}|\s{0,2}\(\s{0,2}|\s{1,3})?"
    r"(?P<id>[a-z][a-z0-9_-]{5,19}|\+?\d{5,13})(?![a-z0-9_@-])",
    re.IGNORECASE,
)
# Words that follow a WeChat keyword but are no id (微信(WeChat)公众号, 微信 weixin).
_NOT_WECHAT_IDS: Final = frozenset({"wechat", "weixin", "wechatpay", "wechatid"})
_QQ_RE: Final = re.compile(
    r"(?:(?<![a-z])q\s?q|扣扣|企鹅)(?:\s?(?P<group>群)?(?:号码|号)?)\s{0,2}[:]?\s{0,2}(?P<id>[1-9]\d{4,11})(?!\d)",
    re.IGNORECASE,
)
_EMAIL_RE: Final = re.compile(
    r"(?<![a-z0-9._%+-])(?P<local>[a-z0-9][a-z0-9._%+-]{0,63})\s?(?P<at>@|#|\(at\)| at )\s?"
    r"(?P<domain>[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24})"
    r"(?![a-z0-9-])",
    re.IGNORECASE,
)
_OBFUSCATED_DOMAINS: Final = frozenset(
    {"qq.com", "163.com", "126.com", "gmail.com", "sina.com", "sina.cn", "hotmail.com", "foxmail.com", "outlook.com",
     "yahoo.com", "sohu.com", "aliyun.com", "139.com", "yeah.net", "vip.qq.com", "vip.163.com"}
)  # fmt: skip


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _contacts(text: str) -> Iterator[_Candidate]:
    for m in _EMAIL_RE.finditer(text):
        at = m.group("at").strip().lower()
        domain = m.group("domain").lower()
        notes = []
        if at != "@":
            if domain not in _OBFUSCATED_DOMAINS:
                continue
            notes.append(f"@ written as {at!r}")
        local = m.group("local")
        yield _Candidate(
            "email", m.start(), m.end(), f"{local.lower()}@{domain}", "well_formed", None, {"domain": domain}, notes
        )
    for m in _WECHAT_RE.finditer(text):
        keyword = text[m.start() : m.start("id")].strip().lower()
        ident = m.group("id")
        short = keyword.rstrip(":( 号码id")
        sep = m.group("sep") or ""
        if ident.lower() in _NOT_WECHAT_IDS:
            continue  # "微信(WeChat)": the platform's own name in brackets
        if (short == "v" and ":" not in sep) or (short in ("vx", "wx") and not sep):
            continue  # "v 20230101", "vx123456": too ambiguous for a short latin keyword
        problems = []
        notes = []
        digits = _digits(ident)
        if ident[0].isdigit() or ident.startswith("+"):
            if re.fullmatch(r"(?:86)?1[3-9]\d{9}", digits):
                notes.append("a mobile number used as WeChat id")
                digits = digits[-11:]
            else:
                notes.append("a number (QQ or phone) used as WeChat id")
            normalised = digits
        else:
            normalised = ident.lower()
        status, reason = _verdict(problems)
        yield _Candidate("wechat", m.start(), m.end(), normalised, status, reason, {"id": normalised}, notes)
    for m in _QQ_RE.finditer(text):
        ident = m.group("id")
        parts = {"id": ident, "group": "yes" if m.group("group") else ""}
        yield _Candidate("qq", m.start(), m.end(), ident, "well_formed", None, parts)
    for m in _MOBILE_RE.finditer(text):
        number = _digits(m.group("m"))
        if len(number) != 11:
            continue
        yield _Candidate("phone", m.start(), m.end(), number, "well_formed", None, {"type": "mobile"})
    for m in _HOTLINE_RE.finditer(text):
        rest = _digits(m.group("rest"))
        if len(rest) != 7 or m.group("rest").count(" ") + m.group("rest").count("-") > 2:
            continue
        yield _Candidate(
            "phone",
            m.start(),
            m.end(),
            f"{m.group('p')}-{rest[:3]}-{rest[3:]}",
            "well_formed",
            None,
            {"type": "hotline"},
        )
    for m in _LANDLINE_RE.finditer(text):
        number = _landline(m.group("body"))
        if number:
            yield _Candidate("phone", m.start(), m.end(), number, "well_formed", None, {"type": "landline"})


def _landline(body: str) -> str | None:
    """`0571-88888888` from a matched landline, or None when the digits are no valid number."""
    runs = re.findall(r"\d+", body)
    if body.startswith("(") or (len(runs) >= 2 and runs[0].startswith("0") and len(runs[0]) in (3, 4)):
        area, local = runs[0], "".join(runs[1:])
        if not area.startswith("0"):
            area = "0" + area
    else:
        digits = "".join(runs)
        cut = 3 if digits[1] in "12" else 4
        area, local = digits[:cut], digits[cut:]
    if (area[1] in "12") != (len(area) == 3) or (area[1] == "1" and area != "010"):
        return None  # 010 and 02X are the only three-digit area codes
    if len(local) not in (7, 8) or local[0] in "01":
        return None
    return f"{area}-{local}"


# ---------------------------------------------------------------------------------------------------

_EXTRACTORS: Final[tuple[Callable[[str], Iterator[_Candidate]], ...]] = (
    _certificates,
    _icp_given_as_certificate,
    _ads,
    _drugs,
    _health_foods,
    _devices,
    _trading,
    _drug_trading,
    _device_trading,
    _platform_filings,
    _icp,
    _psb,
    _contacts,
)
_PRIORITY: Final = {kind: i for i, kind in enumerate(KINDS)}
# Pairs allowed to overlap: an ICP number inside the brackets of a malformed certificate number, or
# given as a certificate's number (reported as both).
_NESTING: Final = frozenset({
    ("info_service_cert", "icp_filing"), ("info_service_cert", "icp_licence"),
    ("trading_cert_legacy", "icp_filing"), ("trading_cert_legacy", "icp_licence"),
})
# Quick pre-checks: a family of patterns runs only when its key characters occur at all.
_NEEDS: Final[dict[Callable[[str], Iterator[_Candidate]], re.Pattern[str]]] = {
    _certificates: re.compile(r"[\dXxO]{4}\s{0,3}-"),
    _icp_given_as_certificate: re.compile(r"ICP|icp|Icp|B[12]\s{0,3}-"),
    _ads: re.compile("广"),
    _drugs: re.compile(r"国\s{0,3}药|注册证"),
    _health_foods: re.compile(r"健|G\d|J\d"),
    _devices: re.compile("械"),
    _trading: re.compile(r"[ABCabc]\s{0,3}\d{7}"),
    _drug_trading: re.compile(r"[A-Z]{2}\s{0,3}\d{7}"),
    _device_trading: re.compile("械"),
    _platform_filings: re.compile("网"),
    _icp: re.compile(r"ICP|icp|Icp|B[12]\s{0,3}-"),
    _psb: re.compile("备"),
    _contacts: re.compile(""),  # every page may carry a contact lead
}


def _overlaps(kept: list[_Candidate], cand: _Candidate) -> bool:
    for other in kept:
        if cand.start < other.end and other.start < cand.end:
            if (other.kind, cand.kind) in _NESTING or (cand.kind, other.kind) in _NESTING:
                continue
            return True
    return False


def extract_identifiers(text: str) -> list[Identifier]:
    """Every licence, approval, filing number and contact lead in `text`, in order of position.

    Never raises on any string. Overlapping matches are resolved by kind (see `KINDS`): a number
    inside a longer, more specific one is not reported twice (the 11 digits inside 国械注准… are no
    phone number), except an ICP number written inside a certificate number's brackets.
    """
    if not text:
        return []
    norm = _normalise(text)
    candidates: list[_Candidate] = []
    for extractor in _EXTRACTORS:
        if _NEEDS[extractor].search(norm.text) is None:
            continue
        candidates.extend(extractor(norm.text))
    candidates.sort(key=lambda c: (_PRIORITY[c.kind], c.start, -(c.end - c.start)))
    # Index kept spans by start for the overlap test; lists stay short (a page has few numbers).
    kept: list[_Candidate] = []
    starts: list[int] = []
    for cand in candidates:
        lo = bisect_right(starts, cand.end)
        if _overlaps(kept[:lo], cand):
            continue
        kept.insert(lo, cand)
        starts.insert(lo, cand.start)
    kept.sort(key=lambda c: (c.start, _PRIORITY[c.kind]))
    out: list[Identifier] = []
    for cand in kept:
        start, end = norm.span(cand.start, cand.end)
        raw = text[start:end]
        # Trailing/leading whitespace of the raw span is never part of the number.
        stripped = raw.strip()
        if stripped != raw:
            start += len(raw) - len(raw.lstrip())
            end = start + len(stripped)
            raw = stripped
        out.append(
            Identifier(
                kind=cand.kind,
                raw=raw,
                normalised=cand.normalised,
                start=start,
                end=end,
                status=cand.status,
                reason=cand.reason,
                parts=cand.parts,
                notes=tuple(cand.notes),
            )
        )
    return out


def parse_identifier(value: str, kind: str) -> Identifier | None:
    """The one identifier of `kind` that makes up all of `value` (surrounding spaces ignored), or None.

    Used to validate registry rows: a registry number must be exactly one number of its kind.
    """
    value = value.strip()
    found = [i for i in extract_identifiers(value) if i.kind == kind]
    if len(found) != 1:
        return None
    ident = found[0]
    rest = (value[: ident.start] + value[ident.end :]).strip(" :号")
    return ident if not rest else None
