"""The lower layers' English in the zh-CN UI: tip check outcomes, the reasons an authority is suggested, and
refusals reach the pages translated through the catalogue (`web.messages`), while the API keeps the English.

The texts are made by the real `cases/` functions on the web tests' world, then the main pages are read in
zh-CN and searched for any English sentence outside code and crawled content."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cases.lifecycle import act
from cases.referrals import create_referral, suggest_authorities
from cases.tips import add_tip, mark_tips_scanned, tip_outcome
from storage import db
from storage.models import ScanRun, Tip
from tests.web.world import World
from web.i18n import translations
from web.messages import TEMPLATES, localise

# Four English words in a row, one of them a word only sentences have: a sentence nobody translated (user
# names in a row are not one).
_RUN = re.compile(r"[A-Za-z][a-z']+(?:[ ,:;()-]+[A-Za-z][a-z']+){3,}")
_GLUE = frozenset("a an the is are was be it its to of or and not no only with by from for needs has first".split())


def english_sentences(text: str) -> list[str]:
    return [run for run in _RUN.findall(text) if _GLUE & set(re.findall(r"[a-z']+", run.lower()))]


def visible_text(page: str) -> str:
    """What a reader sees of the page's main part: no tags, code, command lines or preformatted output, and
    not the audit log's details (the record as stored, like a capture's text)."""
    main = page.split("<main>", 1)[1]
    main = re.sub(r'<td class="url">.*?</td>', " ", main, flags=re.DOTALL)
    main = re.sub(r"<(code|pre|script)\b.*?</\1>", " ", main, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", main))


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_has_a_chinese_translation_with_the_same_holes(template: str) -> None:
    translated = translations("zh").gettext(template)
    assert translated != template
    assert set(re.findall(r"\{(\w+)\}", translated)) == set(re.findall(r"\{(\w+)\}", template))


ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for folder in ("cases", "web", "pharmwatch", "storage") for path in (ROOT / folder).rglob("*.py")
           if path.name != "messages.py"]


def test_every_template_is_still_made_by_some_source() -> None:
    """A message changed in `cases/` (or elsewhere) would silently be shown in English again: each template's
    longest literal part (its first 25 characters; longer strings are split over lines) must be in the code."""
    code = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)
    for template in TEMPLATES:
        longest = max(re.split(r"\{\w+\}", template.removeprefix("url: ")), key=len).strip("' ")
        assert longest[:25] in code, template


def test_texts_of_no_template_and_english_readers_get_the_text_as_it_is() -> None:
    assert localise("net::ERR_NAME_NOT_RESOLVED", "zh") == "net::ERR_NAME_NOT_RESOLVED"
    assert localise("HTTP 200, risk high", "en") == "HTTP 200, risk high"
    assert localise("HTTP 200, risk high", "zh") == "HTTP 200，风险高"
    # A refusal inside a refusal: the number is not taken for the inner message.
    assert localise("tip 3 recorded, not checked: 3 checks are running already: try again when one has finished",
                    "zh") == "线索 3 已记录，但未核查：已有 3 项核查正在运行：请待其中一项完成后再试"
    # The most literal template wins: "an entry" is not an action.
    assert localise("an entry needs a reason (--reason)", "zh") == "列入黑名单需要填写理由"


@pytest.fixture
def scanned_tip(world: World) -> int:
    """A tip of tangan-cure.test's page, crawled by the world's scan (outcome "HTTP 200, risk ...")."""
    with db.transaction(world.sessions) as session:
        tip, _ = add_tip(session, "http://tangan-cure.test/", source="12315", submitted_by="mona")
        run_id = session.scalar(select(ScanRun.id))
        mark_tips_scanned(session, run_id, [tip.id])
        return tip.id


def test_what_the_cases_layer_says_is_recognised(world: World, scanned_tip: int) -> None:
    with db.transaction(world.sessions) as session:
        outcome = tip_outcome(session, session.get_one(Tip, scanned_tip))
        reasons = [s.why for case_id in (world.case_id, world.hostile_case_id)
                   for s in suggest_authorities(session, case_id)]
    assert outcome and outcome.startswith("HTTP 200")
    for text in [outcome, *reasons]:
        assert english_sentences(localise(text, "zh")) == [], text


def test_the_main_pages_in_zh_cn_carry_no_english_sentence_from_the_lower_layers(
        world: World, scanned_tip: int, signed_in: Callable[[str], TestClient]) -> None:
    with db.transaction(world.sessions) as session:  # a referral made as the supervisor makes one
        for action in ("review", "confirm"):
            act(session, world.case_id, action, actor="sam")
        referral = create_referral(session, world.case_id, actor="sam")
        why = referral.why
    sam = signed_in("sam")
    pages = ["/daily", f"/daily?date={world.day}", "/cases", f"/cases/{world.case_id}",
             f"/cases/{world.hostile_case_id}", "/dashboard", "/networks", f"/networks/{world.network_id}",
             "/referrals", f"/referrals/{referral.id}", f"/referrals/{world.referral_id}", "/blacklist", "/tips",
             "/scans", "/orders", "/ads", "/audit", "/account"]
    seen = {path: sam.get(path) for path in pages}
    # Refusals of the lower layers and of the web itself, as a page shows them.
    refusals = {
        "referring an open case": sam.post(f"/cases/{world.hostile_case_id}/referral", data={"authority": "police"}),
        "confirming an open case": sam.post(f"/cases/{world.hostile_case_id}/confirm"),
        "a tip that is no URL": sam.post("/tips", data={"url": "ftp://shop.example.com/"}),
        "a tip with spaces": sam.post("/tips", data={"url": "看这个 http://shop.example.com/"}),
        "a blacklist entry without reason": sam.post("/blacklist", data={"kind": "site", "value": "x.test",
                                                                          "reason": ""}),
        "checking a tip checked already": sam.post(f"/tips/{scanned_tip}/check"),
        "no such tip": sam.post("/tips/999/check"),
        "evidence without the command": sam.post(f"/cases/{world.case_id}/evidence"),
        "a monitor's page refused": signed_in("mona").get("/audit"),
    }
    for what, response in [*seen.items(), *refusals.items()]:
        assert '<html lang="zh-CN">' in response.text, what
        english = english_sentences(visible_text(response.text))
        assert english == [], (what, response.status_code, english)
    referral_page = seen[f"/referrals/{referral.id}"].text
    assert why == "a domestic site selling or advertising drugs unlawfully: close it"
    assert "境内网站违法销售或宣传药品：应予关停" in referral_page and why not in referral_page
    assert "HTTP 200，风险" in seen["/tips"].text
    for response in refusals.values():
        assert response.status_code >= 400


def test_the_api_keeps_the_english(world: World, signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("sam").post(f"/api/cases/{world.case_id}/referral", json={"authority": "police"})
    assert response.status_code == 409
    assert response.json()["error"] == f"case {world.case_id} is open: only a confirmed case is referred"
