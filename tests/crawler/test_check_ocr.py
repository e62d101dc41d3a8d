"""`pharmwatch check` reads text in images (issue #20): image files and the pictures saved beside a page,
OCR on by default, `--no-ocr` to skip; the JSON contract gains an `ocr` block per image and findings
say the image and line they were read in."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from demo.manifest import load_manifest
from demo.ocr_images import SITE
from demo.server import DemoWeb
from pharmwatch.cli import cli

pytestmark = pytest.mark.slow  # starts an OCR worker process

SHOP = SITE.parent
PRODUCT = SHOP / "product.html"


def _check(*args: str, home: Path):  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}
    return CliRunner().invoke(cli, ["check", *args, "--json"], env=env, obj={})


def _sha(name: str) -> str:
    return hashlib.sha256((SITE / name).read_bytes()).hexdigest()


def test_the_image_only_shop_is_flagged_for_the_claim_and_wechat_id_in_its_pictures(tmp_path: Path) -> None:
    site = next(s for s in load_manifest() if s.needs_ocr)
    result = _check(str(PRODUCT), home=tmp_path)
    assert result.exit_code == 1, result.output
    (item,) = json.loads(result.stdout)
    assert item["flagged"] and item["risk"] == "high"
    assert set(site.expected_categories) <= {f["category"] for f in item["findings"]}
    cure = next(f for f in item["findings"] if f["rule_id"] == "pw-zh-hypertension-cure-001")
    assert cure["scope"] == "ocr"
    banner = next(o for o in cure["ocr"] if o["sha256"] == _sha("banner.png"))
    assert len(banner["box"]) == 4 and all(len(point) == 2 for point in banner["box"])
    lead = next(f for f in item["findings"] if f["category"] == "off_platform_sale")
    assert lead["scope"] == "ocr" and lead["ocr"]
    wechat = [i["normalised"] for i in item["signals"]["identifiers"] if i["kind"] == "wechat"]
    assert "xmk2026" in wechat
    blocks = {block["image"]: block for block in item["ocr"]}
    assert list(blocks) == ["img/banner.png", "img/product.png", "img/detail-long.png", "img/qr.png"]
    for name, block in blocks.items():
        assert block["sha256"] == _sha(Path(name).name)
        assert block["engine"].startswith("rapidocr ") and block["seconds"] >= 0 and block["lines"]
        assert {"text", "confidence", "box"} == set(block["lines"][0])
    banner_lines = [line["text"] for line in blocks["img/banner.png"]["lines"]]
    assert any(site.evidence_phrase in line for line in banner_lines)
    # The cure claim's offsets point at the image's text in the analysed document.
    start, end = cure["spans"][0]
    assert end > start


def test_no_ocr_finds_nothing_on_the_image_only_page(tmp_path: Path) -> None:
    result = _check(str(PRODUCT), "--no-ocr", home=tmp_path)
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert item["analysed"] and not item["flagged"] and item["findings"] == []
    assert "ocr" not in item  # the contract only gains the key when images were read


def test_an_image_file_is_read_and_said_not_analysed_without_ocr(tmp_path: Path) -> None:
    qr = str(SITE / "qr.png")
    result = _check(qr, home=tmp_path)
    assert result.exit_code == 1, result.output
    (item,) = json.loads(result.stdout)
    assert "off_platform_sale" in {f["category"] for f in item["findings"]}
    assert item["ocr"][0]["image"] == qr and item["ocr"][0]["sha256"] == _sha("qr.png")
    skipped = _check(qr, "--no-ocr", home=tmp_path)
    assert skipped.exit_code == 4
    assert "--no-ocr" in json.loads(skipped.stdout)[0]["not_analysed"]


def test_a_second_check_reads_the_images_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.ocr import OcrReader

    first = _check(str(SITE / "banner.png"), home=tmp_path)
    assert list((tmp_path / "ocr-cache").rglob(f"{_sha('banner.png')}.json"))

    def no_worker(*args: object) -> None:
        raise AssertionError("the second check started an OCR worker")

    monkeypatch.setattr(OcrReader, "_start", no_worker)
    second = _check(str(SITE / "banner.png"), home=tmp_path)
    assert second.stdout == first.stdout  # the same answer, from the cache


def test_images_not_beside_the_page_are_listed_as_skipped_and_the_page_still_read(tmp_path: Path) -> None:
    page = tmp_path / "saved" / "page.html"
    (page.parent / "page_files").mkdir(parents=True)
    shutil.copy(SITE / "qr.png", page.parent / "page_files" / "qr.png")
    (tmp_path / "outside.png").write_bytes((SITE / "banner.png").read_bytes())
    page.write_text('<html><head><title>店铺</title></head><body><p>商品</p>'
                    '<img src="./page_files/qr.png" alt="码"><img src="../outside.png" alt="图">'
                    '<img src="https://cdn.example/remote.png" alt="图"><img src="gone.png" alt="图"></body></html>',
                    encoding="utf-8")
    result = _check(str(page), home=tmp_path / "home")
    (item,) = json.loads(result.stdout)
    blocks = {block["image"]: block for block in item["ocr"]}
    assert blocks["./page_files/qr.png"]["lines"]
    assert blocks["../outside.png"]["skipped"] == "outside the page's folder: not read"
    assert "address on the web" in blocks["https://cdn.example/remote.png"]["skipped"]
    assert blocks["gone.png"]["skipped"] == "not found beside the page"
    assert item["flagged"] and all(f["scope"] in ("ocr", "body", "title") for f in item["findings"])


def test_a_fetched_page_has_its_images_fetched_through_the_address_policy_and_read(
        demo_server: DemoWeb, demo_web: str, tmp_path: Path) -> None:
    env = {"PHARMWATCH_HOME": str(tmp_path), "PHARMWATCH_CONFIG": "", "PHARMWATCH_CRAWL__PROXY": demo_web,
           "PHARMWATCH_CRAWL__ALLOW_PRIVATE": '["127.0.0.0/8"]'}
    before = demo_server.hits("10.0.0.1")
    result = CliRunner().invoke(cli, ["check", "http://xinmai-kang.test/product", "http://hostile.test/js-private",
                                      "--json"], env=env, obj={})
    shop, hostile = json.loads(result.stdout)
    assert shop["flagged"] and {"disease_cure_claim", "off_platform_sale"} <= {f["category"] for f in shop["findings"]}
    assert [block["image"] for block in shop["ocr"]] == [f"http://xinmai-kang.test/img/{name}" for name in
                                                         ("banner.png", "product.png", "detail-long.png", "qr.png")]
    assert shop["ocr"][0]["sha256"] == _sha("banner.png")
    (pixel,) = hostile["ocr"]
    assert pixel["image"] == "http://10.0.0.1/pixel.png" and "private or reserved" in pixel["skipped"]
    assert demo_server.hits("10.0.0.1") == before  # the image at a private address was never asked for
