"""`ImageTextPipeline`: with `[crawl] ocr = true` a scan reads the text in captured pages' images (their
fetches pass the address guard like pages); off by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.pipelines.ocr import ImageTextPipeline
from demo.ocr_images import SITE
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, Finding, Site
from tests.conftest import run_cli
from tests.crawler.in_process import project_crawler
from tests.databases import database_url


def test_the_image_step_is_off_by_default() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        ImageTextPipeline.from_crawler(project_crawler())


@pytest.mark.browser
@pytest.mark.slow
def test_a_scan_with_ocr_on_flags_the_shop_whose_claims_are_only_in_images(demo_web: str, tmp_path: Path) -> None:
    config = tmp_path / "pharmwatch.toml"
    config.write_text('watchlist = ["http://xinmai-kang.test/"]\n'
                      '[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nocr = true\n'
                      '[search]\nengines = []\n', encoding="utf-8")
    home = tmp_path / "home"
    scan = run_cli("scan", "--no-tips", home=home, proxy=demo_web, config=config)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    report = json.loads(run_cli("report", "daily", "--format", "json", home=home, config=config).stdout)
    (site,) = [s for s in report["sites"] if s["domain"] == "xinmai-kang.test"]
    assert {"disease_cure_claim", "off_platform_sale"} <= set(site["categories"])
    blobs = BlobStore(home / "blobs")
    with session_factory(make_engine(database_url(home)))() as session:
        product = session.scalars(select(Capture).join(Site).where(Capture.url == "http://xinmai-kang.test/product")
                                  ).one()
        text = blobs.get(product.text_sha256, ".txt").decode("utf-8")
        cure = session.scalars(select(Finding).where(Finding.capture_id == product.id,
                                                     Finding.rule_id == "pw-zh-hypertension-cure-001")).one()
        blocks, read_in = product.ocr, cure.ocr
    assert "根治高血压" in text and "xmk2026" in text  # the stored text is what was analysed, images included
    assert [block["image"] for block in blocks] == [f"http://xinmai-kang.test/img/{name}" for name in
                                                    ("banner.png", "product.png", "detail-long.png", "qr.png")]
    banner = blocks[0]
    assert blobs.verify(banner["sha256"], ".img")  # the image itself is kept as evidence
    assert blobs.get(banner["sha256"], ".img") == (SITE / "banner.png").read_bytes()
    assert any(entry["sha256"] == banner["sha256"] and len(entry["box"]) == 4 for entry in read_in)
    start, end = cure.spans[0]
    assert text[start:end] in "".join(line["text"] for block in blocks for line in block["lines"])
    assert (home / "ocr-cache").is_dir()


def _captures(home: Path, domain: str) -> dict[tuple[str, bool], Capture]:
    with session_factory(make_engine(database_url(home)))() as session:
        query = select(Capture).join(Site).where(Site.domain == domain)
        return {(c.url, c.rendered): c for c in session.scalars(query)}


@pytest.mark.browser
@pytest.mark.slow
def test_a_scan_reads_the_images_of_drug_related_or_mostly_image_pages_only(demo_web: str, tmp_path: Path) -> None:
    from crawler.ocr_choice import PAGE_NOT_CHOSEN
    from crawler.pipelines.ocr import SCREENSHOT

    config = tmp_path / "pharmwatch.toml"
    config.write_text('watchlist = ["http://xinmai-kang.test/", "http://renmin-hospital.test/", '
                      '"http://jiuzhou-dayaofang.test/"]\n'
                      '[crawl]\nallow_private = ["127.0.0.0/8"]\nocr = true\nmax_pages_per_site = 4\n'
                      '[search]\nengines = []\n', encoding="utf-8")
    home = tmp_path / "home"
    scan = run_cli("scan", "--no-tips", home=home, proxy=demo_web, config=config)
    assert scan.returncode == 0, scan.stdout + scan.stderr

    # A hospital's pages have text of their own and nothing drug-related: no image is even fetched.
    hospital = _captures(home, "renmin-hospital.test")[("http://renmin-hospital.test/", False)]
    assert hospital.ocr and all(block == {"image": block["image"], "skipped": PAGE_NOT_CHOSEN}
                                for block in hospital.ocr)

    # A pharmacy flagged by its text has its images read, but a 48x48 logo and flat placeholders are skipped.
    pharmacy = _captures(home, "jiuzhou-dayaofang.test")[("http://jiuzhou-dayaofang.test/", False)]
    logo = next(block for block in pharmacy.ocr if block["image"].endswith("/logo.png"))
    assert "under 1024" in logo["skipped"] and "lines" not in logo

    # The image-only shop's home page is mostly images: its banner is read, and its full-page screenshot.
    shop = _captures(home, "xinmai-kang.test")
    rendered = shop[("http://xinmai-kang.test/", True)]
    screenshot = next(block for block in rendered.ocr if block["image"] == SCREENSHOT)
    assert screenshot["sha256"] == rendered.screenshot_sha256
    assert any("根治高血压" in line["text"] for line in screenshot["lines"])
    assert [block["image"] for block in shop[("http://xinmai-kang.test/", False)].ocr] == [
        "http://xinmai-kang.test/img/banner.png"]  # a plain fetch has no screenshot
