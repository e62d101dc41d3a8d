"""Building a package: a valid WACZ (by py-wacz's own validator), with a readable Chinese report,
the captures' WARCs byte for byte, an index that finds them, and a custody chain ending in the export."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from cases.evidence import KeyPair, PackageSummary, PageEntry, build_package
from cases.evidence import manifest as m
from cases.evidence.custody import check_custody
from tests.evidence.conftest import CAPTURED_AT, DemoCase, fetch_warc, sha

EXPECTED_MEMBERS = {
    "archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl", "evidence/findings.json",
    "evidence/custody.json", "evidence/signing-key.pub.pem", "report/report.html", "report/report.pdf",
    "datapackage.json", "datapackage-digest.json",
}


def wacz_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wacz", "validate", "--file", str(path)],
                          capture_output=True, text=True, timeout=300)


def test_py_wacz_accepts_the_package(package: PackageSummary) -> None:
    done = wacz_validate(package.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation succeeded" in done.stdout


def test_py_wacz_accepts_the_timestamped_package(stamped: PackageSummary) -> None:
    done = wacz_validate(stamped.path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_layout_and_zip_modes(package: PackageSummary, demo: DemoCase) -> None:
    with zipfile.ZipFile(package.path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    shots = {m.screenshot_member(s) for s in demo.screenshots}
    assert set(infos) == EXPECTED_MEMBERS | shots
    # WACZ: already-compressed members are stored, so a replayer can seek into them.
    assert infos[m.ARCHIVE].compress_type == zipfile.ZIP_STORED
    assert all(infos[s].compress_type == zipfile.ZIP_STORED for s in shots)
    assert package.size == package.path.stat().st_size
    assert package.sha256 == hashlib.sha256(package.path.read_bytes()).hexdigest()
    assert package.warc_records == 9 and package.pages == 3 and package.findings == 2


def test_every_member_but_the_manifests_is_listed_with_its_hash(package: PackageSummary) -> None:
    with zipfile.ZipFile(package.path) as zf:
        datapackage = json.loads(zf.read(m.DATAPACKAGE))
        digest = json.loads(zf.read(m.DIGEST))
        listed = {r["path"]: r for r in datapackage["resources"]}
        assert set(listed) == set(zf.namelist()) - {m.DATAPACKAGE, m.DIGEST}
        for name, entry in listed.items():
            data = zf.read(name)
            assert entry["hash"] == "sha256:" + hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
        assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read(m.DATAPACKAGE)).hexdigest()
    assert datapackage["wacz_version"] == "1.1.1" and datapackage["profile"] == "data-package"
    assert digest["signedData"]["created"] == datapackage["created"]
    assert set(digest["signedData"]) == {"hash", "created", "software", "version", "signature", "publicKey"}


def test_each_capture_warc_is_kept_byte_for_byte(package: PackageSummary, demo: DemoCase) -> None:
    with zipfile.ZipFile(package.path) as zf:
        archive = zf.read(m.ARCHIVE)
        captures = json.loads(zf.read(m.FINDINGS))["captures"]
    assert archive == b"".join(demo.warcs)
    for capture, page in zip(captures, demo.pages, strict=True):
        warc = capture["warc"]
        assert warc["sha256"] == page.warc_sha256
        assert sha(archive[warc["offset"]:warc["offset"] + warc["length"]]) == page.warc_sha256
    assert captures[0]["how"]["user_agent"] == "Mozilla/5.0 (PharmWatch test)"
    assert captures[1]["screenshot"]["member"] == m.screenshot_member(demo.pages[1].screenshot_sha256 or "")


def test_the_index_points_at_each_record(package: PackageSummary) -> None:
    with zipfile.ZipFile(package.path) as zf:
        archive = zf.read(m.ARCHIVE)
        lines = zf.read(m.INDEX).decode().splitlines()
    assert lines == sorted(lines, key=str.encode)
    kinds = []
    for line in lines:
        key, timestamp, block = line.split(" ", 2)
        entry = json.loads(block)
        record = next(iter(ArchiveIterator(io.BytesIO(archive[entry["offset"]:entry["offset"] + entry["length"]]))))
        assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
        assert len(timestamp) == 14 and timestamp.startswith("20260302")
        kinds.append((key, entry["recordType"], entry["mime"]))
    assert ("test,tangan-cure)/", "response", "text/html") in kinds
    assert ("test,tangan-cure)/shop?item=7", "response", "text/html") in kinds
    assert ("urn:pharmwatch:screenshot:http://tangan-cure.test/", "resource", "image/png") in kinds


def test_pages_list_every_capture(package: PackageSummary) -> None:
    with zipfile.ZipFile(package.path) as zf:
        lines = [json.loads(line) for line in zf.read(m.PAGES).decode().splitlines()]
    assert lines[0]["format"] == "json-pages-1.0"
    assert [p["id"] for p in lines[1:]] == ["capture-11", "capture-12", "capture-13"]
    assert lines[1]["ts"] == "2026-03-02T01:30:05.000000Z" and lines[1]["server_ip"] == "203.0.113.7"


def test_the_pdf_report_carries_the_chinese_findings(package: PackageSummary, tmp_path: Path) -> None:
    with zipfile.ZipFile(package.path) as zf:
        (tmp_path / "report.pdf").write_bytes(zf.read(m.REPORT_PDF))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("电子数据证据报告", "宣称根治糖尿病、摆脱胰岛素或限期康复", "处方药无需处方即可购买",
                     "三个疗程根治糖尿病", "广告法 第十六条", "药品管理法 第九十条", "tangan-cure.test",
                     "203.0.113.7", "保管链", "2026-03-02 01:30:05 UTC", "北京时间 2026-03-02 09:30:05"):
        assert expected in text, expected


def test_the_html_report_highlights_matches_and_shows_its_screenshot(package: PackageSummary,
                                                                      demo: DemoCase) -> None:
    with zipfile.ZipFile(package.path) as zf:
        document = zf.read(m.REPORT_HTML).decode()
    assert "<mark>根治糖尿病</mark>，<mark>永不复发</mark>，<mark>告别胰岛素</mark>" in document
    shot = next(iter(demo.screenshots))
    assert f'src="screenshot-{shot}.png"' in document  # beside report.html in report/


def test_custody_chains_the_audit_events_and_ends_with_the_export(package: PackageSummary) -> None:
    with zipfile.ZipFile(package.path) as zf:
        custody = json.loads(zf.read(m.CUSTODY))
        archive_sha = hashlib.sha256(zf.read(m.ARCHIVE)).hexdigest()
    assert check_custody(custody) == []
    events = custody["events"]
    assert [e["action"] for e in events] == ["captured", "captured", "captured", "case_opened", "exported"]
    assert events[0]["audit_hash"] == "1" * 64 and events[0]["audit_id"] == 501
    assert events[0]["at"] == "2026-03-02T01:30:05.000000Z"
    assert events[-1]["actor"] == "supervisor.li" and events[-1]["details"]["archive_sha256"] == archive_sha
    assert all(b["prev"] == a["hash"] for a, b in zip(events, events[1:], strict=False))


def test_page_text_cannot_inject_markup_into_the_report(tmp_path: Path, keys: KeyPair) -> None:
    url = "http://evil.test/"
    warc = fetch_warc(url, b"<html>x</html>")
    summary = build_package(
        tmp_path / "evil.wacz", warcs=[warc],
        pages=[PageEntry(url=url, fetched_at=CAPTURED_AT, title='<img src="http://evil.test/x.png">', capture_id=1,
                         warc_sha256=sha(warc))],
        case={"id": 1, "site": "evil.test"},
        findings=[{"capture_id": 1, "rule_id": "r", "title": "<script>alert(1)</script>", "severity": "high",
                   "category": "x", "excerpt": "<b>根治</b> & 糖尿病", "matches": ["根治"]}],
        custody=[], screenshots={}, keys=keys)
    with zipfile.ZipFile(summary.path) as zf:
        document = zf.read(m.REPORT_HTML).decode()
    assert "<script>" not in document and '<img src="http://evil.test' not in document
    assert "&lt;b&gt;<mark>根治</mark>&lt;/b&gt; &amp; 糖尿病" in document


def test_contradicting_inputs_fail_and_leave_no_file(tmp_path: Path, demo: DemoCase, keys: KeyPair) -> None:
    out = tmp_path / "bad.wacz"
    with pytest.raises(ValueError, match="was not handed in"):
        build_package(out, warcs=demo.warcs[:1], pages=demo.pages, case=demo.case, findings=demo.findings,
                      custody=demo.custody, screenshots=demo.screenshots, keys=keys)
    shot = next(iter(demo.screenshots))
    with pytest.raises(ValueError, match="hash to"):
        build_package(out, warcs=demo.warcs, pages=demo.pages, case=demo.case, findings=demo.findings,
                      custody=demo.custody, screenshots={shot: b"not the screenshot"}, keys=keys)
    with pytest.raises(ValueError, match="not a gzipped WARC"):
        build_package(out, warcs=[gzip.decompress(demo.warcs[0])], pages=[], case=demo.case, findings=[],
                      custody=[], screenshots={}, keys=keys)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupted_capture_stops_the_export(tmp_path: Path, keys: KeyPair) -> None:
    url = "http://x.test/"
    good = fetch_warc(url, b"<html>" + b"a" * 200 + b"</html>")
    iterator = ArchiveIterator(io.BytesIO(good))
    members = []
    for _ in iterator:
        members.append(bytearray(gzip.decompress(good[iterator.get_record_offset():][:iterator.get_record_length()])))
    body = members[1]
    body[body.index(b"a" * 200) + 10] = ord("b")  # the body no longer matches its WARC-Block-Digest
    bad = b"".join(gzip.compress(bytes(member)) for member in members)
    with pytest.raises(ValueError, match="not a readable WARC"):
        build_package(tmp_path / "x.wacz", warcs=[bad], pages=[], case={"id": 1}, findings=[], custody=[],
                      screenshots={}, keys=keys)


def test_warcs_can_be_handed_in_as_files(tmp_path: Path, demo: DemoCase, keys: KeyPair) -> None:
    paths = []
    for number, warc in enumerate(demo.warcs):
        paths.append(tmp_path / f"{number}.warc.gz")
        paths[-1].write_bytes(warc)
    summary = build_package(tmp_path / "out" / "case.wacz", warcs=paths, pages=demo.pages, case=demo.case,
                            findings=demo.findings, custody=demo.custody, screenshots=demo.screenshots, keys=keys)
    with zipfile.ZipFile(summary.path) as zf:
        assert zf.read(m.ARCHIVE) == b"".join(demo.warcs)


def test_every_rule_category_has_a_chinese_label() -> None:
    """The report speaks Chinese: a new rule category must get a label in cases/evidence/report.py."""
    from cases.evidence.report import CATEGORY_ZH

    packs = Path(__file__).resolve().parents[2] / "rules" / "packs"
    categories = {p.parent.name for p in packs.glob("*/*.yaml") if p.parent.name != "deprecated"}
    assert categories and categories <= set(CATEGORY_ZH), sorted(categories - set(CATEGORY_ZH))


def test_a_finding_read_in_an_image_shows_the_image_with_the_matched_line_outlined(
        tmp_path: Path, demo: DemoCase, keys: KeyPair) -> None:
    from PIL import Image

    from demo.ocr_images import SITE

    banner = (SITE / "banner.png").read_bytes()  # the demo shop's banner, as the scan keeps it
    box = [[211, 176], [747, 177], [747, 253], [211, 252]]  # where RapidOCR read 根治高血压永不反弹
    finding = {"id": 103, "capture_id": 11, "rule_id": "pw-zh-hypertension-cure-001", "rule_version": 1,
               "title": "宣称根治高血压", "category": "disease_cure_claim", "severity": "high",
               "legal_basis": ["广告法 第十六条"], "excerpt": "根治高血压永不反弹", "matches": ["根治高血压"],
               "ocr": [{"sha256": sha(banner), "line": 1, "box": box}]}
    summary = build_package(tmp_path / "ocr.wacz", warcs=demo.warcs, pages=demo.pages, case=demo.case,
                            findings=[*demo.findings, finding], custody=demo.custody, screenshots=demo.screenshots,
                            keys=keys, ocr_images={sha(banner): banner})
    with zipfile.ZipFile(summary.path) as zf:
        names = set(zf.namelist())
        original = zf.read(f"report/image-{sha(banner)}.png")
        (outlined_name,) = [n for n in names if n.startswith("report/outlined-")]
        outlined = Image.open(io.BytesIO(zf.read(outlined_name))).convert("RGB")
        document = zf.read(m.REPORT_HTML).decode()
        (tmp_path / "report.pdf").write_bytes(zf.read(m.REPORT_PDF))
        listed = {r["path"] for r in json.loads(zf.read(m.DATAPACKAGE))["resources"]}
    assert original == banner  # the evidence stays the original bytes; the outline is a derived copy
    assert {f"report/image-{sha(banner)}.png", outlined_name} <= listed  # both hashed in the manifest
    assert outlined.size == (960, 300)
    red = (220, 0, 0)
    assert outlined.getpixel((211, 215)) == red and outlined.getpixel((747, 215)) == red  # the box's sides
    assert outlined.getpixel((480, 100)) != red  # the other line is not outlined
    assert f'src="{outlined_name.rsplit("/", 1)[1]}"' in document and "红框" in document
    images = subprocess.run(["pdfimages", "-list", str(tmp_path / "report.pdf")], capture_output=True, text=True,
                            check=True).stdout
    assert any(line.split()[3:5] == ["960", "300"] for line in images.splitlines()[2:])  # the outlined banner
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "红框为匹配文字在图片中的位置" in text
    with pytest.raises(ValueError, match="do not hash"):
        build_package(tmp_path / "bad.wacz", warcs=demo.warcs, pages=demo.pages, case=demo.case, findings=[finding],
                      custody=[], screenshots=demo.screenshots, keys=keys, ocr_images={sha(banner): b"changed"})


def test_a_long_detail_image_is_outlined_in_the_band_around_the_matched_lines() -> None:
    from PIL import Image

    from cases.evidence.report import outlined_rendering
    from demo.ocr_images import SITE

    box = [[100, 2000], [650, 2000], [650, 2060], [100, 2060]]
    band = Image.open(io.BytesIO(outlined_rendering((SITE / "detail-long.png").read_bytes(), [box])))
    assert band.width == 750 and band.height < 1000  # not the whole 750x3000 picture, too small to read in print
