"""End to end: one `pharmwatch scan` of the whole demo web, with real Chromium, checked
against the verdicts the demo manifest states for every site."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.server import load_manifest
from pharmwatch.cli import DEMO_REGISTRY
from storage.blobs import BlobStore
from storage.db import make_engine, session_factory
from storage.models import Capture, Finding, ScanRun, SearchQueryRun, SerpObservation, Site
from tests.conftest import run_cli
from tests.databases import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def scanned(demo_web: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("pharmwatch-home")
    for csv in sorted(DEMO_REGISTRY.glob("*.csv")):  # as `pharmwatch demo run` does
        imported = run_cli("registry", "import", csv.stem, str(csv), home=home)
        assert imported.returncode == 0, imported.stderr
    scan = run_cli("scan", home=home, proxy=demo_web)
    assert scan.returncode == 0, scan.stdout + scan.stderr
    report = run_cli("report", "daily", "--format", "json", home=home)
    assert report.returncode == 0, report.stderr
    engine = make_engine(database_url(home))
    return {"home": home, "scan": scan, "report": json.loads(report.stdout),
            "session": session_factory(engine)(), "blobs": BlobStore(home / "blobs")}


def _flagged_domains(scanned: dict) -> set[str]:
    return {site["domain"] for site in scanned["report"]["sites"]}


@pytest.mark.parametrize("site", load_manifest(), ids=lambda s: s.domain)
def test_every_demo_site_gets_the_verdict_the_manifest_states(scanned: dict, site) -> None:  # type: ignore[no-untyped-def]
    flagged = _flagged_domains(scanned)
    if site.expected == "flagged":
        assert site.domain in flagged, f"{site.domain} should be flagged\n{scanned['scan'].stdout}"
        entry = next(s for s in scanned["report"]["sites"] if s["domain"] == site.domain)
        missing = set(site.expected_categories) - set(entry["categories"])
        assert not missing, f"{site.domain}: categories {entry['categories']} lack {missing}"
    else:
        assert site.domain not in flagged, f"{site.domain} must not be flagged"


def _site_texts(scanned: dict, domain: str, rendered: bool | None = None) -> list[str]:
    session = scanned["session"]
    query = select(Capture).join(Site).where(Site.domain == domain, Capture.text_sha256.is_not(None))
    if rendered is not None:
        query = query.where(Capture.rendered.is_(rendered))
    return [scanned["blobs"].get(c.text_sha256, ".txt").decode("utf-8") for c in session.scalars(query)]


def test_the_js_shop_claim_is_found_only_after_chromium_runs_its_scripts(scanned: dict) -> None:
    site = next(s for s in load_manifest() if s.domain == "js-shop.test")
    assert any(site.evidence_phrase in text for text in _site_texts(scanned, site.domain, rendered=True))
    assert not any(site.evidence_phrase in text for text in _site_texts(scanned, site.domain, rendered=False))
    session = scanned["session"]
    excerpts = session.scalars(select(Finding.excerpt).join(Site, Finding.site_id == Site.id)
                               .where(Site.domain == site.domain)).all()
    assert excerpts, "the JS shop's rendered claim produced no finding"


def test_the_image_only_shop_is_flagged_from_its_images_with_the_read_excerpt(scanned: dict) -> None:
    # The demo scan reads images (demo/pharmwatch.toml: `ocr = true`): xinmai-kang.test says its cure
    # claim and WeChat id only in pictures, so its findings come from scope `ocr`, with the image and box.
    site = next(s for s in load_manifest() if s.needs_ocr)
    session = scanned["session"]
    product = session.scalars(select(Capture).join(Site).where(Capture.url == site.evidence_url)).one()
    findings = session.scalars(select(Finding).where(Finding.capture_id == product.id)).all()
    from_images = [f for f in findings if f.ocr]
    assert from_images, [f.rule_id for f in findings]
    cure = next(f for f in from_images if site.evidence_phrase in f.excerpt)
    read_in = {entry["sha256"] for entry in cure.ocr}
    read = {block["sha256"] for block in product.ocr if "lines" in block}
    assert read_in <= read and all(len(entry["box"]) == 4 for entry in cure.ocr)
    assert all(scanned["blobs"].verify(sha, ".img") for sha in read_in)  # the images themselves are kept
    assert "wechat:xmk2026" in product.signals["contact_leads"]  # an id read in an image links operators too
    # Pages of other sites are not mostly images and their pictures are flat placeholders: skipped, with why.
    hospital = session.scalars(select(Capture).join(Site).where(Site.domain == "renmin-hospital.test",
                                                                Capture.ocr.is_not(None))).all()
    assert hospital and all("lines" not in block for c in hospital for block in c.ocr)
    assert all(block.get("skipped") for c in hospital for block in c.ocr)


def test_the_gbk_site_claim_is_decoded_correctly(scanned: dict) -> None:
    site = next(s for s in load_manifest() if s.domain == "gbk-yaofang.test")
    assert any(site.evidence_phrase in text for text in _site_texts(scanned, site.domain))


def test_every_site_first_page_has_a_valid_png_screenshot(scanned: dict) -> None:
    session = scanned["session"]
    for site in load_manifest():
        shots = session.scalars(select(Capture.screenshot_sha256).join(Site).where(
            Site.domain == site.domain, Capture.screenshot_sha256.is_not(None))).all()
        assert shots, f"{site.domain}: no screenshot"
        data = scanned["blobs"].get(shots[0], ".png")
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 800 and height >= 300, (site.domain, width, height)
        report_entry = next((s for s in scanned["report"]["sites"] if s["domain"] == site.domain), None)
        if report_entry:
            assert Path(report_entry["screenshot"]).is_file()


def test_search_monitoring_records_ranked_results_ads_and_blocked_queries(scanned: dict) -> None:
    session = scanned["session"]
    run = session.scalars(select(ScanRun)).one()
    assert run.status == "finished"
    assert run.queries > 0 and run.results > 0 and run.ads > 0 and run.pages > 0
    assert run.flagged_sites == len(scanned["report"]["sites"])
    ads = session.scalars(select(SerpObservation).where(SerpObservation.is_ad.is_(True))).all()
    assert all(ad.ad_label for ad in ads)
    assert {o.rank for o in session.scalars(select(SerpObservation))} >= {1, 2, 3}
    blocked = session.scalars(select(SearchQueryRun).where(SearchQueryRun.status == "blocked")).all()
    assert [(b.query, b.reason.endswith("(3 attempts)")) for b in blocked] == [("触发验证", True)]
    recovered = session.scalars(select(SearchQueryRun).where(SearchQueryRun.query == "偶发验证 降糖药")).one()
    assert (recovered.status, recovered.reason) == ("ok", "blocked 1 time(s) before")
    assert "blocked" in scanned["scan"].stdout


def test_findings_carry_rule_version_hash_legal_basis_and_spans(scanned: dict) -> None:
    session = scanned["session"]
    findings = session.scalars(select(Finding)).all()
    assert findings
    for finding in findings:
        assert finding.rule_version >= 1 and len(finding.rule_sha256) == 64
        assert finding.legal_basis and finding.spans and finding.excerpt
        if finding.capture:
            text = scanned["blobs"].get(finding.capture.text_sha256, ".txt").decode("utf-8")
        else:
            ad = session.get_one(SerpObservation, finding.serp_observation_id)
            text = f"{ad.title}\n{ad.snippet}"
        for start, end in finding.spans:
            assert 0 <= start < end <= len(text)


def test_search_ad_copy_is_analysed_as_an_advertisement(scanned: dict) -> None:
    session = scanned["session"]
    ad_findings = session.scalars(select(Finding).where(Finding.serp_observation_id.is_not(None))).all()
    assert ad_findings, "the demo engine's illegal ad copy produced no finding"
    for finding in ad_findings:
        ad = session.get_one(SerpObservation, finding.serp_observation_id)
        assert ad.is_ad and ad.site_id == finding.site_id


def test_every_capture_has_a_warc_and_a_chained_audit_event(scanned: dict) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from storage.audit import verify_chain
    from storage.models import AuditEvent

    session = scanned["session"]
    captures = session.scalars(select(Capture).where(Capture.error.is_(None))).all()
    for capture in captures:
        data = scanned["blobs"].get(capture.warc_sha256, ".warc.gz")
        types = [record.rec_type for record in ArchiveIterator(__import__("io").BytesIO(data))]
        assert types == (["resource", "resource", "metadata"] if capture.rendered
                         else ["request", "response", "metadata"]), capture.url
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "captured")).all()
    assert {e.subject for e in events} >= {f"capture:{c.id}" for c in captures}
    assert verify_chain(session) == []


def test_advertiser_history_shows_queries_texts_landing_sites_and_rules(scanned: dict) -> None:
    result = run_cli("report", "ads", "--format", "json", home=scanned["home"])
    assert result.returncode == 0, result.stderr
    histories = json.loads(result.stdout)
    assert histories and all(h["times_seen"] >= 1 and h["texts"] and h["queries"] for h in histories)
    illegal = [h for h in histories if h["rules_hit"]]
    assert illegal, "some demo ad copy is illegal in itself"
    assert all(h["landing_sites"] for h in illegal)
    assert "kangjian-pharmacy.test" not in {site for h in illegal for site in h["landing_sites"]}


def test_the_daily_list_says_which_flagged_sites_were_reached_through_ads_and_on_which_queries(
        scanned: dict) -> None:
    sites = {s["domain"]: s for s in scanned["report"]["sites"]}
    through_ads = {d for d, s in sites.items() if any(r["is_ad"] for r in s["reached_through"])}
    assert through_ads, "the demo engine's illegal advertisers land on flagged sites"
    for domain in through_ads:
        for sighting in sites[domain]["reached_through"]:
            assert sighting["engine"] == "mock" and sighting["query"] and sighting["rank"] >= 1


def test_the_licensed_pharmacy_licence_is_checked_against_the_registry(scanned: dict) -> None:
    session = scanned["session"]
    first_page = session.scalars(select(Capture).join(Site).where(
        Site.domain == "kangjian-pharmacy.test", Capture.url == "http://kangjian-pharmacy.test/",
        Capture.rendered.is_(False))).one()
    assert first_page.signals["shows_licence"] is True
    assert first_page.signals["licence_valid"] is True
    assert first_page.signals["licence_domain_mismatch"] is False


def test_hosting_country_comes_from_the_address_recorded_at_capture_time(scanned: dict) -> None:
    session = scanned["session"]

    def first_page(domain: str) -> Capture:
        return session.scalars(select(Capture).join(Site).where(
            Site.domain == domain, Capture.url == f"http://{domain}/", Capture.rendered.is_(False))).one()

    abroad, home = first_page("overseas-meds.test"), first_page("kangjian-pharmacy.test")
    assert (abroad.server_ip, abroad.signals["server_country"], abroad.signals["overseas_hosting"]) == \
        ("8.8.8.8", "US", True)
    assert abroad.signals["icp_missing"] is True
    assert (home.signals["server_country"], home.signals["overseas_hosting"]) == ("CN", False)
    rules = session.scalars(select(Finding.rule_id).where(Finding.capture_id == abroad.id)).all()
    assert "pw-zh-overseas-seller-001" in rules


def test_a_supervisor_exports_a_demo_case_that_anyone_can_verify(scanned: dict, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import zipfile

    home = scanned["home"]
    assert run_cli("keys", "init", home=home).returncode == 0
    case_id = json.loads(run_cli("report", "daily", "--format", "json", home=home).stdout)["sites"][0]["case_id"]
    package = tmp_path / "case.wacz"
    exported = run_cli("evidence", "export", "--case", str(case_id), "-o", str(package), home=home)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    names = set(zipfile.ZipFile(package).namelist())
    assert {"archive/data.warc.gz", "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json",
            "report/report.pdf", "report/report.html", "evidence/findings.json", "evidence/custody.json"} <= names

    again = run_cli("evidence", "export", "--case", str(case_id), "-o", str(package), home=home)
    assert again.returncode == 2 and "--force" in again.stderr  # an exported package is never overwritten

    # The receiving office checks the signer against the fingerprint the exporting office published.
    fingerprint = run_cli("keys", "show", home=home).stdout.strip()
    assert fingerprint.startswith("sha256:")
    verified = run_cli("evidence", "verify", str(package), "--fingerprint", fingerprint,
                       home=tmp_path / "elsewhere", config=None)
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stdout
    unchecked = run_cli("evidence", "verify", str(package), home=tmp_path / "elsewhere", config=None)
    assert unchecked.returncode == 3 and unchecked.stdout.startswith("ORIGIN UNCHECKED"), unchecked.stdout
    wacz = shutil.which("wacz") or str(Path(sys.executable).parent / "wacz")
    assert subprocess.run([wacz, "validate", "--file", str(package)], capture_output=True).returncode == 0

    tampered = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "evidence/findings.json":
                data = data.replace(b"high", b"low!", 1)
            target.writestr(item, data)
    rejected = run_cli("evidence", "verify", str(tampered), home=tmp_path / "elsewhere", config=None)
    assert rejected.returncode != 0 and "evidence/findings.json" in rejected.stdout
    audit = session_factory(make_engine(database_url(home)))()
    from storage.models import AuditEvent
    assert audit.scalars(select(AuditEvent).where(AuditEvent.action == "exported")).one()


def export_case_of(scanned: dict, domain: str, package: Path) -> tuple[dict, set[str], str]:
    """Export the case of `domain` from the scanned demo data: (findings.json, member names, report.html)."""
    import zipfile

    home = scanned["home"]
    run_cli("keys", "init", home=home)  # the first caller creates the key; later ones are refused, harmlessly
    case_id = next(s["case_id"] for s in scanned["report"]["sites"] if s["domain"] == domain)
    exported = run_cli("evidence", "export", "--case", str(case_id), "-o", str(package), home=home)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    with zipfile.ZipFile(package) as zf:
        return (json.loads(zf.read("evidence/findings.json")), set(zf.namelist()),
                zf.read("report/report.html").decode("utf-8"))


def test_a_package_carries_the_ads_that_led_to_the_site_and_one_finding_per_fact(scanned: dict, tmp_path: Path) -> None:
    home = scanned["home"]
    package = tmp_path / "rx.wacz"
    findings, names, report = export_case_of(scanned, "rx-pharmacy-online.test", package)
    ads = [entry for entry in findings["search"] if entry["is_ad"]]
    assert ads and all(entry["url"].startswith("http://rx-pharmacy-online.test") for entry in findings["search"])
    assert {entry["result_page"] for entry in findings["search"]} <= names  # the result pages themselves
    assert any(f.get("source") and "广告" in f["source"] for f in findings["findings"])  # findings on the ad copy
    facts = [(f["rule_id"], f["url"], tuple(sorted(f.get("matches") or []))) for f in findings["findings"]]
    assert len(facts) == len(set(facts))  # the plain and the rendered copy state one fact once
    assert any(len(f.get("seen_in") or []) > 1 for f in findings["findings"])
    assert "搜索结果与广告" in report
    verified = run_cli("evidence", "verify", str(package), "--fingerprint",
                       run_cli("keys", "show", home=home).stdout.strip(), home=tmp_path / "x", config=None)
    assert verified.returncode == 0, verified.stdout


def test_a_borrowed_approval_finding_says_what_the_registry_holds(scanned: dict, tmp_path: Path) -> None:
    document, _names, report = export_case_of(scanned, "manlong-shop.test", tmp_path / "manlong.wacz")
    findings = document["findings"]
    borrowed = [f for f in findings if f["rule_id"] == "pw-zh-approval-borrowed-001"]
    assert borrowed, [f["rule_id"] for f in findings]
    facts = borrowed[0]["registry_facts"]
    assert any(fact["verdict"] == "product_mismatch" and fact["product_name"] for fact in facts), facts
    assert all(f.get("rule_description") for f in findings)  # each finding says why its wording matters
    assert "登记的产品与页面产品不符" in report and "登记产品：" in report


def test_the_scan_finds_exactly_the_demo_operator_networks_and_links_no_decoy(scanned: dict) -> None:
    from demo.manifest import load_networks

    expected, decoys = load_networks()
    listed = run_cli("network", "list", "--format", "json", home=scanned["home"])
    assert listed.returncode == 0, listed.stderr
    found = sorted(network["sites"] for network in json.loads(listed.stdout))
    assert found == expected
    assert not {site for sites in found for site in sites} & set(decoys)
    kinds = {link["kind"] for network in json.loads(listed.stdout) for link in json.loads(run_cli(
        "network", "show", str(network["id"]), "--format", "json", home=scanned["home"]).stdout)["links"]}
    # The QR code read from the screenshots; each network's icon (0.4) adds to the strong ties.
    assert kinds == {"wechat", "phone", "baidu_tongji", "la51", "qr", "favicon"}
    from storage.models import Site, SiteIdentifier

    session = scanned["session"]
    def shown(domain: str, kind: str) -> set[str]:
        return set(session.scalars(select(SiteIdentifier.value).join(Site, Site.id == SiteIdentifier.site_id)
                                   .where(Site.domain == domain, SiteIdentifier.kind == kind)))

    # Each decoy pair shares something weak, and stays apart: a template; a shop system's default icon.
    assert shown("jiuzhou-dayaofang.test", "template") & shown("kangle-yaodian.test", "template")
    assert shown("yaoshun-rx.test", "favicon") & shown("manlong-shop.test", "favicon")


def test_the_image_only_shop_s_evidence_report_shows_the_images_with_the_claim_outlined(
        scanned: dict, tmp_path: Path) -> None:
    import zipfile

    site = next(s for s in load_manifest() if s.needs_ocr)
    package = tmp_path / "xinmai.wacz"
    document, names, report = export_case_of(scanned, site.domain, package)
    cure = next(f for f in document["findings"] if f["ocr"] and site.evidence_phrase in f["excerpt"])
    image = {entry["sha256"] for entry in cure["ocr"]}
    with zipfile.ZipFile(package) as zf:
        originals = {n.split("image-", 1)[1].split(".")[0]: zf.read(n) for n in names if "/image-" in n}
    assert image <= set(originals)
    assert all(scanned["blobs"].get(sha, ".img") == data for sha, data in originals.items())  # unchanged bytes
    outlined = [n for n in names if n.startswith("report/outlined-")]
    assert outlined and any(f'src="{n.rsplit("/", 1)[1]}"' in report for n in outlined)
    assert "红框为匹配文字在图片中的位置" in report
    verified = run_cli("evidence", "verify", str(package), home=tmp_path / "elsewhere", config=None)
    assert verified.returncode in (0, 3), verified.stdout  # 3: origin unchecked (no fingerprint given)
