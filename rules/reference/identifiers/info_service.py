"""互联网药品信息服务资格证书 (internet drug-information service certificates), domain.md §1.1.

Also an ICP number written where a certificate number belongs: reported as a malformed certificate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Final

from rules.reference.identifiers.filings import icp_numbers
from rules.reference.identifiers.identifier import GAP as _S
from rules.reference.identifiers.identifier import PROVINCE_CHARS as _P
from rules.reference.identifiers.identifier import PROVINCE_CODES, Candidate, context_before, verdict

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


def info_service_certificates(text: str) -> Iterator[Candidate]:
    for m in _CERT_RE.finditer(text):
        problems: list[str] = []
        notes: list[str] = []
        cert_type = m.group("type1") or m.group("type2")
        year, serial = m.group("year"), m.group("serial")
        has_context = context_before(text, m.start(), _CERT_CONTEXT_RE, 40)
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
        status, reason = verdict(problems)
        prov_part = f"（{province}）" if province else "（?）"
        normalised = "-".join(p for p in (prov_part, cert_type or "", year, serial) if p)
        parts = {"province": province, "type": cert_type or "", "year": year, "serial": serial}
        yield Candidate("info_service_cert", m.start(), m.end(), normalised, status, reason, parts, notes)


# An ICP number given as the certificate's number: "互联网药品交易服务资格证书，证书号：湘ICP备18006584号"
# (临武商城 about page), "互联网药品信息服务资格证书编号：粤ICP备…". The ICP filing is reported as what it is;
# the certificate it stands for is reported too, malformed: a telecom filing is no drug certificate.
_CERT_LABEL_BEFORE_RE: Final = re.compile(
    r"(?:互联网)?(?:药品)?(?P<what>交易|信息)(?:服务)?(?:资格|资质)?(?:证书?|许可证?)"
    r"(?:编号|号码|号)?[\s:,，、(]{0,4}(?:证书)?(?:编号|号码|号)?[\s:(]{0,3}$"
)


def icp_given_as_certificate(text: str) -> Iterator[Candidate]:
    for icp in icp_numbers(text):
        label = _CERT_LABEL_BEFORE_RE.search(text, max(0, icp.start - 40), icp.start)
        if label is None or "药品" not in text[max(0, label.start() - 8) : label.end()]:
            continue
        province = icp.parts.get("province", "")
        reason = (f"an ICP number ({icp.normalised}) given as the certificate number: "
                  "an ICP filing is no drug certificate")
        if label.group("what") == "信息":
            parts = {"province": province, "type": "", "year": "", "serial": "", "icp": icp.normalised}
            yield Candidate("info_service_cert", icp.start, icp.end, icp.normalised, "malformed", reason, parts)
        else:
            parts = {"issuer": province, "class": "", "year": "", "serial": "", "icp": icp.normalised}
            yield Candidate("trading_cert_legacy", icp.start, icp.end, icp.normalised, "malformed", reason, parts)
