"""`crawler.ocr_choice`: which pages' images a scan reads, and which images are too small to hold text."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from crawler.extract import extract_document
from crawler.ocr_choice import ImageChoice
from demo.ocr_images import SITE
from demo.server import SITES_DIR
from rules import RuleSet, load_ruleset


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset()


def _analysis(ruleset: RuleSet, domain: str, page: str):  # type: ignore[no-untyped-def]
    html = (SITES_DIR / domain / page).read_text(encoding="utf-8")
    return ruleset.analyse(extract_document(html, f"http://{domain}/")), extract_document(html)


def _noise(width: int, height: int) -> bytes:
    rng = random.Random(7)
    image = Image.new("RGB", (width, height))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(width * height)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_pages_are_read_when_their_text_is_suspicious_or_drug_related(ruleset: RuleSet) -> None:
    choice = ImageChoice()
    flagged, _ = _analysis(ruleset, "jiuzhou-dayaofang.test", "index.html")
    assert choice.why_read(flagged) == "page flagged by its text"
    pharmacy, _ = _analysis(ruleset, "kangjian-pharmacy.test", "otc.html")
    assert (choice.why_read(pharmacy) or "").startswith("page text is drug-related (sells_drugs")
    hospital, document = _analysis(ruleset, "renmin-hospital.test", "guide.html")
    assert choice.why_read(hospital) is None and not choice.little_text(choice.body_chars(document))
    assert choice.why_read(hospital, site_flagged=True) == "another page of the site was flagged in this crawl"


def test_a_page_with_little_text_is_a_candidate_for_being_mostly_images(ruleset: RuleSet) -> None:
    analysis, document = _analysis(ruleset, "xinmai-kang.test", "product.html")
    assert ImageChoice().why_read(analysis) is None  # its text alone says nothing
    assert ImageChoice().little_text(ImageChoice.body_chars(document))
    assert not ImageChoice(mostly_images_text_chars=10).little_text(ImageChoice.body_chars(document))


def test_images_too_small_to_hold_a_line_are_skipped_by_bytes_then_by_pixels() -> None:
    choice = ImageChoice()
    logo = (SITES_DIR / "jiuzhou-dayaofang.test" / "logo.png").read_bytes()  # 48x48, 161 bytes
    assert "161 bytes, under 1024" in (choice.too_small(logo) or "")
    icon = _noise(100, 100)  # large enough a file, but an icon
    assert len(icon) > 1024 and "100x100 pixels" in (choice.too_small(icon) or "")
    strip = _noise(600, 20)  # too low for a line of text
    assert "600x20 pixels" in (choice.too_small(strip) or "")
    for name in ("banner.png", "product.png", "detail-long.png", "qr.png"):
        assert choice.too_small((SITE / name).read_bytes()) is None, name
    assert choice.too_small(b"not an image, but long enough " * 50) is None  # the OCR step says what is wrong
