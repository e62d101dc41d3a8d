"""Licences and filings to trade drugs and devices: legacy A/B/C internet trading certificates,
drug-trading licences, device-trading licences and filings, and third-party platform filings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Final

from rules.reference.identifiers.identifier import GAP as _S
from rules.reference.identifiers.identifier import HAO as _HAO
from rules.reference.identifiers.identifier import PROVINCE_CHARS as _P
from rules.reference.identifiers.identifier import PROVINCE_CODES, Candidate, context_before, verdict

# Legacy 互联网药品交易服务资格证书 A/B/C (domain.md §1.2)

_TRADING_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?P<issuer>国|[{_P}]){_S}(?P<cls>[ABCabc]){_S}(?P<digits>\d{{7,8}})(?!\d){_HAO}"
)
# The certificate's name as real footers write it: 互联网药品交易服务资格证书, 互联网药品交易资格证书 (百姓平安,
# 1药网, 药易购), 互联网交易资格证 (健客), 互联网药品交易服务证 (仁和药房网), 互联网药品交易服务编号 (meta).
_TRADING_CONTEXT_RE: Final = re.compile(r"交易服务|交易资格|交易证|资格证|交易许可")
_TRADING_LEGACY: Final = "A/B/C internet drug-trading certificates were abolished in 2017 (国发〔2017〕7号, 46号)"


def legacy_trading_certificates(text: str) -> Iterator[Candidate]:
    for m in _TRADING_RE.finditer(text):
        issuer, cls, digits = m.group("issuer"), m.group("cls").upper(), m.group("digits")
        year = int(digits[:4])
        problems: list[str] = []
        notes: list[str] = [] if m.group("cls").isupper() else ["class letter in lower case"]
        if not 2004 <= year <= 2018:
            if not context_before(text, m.start(), _TRADING_CONTEXT_RE, 30):
                continue
            problems.append(f"implausible year {year} (certificates were issued 2005–2017)")
        if cls == "A" and issuer != "国":
            problems.append("class A certificates were issued nationally (国A…), not by a province")
        if cls != "A" and issuer == "国":
            problems.append(f"class {cls} certificates were issued by a province, not nationally")
        if len(digits) == 7:
            notes.append("7 digits: a 3-digit serial or a digit missing")
        status, reason = verdict(problems, _TRADING_LEGACY)
        parts = {"issuer": issuer, "class": cls, "year": digits[:4], "serial": digits[4:]}
        yield Candidate(
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


def drug_trading_licences(text: str) -> Iterator[Candidate]:
    for m in _DRUG_TRADING_RE.finditer(text):
        province, cls, digits, branch = m.group("p"), m.group("cls"), m.group("digits"), m.group("branch")
        regular = cls[0] in "ABCD" and cls[1] in "AB"
        if not (regular and m.group(0).isalnum()) and not context_before(
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
        status, reason = verdict(problems)
        normalised = f"{province}{cls}{digits}" + (f"-{branch}" if branch else "")
        yield Candidate("drug_trading_licence", m.start(), m.end(), normalised, status, reason, parts, notes)


# ---------------------------------------------------------------------------------------------------
# 医疗器械经营许可证 / 第二类医疗器械经营备案凭证: 粤穗食药监械经营许20171161号 (阿里健康 footer),
# 粤穗药监械经营备20221234号 — province, city, (食)药监械经营 许 (licence, class III) or 备 (class II filing).

_DEVICE_TRADING_RE: Final = re.compile(
    rf"(?P<p>[{_P}])(?P<city>[\u4e00-\u9fff]{{0,2}}?){_S}(?P<food>食)?{_S}药{_S}监{_S}械{_S}经{_S}营{_S}(?P<t>许|备){_S}"
    rf"(?P<digits>\d{{6,10}})(?!\d){_HAO}"
)


def device_trading_licences(text: str) -> Iterator[Candidate]:
    for m in _DEVICE_TRADING_RE.finditer(text):
        province, city, kind_char, digits = m.group("p"), m.group("city"), m.group("t"), m.group("digits")
        problems = [] if len(digits) == 8 else [f"{len(digits)} digits, not 8 (year and serial)"]
        if len(digits) == 8 and not 2000 <= int(digits[:4]) <= date.today().year + 1:
            problems.append(f"implausible year {digits[:4]}")
        status, reason = verdict(problems)
        parts = {"province": province, "city": city, "type": "licence" if kind_char == "许" else "filing",
                 "year": digits[:4], "serial": digits[4:]}
        normalised = f"{province}{city}{m.group('food') or ''}药监械经营{kind_char}{digits}号"
        yield Candidate("device_trading_licence", m.start(), m.end(), normalised, status, reason, parts)


# ---------------------------------------------------------------------------------------------------
# Third-party platform filings: （浙）网械平台备字[2018]第00004号 (online device sales), 浙网食A33010002
# (online food sales). Both seen in the Tmall footer (domain.md §1.7).

_DEVICE_PLATFORM_RE: Final = re.compile(
    rf"\({_S}(?P<p>[{_P}]){_S}\){_S}网{_S}械{_S}平{_S}台{_S}备{_S}字{_S}\(?{_S}(?P<year>\d{{4}}){_S}\)?{_S}"
    rf"第?{_S}(?P<serial>[\dO]{{3,6}})(?![\dO]){_HAO}"
)
_FOOD_PLATFORM_RE: Final = re.compile(rf"(?P<p>[{_P}]){_S}网{_S}食{_S}(?P<cls>[A-Z]){_S}(?P<digits>\d{{8}})(?!\d)")


def platform_filings(text: str) -> Iterator[Candidate]:
    for m in _DEVICE_PLATFORM_RE.finditer(text):
        province, year, serial = m.group("p"), m.group("year"), m.group("serial")
        problems = [] if len(serial) == 5 else [f"serial {serial} has {len(serial)} digits, not 5"]
        if "O" in serial:
            problems.append("letter O among the digits")  # （京）网械平台备字(2018）第OO005号, seen in a real footer
        status, reason = verdict(problems)
        parts = {"province": province, "type": "device", "year": year, "serial": serial}
        normalised = f"（{province}）网械平台备字[{year}]第{serial}号"
        yield Candidate("platform_filing", m.start(), m.end(), normalised, status, reason, parts)
    for m in _FOOD_PLATFORM_RE.finditer(text):
        province, cls, digits = m.group("p"), m.group("cls"), m.group("digits")
        problems = []
        if digits[:2] != PROVINCE_CODES[province]:
            problems.append(f"division code {digits[:2]} does not belong to {province}")
        status, reason = verdict(problems)
        parts = {"province": province, "type": "food", "class": cls, "division": digits[:6]}
        yield Candidate("platform_filing", m.start(), m.end(), f"{province}网食{cls}{digits}", status, reason, parts)
