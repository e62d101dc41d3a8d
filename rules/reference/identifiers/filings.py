"""Website filings: ICP filings and licences (incl. B1/B2 telecom licences) and public-security
filings (公网安备 and its older local forms), domain.md §1.8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from rules.reference.identifiers.identifier import COLON as _COLON
from rules.reference.identifiers.identifier import DIVISION_CODES, PROVINCE_CODES, Candidate, context_before, verdict
from rules.reference.identifiers.identifier import GAP as _S
from rules.reference.identifiers.identifier import HAO as _HAO
from rules.reference.identifiers.identifier import PROVINCE_CHARS as _P

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


def icp_numbers(text: str) -> Iterator[Candidate]:
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
        status, reason = verdict(problems)
        entity = f"{prefix}ICP备{digits}号"
        parts = {"province": prefix, "entity": entity, "site": suffix or ""}
        normalised = f"{entity}-{suffix}" if suffix else entity
        yield Candidate("icp_filing", m.start(), m.end(), normalised, status, reason, parts, notes)
    for m in _ICP_LICENCE_RE.finditer(text):
        prefix, digits = m.group("p") or "", m.group("digits")
        problems = [] if prefix else ["province missing before ICP证"]
        if len(digits) != 6:
            problems.append(f"{len(digits)} digits, not 6")
        status, reason = verdict(problems)
        yield Candidate(
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
        if not plausible and not context_before(text, m.start(), _TELECOM_CONTEXT_RE, 20):
            continue
        problems = [] if len(digits) == 8 else [f"{len(digits)} digits, not 8"]
        status, reason = verdict(problems)
        yield Candidate(
            "icp_licence", m.start(), m.end(), f"{prefix}{b}-{digits}", status, reason, {"province": prefix, "form": b}
        )


def public_security_filings(text: str) -> Iterator[Candidate]:
    for m in _PSB_RE.finditer(text):
        prefix, digits = m.group("p") or "", m.group("digits")
        problems = []
        legacy = None
        if not prefix:
            problems.append("province missing before 公网安备")
        if len(digits) == 14:
            if digits[:2] not in DIVISION_CODES:
                problems.append(f"{digits[:2]} is not a province code")
            elif prefix and PROVINCE_CODES[prefix] != digits[:2]:
                problems.append(f"division code {digits[:2]} does not belong to {prefix}")
        elif 10 <= len(digits) <= 13:
            legacy = "not the 14-digit national form (an older local filing)"
        else:
            problems.append(f"{len(digits)} digits, not 14")
        status, reason = verdict(problems, legacy)
        yield Candidate(
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
        status, reason = verdict(problems)
        yield Candidate(
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
        yield Candidate(
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
        yield Candidate(
            "psb_filing",
            m.start("digits"),
            m.end("digits"),
            f"公安备案{digits}",
            "legacy",
            "local public-security filing number from before the national 公网安备 system",
            {"province": "", "division": digits[:6]},
        )
