"""Approval numbers of products: drugs (国药准字, import registrations), health food (保健食品),
medical devices (械注/械备) and advertisements (广审号).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Final

from rules.reference.identifiers.identifier import COLON as _COLON
from rules.reference.identifiers.identifier import DIVISION_CODES, Candidate, context_before, verdict
from rules.reference.identifiers.identifier import GAP as _S
from rules.reference.identifiers.identifier import HAO as _HAO
from rules.reference.identifiers.identifier import PROVINCE_CHARS as _P

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


def drug_approvals(text: str) -> Iterator[Candidate]:
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
        status, reason = verdict(problems, legacy)
        parts = {"word": word, "type": l1, "origin": l2, "digits": digits}
        yield Candidate("drug_approval", m.start(), m.end(), f"国药{word}字{l1}{l2}{digits}", status, reason, parts)
    for m in _IMPORT_RE.finditer(text):
        b, letter, c = (m.group("b") or "").upper(), m.group("l").upper(), (m.group("c") or "").upper()
        parts = {"word": "进口", "type": letter, "origin": c or "import", "digits": m.group("digits")}
        legacy = "pre-2020 import registration (进口药品注册证/医药产品注册证); renewals carry 国药准字…J/C"
        yield Candidate(
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


def health_food_numbers(text: str) -> Iterator[Candidate]:
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
        status, reason = verdict(problems, legacy)
        parts = {"word": word, "origin": letter, "year": digits[:4], "serial": digits[4:]}
        yield Candidate("health_food", m.start(), m.end(), f"国食健{word}{letter}{digits}", status, reason, parts)
    for m in _HF_FILING_RE.finditer(text):
        digits, letter = m.group("digits"), (m.group("l") or "").upper()
        problems = []
        if not letter:
            problems.append("letter G (domestic) or J (imported) missing")
        elif letter not in "GJ":
            problems.append(f"{letter} is not G (domestic) or J (imported)")
        if len(digits) != 12:
            problems.append(f"{len(digits)} digits, not 12")
        elif letter == "G" and digits[4:6] not in DIVISION_CODES:
            problems.append(f"{digits[4:6]} is not a province code")
        elif letter == "J" and digits[4:6] != "00":
            problems.append("imported filings have 00 after the year")
        status, reason = verdict(problems)
        parts = {"word": "备", "origin": letter, "year": digits[:4], "province_code": digits[4:6], "serial": digits[6:]}
        yield Candidate("health_food", m.start(), m.end(), f"食健备{letter}{digits}", status, reason, parts)
    for m in _HF_MOH_RE.finditer(text):
        jin, year, serial = m.group("jin") or "", m.group("year"), m.group("serial")
        parts = {"word": "卫", "origin": "J" if jin else "G", "year": year, "serial": serial}
        legacy = "Ministry of Health approval (卫食健字, issued before 2003)"
        yield Candidate(
            "health_food", m.start(), m.end(), f"卫{jin}食健字（{year}）第{serial}号", "legacy", legacy, parts
        )
    for m in _HF_BARE_RE.finditer(text):
        if not context_before(text, m.start(), _HF_BARE_CONTEXT_RE, 12):
            continue
        if text[max(0, m.start() - 8) : m.start()].rstrip(" :").endswith(("注", "字", "备")):
            continue  # the prefixed forms above already have it
        letter, digits = m.group("l"), m.group("digits")
        parts = {"word": "", "origin": letter, "year": digits[:4], "serial": digits[4:]}
        yield Candidate(
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


def device_numbers(text: str) -> Iterator[Candidate]:
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
        status, reason = verdict(problems)
        parts = {
            "issuer": prefix,
            "type": kind_char,
            "year": digits[:4],
            "class": digits[4:5],
            "category": digits[5:7],
            "serial": digits[7:],
        }
        yield Candidate("device", m.start(), m.end(), f"{prefix}械注{kind_char}{digits}", status, reason, parts)
    for m in _DEV_FILING_RE.finditer(text):
        prefix, digits = m.group("p"), m.group("digits")
        problems = [f"{len(digits)} digits, not 8"] if len(digits) != 8 else []
        status, reason = verdict(problems)
        parts = {"issuer": prefix, "type": "备", "year": digits[:4], "class": "1", "serial": digits[4:]}
        yield Candidate("device", m.start(), m.end(), f"{prefix}械备{digits}号", status, reason, parts)
    for m in _DEV_OLD_RE.finditer(text):
        prefix, kind_char, year, serial = m.group("p"), m.group("t"), m.group("year"), m.group("serial")
        parts = {"issuer": prefix, "type": kind_char, "year": year, "class": serial[:1], "serial": serial}
        normalised = f"{prefix}食药监械（{kind_char}）字{year}第{serial}号"
        yield Candidate(
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


def ad_approvals(text: str) -> Iterator[Candidate]:
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
        status, reason = verdict(problems, legacy)
        media_part = f"（{media}）" if media else ""
        normalised = f"{prefix}{parts['category']}广审{media_part}第{digits}号"
        yield Candidate("ad_approval", m.start(), m.end(), normalised, status, reason, parts)
