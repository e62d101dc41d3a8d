"""`/captures/{id}/images/{sha256}`: an image OCR read in a capture, as kept or with a finding's lines outlined."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

from demo.ocr_images import SITE
from storage.blobs import BlobStore
from storage.models import Capture, Finding
from tests.web.world import World

BOX = [[211, 176], [747, 177], [747, 253], [211, 252]]  # where RapidOCR reads 根治高血压永不反弹 in the banner


def _read_in_banner(world: World) -> tuple[int, int, str]:
    """The plain case's capture as a scan with OCR stores it: the banner kept, its finding read in it."""
    banner = (SITE / "banner.png").read_bytes()
    sha = BlobStore(world.blob_dir).put(banner, ".img")
    with world.sessions() as session, session.begin():
        finding = session.query(Finding).filter(Finding.rule_id == "pw-tangan-cure.test").one()
        capture = session.get_one(Capture, finding.capture_id)
        capture.ocr = [{"image": "http://tangan-cure.test/banner.png", "sha256": sha, "engine": "rapidocr",
                        "seconds": 1.0, "lines": [{"text": "根治高血压永不反弹", "confidence": 0.99, "box": BOX}]}]
        finding.ocr = [{"sha256": sha, "line": 0, "box": BOX}]
        return capture.id, finding.id, sha


def test_an_image_read_in_a_capture_is_served_as_kept_or_outlined_for_a_finding(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    capture_id, finding_id, sha = _read_in_banner(world)
    client = signed_in("mona")
    original = client.get(f"/captures/{capture_id}/images/{sha}")
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert hashlib.sha256(original.content).hexdigest() == sha
    assert original.headers["x-content-type-options"] == "nosniff"
    outlined = client.get(f"/captures/{capture_id}/images/{sha}?finding={finding_id}")
    assert outlined.status_code == 200
    assert Image.open(io.BytesIO(outlined.content)).convert("RGB").getpixel((211, 215)) == (220, 0, 0)
    # Nothing else is served through it: another capture's id, an unknown hash, a finding of another capture.
    assert client.get(f"/captures/{world.capture_id}/images/{sha}").status_code == 404
    assert client.get(f"/captures/{capture_id}/images/{'0' * 64}").status_code == 404
    with world.sessions() as session:
        other = session.query(Finding).filter(Finding.capture_id == world.capture_id).first()
    assert client.get(f"/captures/{capture_id}/images/{sha}?finding={other.id}").status_code == 404


def test_the_case_page_shows_the_image_a_finding_was_read_in_with_its_lines_outlined(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    capture_id, finding_id, sha = _read_in_banner(world)
    client = signed_in("mona")
    page = client.get(f"/cases/{world.case_id}").text
    assert f'<img src="/captures/{capture_id}/images/{sha}?finding={finding_id}"' in page
    assert f'<a href="/captures/{capture_id}/images/{sha}">' in page  # the original beside it, one click away
    finding = next(f for f in client.get(f"/api/cases/{world.case_id}").json()["data"]["findings"]
                   if f["id"] == finding_id)
    assert finding["ocr_images"] == [sha]
