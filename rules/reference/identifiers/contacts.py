"""Contact leads that take a sale off the platform: e-mail addresses, WeChat and QQ ids, phone numbers.

Phones keep the rule engine's normal form (a mobile as its 11 digits, a landline `0755-26543210`, a service
number `400-612-3456`), which blacklist entries and the network index already hold; each phone's E.164
form (`+8675526543210`) is in its parts. Landlines are read as written at home (`0755-2654 3210`,
`(021)6123 4567`) and from abroad (`+86 10 8888 8888`, `+86 (0)21 6123 4567`, `0086-755-26543210`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from rules.reference.identifiers.identifier import Candidate, verdict

# Contact leads: phones, WeChat and QQ ids, e-mail addresses

_MOBILE_RE: Final = re.compile(r"(?<![\d.])(?:(?:\+|00)\s?86[\s-]{0,2})?(?P<m>1[3-9]\d(?:[\s-]?\d{4}){2})(?!\d)")
_LANDLINE_RE: Final = re.compile(
    r"(?<![\d.\-])(?P<body>\(\s?0?\d{2,3}\s?\)[\s-]?\d{3,4}[\s-]?\d{4}|0\d{2,3}[\s-]?\d{3,4}[\s-]?\d{4})(?![\d-])"
)
# A landline written for callers abroad: +86 or 0086, the area code without its 0 (some keep it, or put it
# in brackets), then the local number.
_INTL_LANDLINE_RE: Final = re.compile(
    r"(?<![\d+])(?:\+|00)\s?86[\s-]{0,2}(?:\(\s?0\s?\)\s?|0)?(?P<open>\(\s?)?(?P<area>[1-9]\d{1,2})(?(open)\s?\))"
    r"[\s-]?(?P<local>\d{3,4}[\s-]?\d{4})(?![\d-])"
)
# A number labelled as something else is no phone, whatever its digits (订单号 075526543210).
_NOT_A_PHONE_LABEL: Final = re.compile(
    r"(?:订单|单号|流水号|批号|货号|条码|条形码|编号|证号|文号|注册号|备案号|许可证|代码|序列号|运单|快递)[\s:：#]{0,3}$"
)
# 400/800 numbers are grouped every way on real pages: 400-612-3456, 4008-120-102, 400-6989-999, 400 6989 999.
_HOTLINE_RE: Final = re.compile(r"(?<![\d.\-])(?P<p>[48]00)(?P<rest>(?:[\s-]?\d){7})(?![\d-])")
# ... and after +86 (a separate pattern: an optional prefix before [48]00 makes the scan ten times slower).
_INTL_HOTLINE_RE: Final = re.compile(
    r"(?<![\d+])(?:\+|00)\s?86[\s-]{0,2}(?P<p>[48]00)(?P<rest>(?:[\s-]?\d){7})(?![\d-])"
)
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


def contact_leads(text: str) -> Iterator[Candidate]:
    for m in _EMAIL_RE.finditer(text):
        at = m.group("at").strip().lower()
        domain = m.group("domain").lower()
        notes = []
        if at != "@":
            if domain not in _OBFUSCATED_DOMAINS:
                continue
            notes.append(f"@ written as {at!r}")
        local = m.group("local")
        yield Candidate(
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
        status, reason = verdict(problems)
        yield Candidate("wechat", m.start(), m.end(), normalised, status, reason, {"id": normalised}, notes)
    for m in _QQ_RE.finditer(text):
        ident = m.group("id")
        parts = {"id": ident, "group": "yes" if m.group("group") else ""}
        yield Candidate("qq", m.start(), m.end(), ident, "well_formed", None, parts)
    for m in _MOBILE_RE.finditer(text):
        number = _digits(m.group("m"))
        if len(number) != 11 or _labelled_otherwise(text, m.start()):
            continue
        yield Candidate("phone", m.start(), m.end(), number, "well_formed", None,
                        {"type": "mobile", "e164": f"+86{number}"})
    abroad = list(_INTL_HOTLINE_RE.finditer(text))
    written_abroad = {m.end() for m in abroad}
    for m in [*abroad, *(m for m in _HOTLINE_RE.finditer(text) if m.end() not in written_abroad)]:
        rest = _digits(m.group("rest"))
        if len(rest) != 7 or m.group("rest").count(" ") + m.group("rest").count("-") > 2:
            continue
        if _labelled_otherwise(text, m.start()):
            continue
        yield Candidate(
            "phone",
            m.start(),
            m.end(),
            f"{m.group('p')}-{rest[:3]}-{rest[3:]}",
            "well_formed",
            None,
            {"type": "hotline", "e164": f"+86{m.group('p')}{rest}"},
        )
    for m in _LANDLINE_RE.finditer(text):
        number = _landline(m.group("body"))
        if number and not _labelled_otherwise(text, m.start()):
            yield Candidate("phone", m.start(), m.end(), number, "well_formed", None,
                            {"type": "landline", "e164": _e164(number)})
    for m in _INTL_LANDLINE_RE.finditer(text):
        if m.group("area") in ("400", "800"):
            continue  # a service number after +86: read by the hotline pattern
        number = _landline(f"0{m.group('area')}-{_digits(m.group('local'))}")
        if number:
            yield Candidate("phone", m.start(), m.end(), number, "well_formed", None,
                            {"type": "landline", "e164": _e164(number)})


def _labelled_otherwise(text: str, start: int) -> bool:
    """Whether the digits at `start` follow a label naming them an order, serial or licence number."""
    return _NOT_A_PHONE_LABEL.search(text, max(0, start - 8), start) is not None


def _e164(landline: str) -> str:
    """`+8675526543210` from `0755-26543210`."""
    return "+86" + _digits(landline)[1:]


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
