"""`ImageTextPipeline`: with `[crawl] ocr = true` a scan reads the text in captured pages' images (their
fetches pass the address guard like pages); off by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.pipelines.ocr import ImageTextPipeline
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, Site
from tests.conftest import run_cli
from tests.crawler.in_process import project_crawler


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
    with session_factory(make_engine(f"sqlite:///{home / 'pharmwatch.db'}"))() as session:
        product = session.scalars(select(Capture).join(Site).where(Capture.url == "http://xinmai-kang.test/product")
                                  ).one()
        text = BlobStore(home / "blobs").get(product.text_sha256, ".txt").decode("utf-8")
    assert "根治高血压" in text and "xmk2026" in text  # the stored text is what was analysed, images included
    assert (home / "ocr-cache").is_dir()
