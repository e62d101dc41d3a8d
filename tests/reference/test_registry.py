"""Registry CSV import/export on a real SQLite database: validation, encodings, re-import, the lookup,
the demo CSVs, and migration 0002 on top of 0001."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from cases.registries import import_csv
from crawler.registry_lookup import SqlRegistry
from rules.reference import RegistryLookup, reference_signals
from storage import db
from storage.models import DrugApproval, InfoServiceCertificate
from storage.registry import KIND_SPECS, REGISTRY_KINDS, RegistryImportError, export_csv
from tests.databases import database_url, schema_differences

ROOT = Path(__file__).resolve().parents[2]
DEMO_REGISTRY = ROOT / "demo" / "registry"
REGISTRY_TABLES = {spec.model.__tablename__ for spec in KIND_SPECS.values()}

CERT_HEADER = "number,holder,cert_type,domains,valid_from,valid_to,status\n"
CERT_ROW = (
    "（浙）-经营性-2023-0012,浙江康健大药房连锁有限公司,经营性,kangjian-pharmacy.test,2023-03-01,2028-02-29,valid\n"
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return database_url(tmp_path)


@pytest.fixture
def session(url: str) -> Iterator[Session]:
    db.upgrade(url)
    with db.session_factory(db.make_engine(url))() as s:
        yield s


def write(tmp_path: Path, content: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- migration ----------------------------------------------------------------------------------------


def test_migration_0002_upgrades_a_0001_database_and_keeps_its_rows(url: str) -> None:
    command.upgrade(db.alembic_config(url), "0001")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO site (domain, first_seen, last_seen, risk) "
                                "VALUES ('a.test', '2026-01-01', '2026-01-01', 'none')"))  # fmt: skip
    command.upgrade(db.alembic_config(url), "0002")
    tables = set(inspect(engine).get_table_names())
    assert REGISTRY_TABLES <= tables
    with engine.connect() as connection:
        assert connection.execute(text("SELECT domain FROM site")).scalars().all() == ["a.test"]
    command.downgrade(db.alembic_config(url), "0001")
    assert not REGISTRY_TABLES & set(inspect(db.make_engine(url)).get_table_names())
    assert "site" in set(inspect(db.make_engine(url)).get_table_names())


def test_the_registry_models_match_migration_0002(url: str) -> None:
    db.upgrade(url)
    assert schema_differences(url) == []


# --- import: good files, re-import, export ------------------------------------------------------------


def test_import_then_reimport_updates_and_never_duplicates(session: Session, tmp_path: Path) -> None:
    report = import_csv(session, "info_service_cert", write(tmp_path, CERT_HEADER + CERT_ROW))
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (1, 1, 0, 0)
    assert report.encoding == "utf-8" and report.encoding_note is None
    changed = CERT_ROW.replace("2028-02-29", "2028-03-14")
    again = import_csv(session, "info_service_cert", write(tmp_path, CERT_HEADER + changed, "again.csv"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 0)
    same = import_csv(session, "info_service_cert", write(tmp_path, CERT_HEADER + changed, "same.csv"))
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 1)
    assert count(session, InfoServiceCertificate) == 1
    row = session.scalars(select(InfoServiceCertificate)).one()
    assert row.valid_to == date(2028, 3, 14)
    assert row.domains == ["kangjian-pharmacy.test"]


def test_numbers_are_stored_normalised_so_a_differently_written_number_updates_the_same_row(
    session: Session, tmp_path: Path
) -> None:
    import_csv(session, "info_service_cert", write(tmp_path, CERT_HEADER + CERT_ROW))
    other_spelling = CERT_ROW.replace("（浙）-经营性-2023-0012", "(浙) - 经营性 - 2023-0012")
    report = import_csv(session, "info_service_cert", write(tmp_path, CERT_HEADER + other_spelling, "b.csv"))
    assert (report.inserted, report.unchanged) == (0, 1)


def test_lenient_cells_are_accepted(session: Session, tmp_path: Path) -> None:
    content = (
        "Number , HOLDER,domains,valid_from,valid_to,status\n"
        '(粤)-经营性-2021-0088,广州百草堂,"https://www.baicaotang.test/ ; m.baicaotang.test",'
        "2021年6月1日,2031/05/31,有效\n"
    )
    import_csv(session, "info_service_cert", write(tmp_path, content))
    row = session.scalars(select(InfoServiceCertificate)).one()
    assert (row.number, row.cert_type, row.status) == ("（粤）-经营性-2021-0088", "经营性", "valid")
    assert row.domains == ["www.baicaotang.test", "m.baicaotang.test"]
    assert (row.valid_from, row.valid_to) == (date(2021, 6, 1), date(2031, 5, 31))


def test_export_writes_what_import_reads(session: Session, tmp_path: Path) -> None:
    import_csv(session, "drug_approval", DEMO_REGISTRY / "drug_approval.csv")
    out = io.StringIO()
    assert export_csv(session, "drug_approval", out) == 8
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(KIND_SPECS["drug_approval"].columns)
    exported = tmp_path / "export.csv"
    export_csv(session, "drug_approval", exported)
    assert exported.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel-friendly UTF-8
    report = import_csv(session, "drug_approval", exported)
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (8, 0, 0, 8)


def test_every_demo_csv_imports_cleanly(session: Session) -> None:
    for kind in REGISTRY_KINDS:
        report = import_csv(session, kind, DEMO_REGISTRY / f"{kind}.csv")
        assert report.rows > 0 and report.inserted == report.rows and not report.rejected, kind


# --- import: bad input --------------------------------------------------------------------------------


def test_wrong_columns_are_refused_naming_them(session: Session, tmp_path: Path) -> None:
    content = "number,holder,domain,valid_from,expires\n" + "（浙）-经营性-2023-0012,x,a.test,2023-03-01,2028-02-29\n"
    with pytest.raises(RegistryImportError) as e:
        import_csv(session, "info_service_cert", write(tmp_path, content))
    message = str(e.value)
    assert ":1: wrong columns" in message
    assert "unknown column(s) 'domain', 'expires'" in message and "missing column(s) domains, valid_to" in message


def test_bad_rows_refuse_the_whole_file_with_line_numbers_and_reasons(session: Session, tmp_path: Path) -> None:
    content = (
        CERT_HEADER
        + CERT_ROW
        + "（粤）-经营性-2021-0088,广州百草堂,经营性,baicaotang.test,2021-06-01,2026-02-30,valid\n"  # line 3
        + "（京）-非经营性-2016-0042,北京慈济堂,非经营性,cijitang.test,01/04/2016,2021-03-31,valid\n"  # line 4
        + CERT_ROW.replace("valid\n", "maybe\n")  # line 5: also a duplicate of line 2
        + "not a number,x,经营性,a.test,2020-01-01,2021-01-01,valid\n"  # line 6
        + "（浙）-2017-0027,考拉,经营性,kaola.test,2017-01-01,2022-01-01,valid\n"  # line 7: malformed
        + "（沪）-经营性-2019-0031,上海瑞康,非经营性,ruikang.test,2019-07-15,2029-07-14,valid\n"  # line 8
        + "（沪）-经营性-2019-0032,上海瑞康,经营性,bad domain!,2019-07-15,2029-07-14,valid\n"  # line 9
        + "（沪）-经营性-2019-0033,上海瑞康,经营性,ruikang.test,2029-07-15,2019-07-14,valid\n"  # line 10
        + "（沪）-经营性-2019-0034,上海瑞康,经营性\n"  # line 11
        + "\n"
        + CERT_ROW  # line 13: duplicate of line 2
    )
    with pytest.raises(RegistryImportError) as e:
        import_csv(session, "info_service_cert", write(tmp_path, content))
    lines = {r.line: r.reason for r in e.value.rejected}
    assert "2026-02-30" in lines[3] and "not a day" in lines[3]
    assert "bad date in valid_from" in lines[4]
    assert "bad status 'maybe'" in lines[5]
    assert "not a info_service_cert number" in lines[6]
    assert "malformed" in lines[7] and "type word" in lines[7]
    assert "does not match the number's type" in lines[8]
    assert "bad domain" in lines[9]
    assert "after valid_to" in lines[10]
    assert "3 cells, expected 7" in lines[11]
    assert lines[13] == "duplicate number （浙）-经营性-2023-0012 (first on line 2)"
    assert set(lines) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 13}
    assert "in.csv:3: bad date in valid_to" in str(e.value)
    assert count(session, InfoServiceCertificate) == 0  # all or nothing


def test_skip_bad_imports_the_good_rows_and_writes_the_rejected_ones(session: Session, tmp_path: Path) -> None:
    content = CERT_HEADER + CERT_ROW + "（粤）-经营性-2021-0088,广州,经营性,a.test,2021-06-01,2021-13-01,valid\n"
    rejects = tmp_path / "out" / "rejects.csv"
    report = import_csv(session, "info_service_cert", write(tmp_path, content), skip_bad=True, rejects_path=rejects)
    assert (report.inserted, len(report.rejected), report.rejects_path) == (1, 1, rejects)
    written = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert written[0] == "line,reason,number,holder,domains,valid_from,valid_to,cert_type,status"
    assert written[1].startswith("3,bad date in valid_to") and "（粤）-经营性-2021-0088" in written[1]
    assert "1 rejected (written to" in report.summary()


def test_skip_bad_writes_rejects_beside_the_input_by_default(session: Session, tmp_path: Path) -> None:
    content = CERT_HEADER + CERT_ROW + "bad,x,经营性,a.test,2021-06-01,2022-01-01,valid\n"
    report = import_csv(session, "info_service_cert", write(tmp_path, content, "certs.csv"), skip_bad=True)
    assert report.rejects_path == tmp_path / "certs.rejects.csv" and report.rejects_path.exists()


def test_a_gbk_csv_is_accepted_and_reported(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, (CERT_HEADER + CERT_ROW).encode("gbk"))
    report = import_csv(session, "info_service_cert", path)
    assert report.encoding == "gbk" and "GBK" in (report.encoding_note or "")
    assert session.scalars(select(InfoServiceCertificate.holder)).one() == "浙江康健大药房连锁有限公司"


def test_a_gb18030_only_character_is_decoded(session: Session, tmp_path: Path) -> None:
    row = "国药准字H20023370,盐酸二甲双胍缓释片,𠀀制药,rx,片剂,valid\n"  # 𠀀 needs GB18030's four-byte form
    path = write(tmp_path, ("number,product_name,holder,rx_otc,dosage_form,status\n" + row).encode("gb18030"))
    report = import_csv(session, "drug_approval", path)
    assert report.encoding == "gb18030"


def test_utf8_with_bom_and_utf16_are_accepted(session: Session, tmp_path: Path) -> None:
    bom = import_csv(session, "info_service_cert", write(tmp_path, (CERT_HEADER + CERT_ROW).encode("utf-8-sig")))
    assert bom.encoding == "utf-8-sig" and bom.inserted == 1 and bom.encoding_note is None
    tsv = (CERT_HEADER + CERT_ROW).replace(",", "\t").encode("utf-16")
    utf16 = import_csv(session, "info_service_cert", write(tmp_path, tsv, "excel.txt"))
    assert utf16.encoding == "utf-16" and utf16.unchanged == 1


def test_an_undecodable_file_is_refused_clearly(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, CERT_HEADER.encode() + b"\x80\xff\x80\xff,x\n")
    with pytest.raises(RegistryImportError, match=r"neither UTF-8 nor GBK/GB18030 \(byte 0x80 at offset \d+, line 2\)"):
        import_csv(session, "info_service_cert", path)


def test_latin1_text_that_happens_to_decode_as_gbk_is_refused(session: Session, tmp_path: Path) -> None:
    latin = (
        CERT_HEADER + "（浙）-经营性-2023-0012,Pharmacie Crème Brûlée àéèù,经营性,a.test,2023-03-01,2028-02-29,valid\n"
    )
    data = latin.replace("（浙）", "(ZJ)").replace("经营性", "x").encode("latin-1")
    with pytest.raises(RegistryImportError, match="save it as UTF-8"):
        import_csv(session, "info_service_cert", write(tmp_path, data))


def test_an_unknown_kind_and_an_empty_or_missing_file(session: Session, tmp_path: Path) -> None:
    with pytest.raises(RegistryImportError, match="unknown registry kind 'licence'; expected one of"):
        import_csv(session, "licence", write(tmp_path, CERT_HEADER))
    with pytest.raises(RegistryImportError, match="the file is empty"):
        import_csv(session, "info_service_cert", write(tmp_path, ""))
    with pytest.raises(RegistryImportError, match="cannot read the file"):
        import_csv(session, "info_service_cert", tmp_path / "nope.csv")


def test_product_rows_are_validated_per_kind(session: Session, tmp_path: Path) -> None:
    drugs = (
        "number,product_name,rx_otc\n"
        "国药准字H20023370,盐酸二甲双胍缓释片,处方药\n"
        "国药准字H20023371,,otc\n"
        "国药准字H20023372,某药,sometimes\n"
        "国食健注G20190123,糖络康胶囊,otc\n"
    )
    with pytest.raises(RegistryImportError) as e:
        import_csv(session, "drug_approval", write(tmp_path, drugs))
    reasons = {r.line: r.reason for r in e.value.rejected}
    assert reasons == {
        3: "product_name missing",
        4: "bad rx_otc 'sometimes' (use rx or otc)",
        5: "number '国食健注G20190123' is not a drug_approval number",
    }
    devices = "number,product_name,device_class\n浙械注准20182140001,电子血压计,3\n"
    with pytest.raises(RegistryImportError, match="device_class 3 does not match the number's class 2"):
        import_csv(session, "device", write(tmp_path, devices, "dev.csv"))


def test_ad_approval_expiry_comes_from_the_number_when_not_given(session: Session) -> None:
    import_csv(session, "ad_approval", DEMO_REGISTRY / "ad_approval.csv")
    record = SqlRegistry(session).find_ad_approval("浙药广审（文）第281231-00012号")
    assert record is not None and record.valid_to == date(2028, 12, 31)


# --- the lookup and the demo ----------------------------------------------------------------------------


@pytest.fixture
def demo_registry(session: Session) -> SqlRegistry:
    for kind in REGISTRY_KINDS:
        import_csv(session, kind, DEMO_REGISTRY / f"{kind}.csv")
    session.flush()
    return SqlRegistry(session)


def test_sql_registry_answers_the_lookup_protocol(demo_registry: SqlRegistry) -> None:
    assert isinstance(demo_registry, RegistryLookup)
    cert = demo_registry.find_certificate("（浙）-经营性-2023-0012")
    assert cert is not None and cert.domains == ("kangjian-pharmacy.test",)
    assert (cert.valid_from, cert.valid_to, cert.holder) == (
        date(2023, 3, 1),
        date(2028, 2, 29),
        "浙江康健大药房连锁有限公司",
    )
    drug = demo_registry.find_drug_approval("国药准字H20023370")
    assert drug is not None and drug.details == {"rx_otc": "rx", "dosage_form": "片剂"}
    assert demo_registry.find_drug_approval("国药准字H99999999") is None
    assert all(demo_registry.covers(kind) for kind in REGISTRY_KINDS)


def test_an_empty_table_is_not_covered(session: Session) -> None:
    import_csv(session, "drug_approval", DEMO_REGISTRY / "drug_approval.csv")
    registry = SqlRegistry(session)
    assert registry.covers("drug_approval") and not registry.covers("health_food")
    assert count(session, DrugApproval) == 8


def test_the_demo_pharmacy_pages_hold_a_valid_licence_and_known_numbers(demo_registry: SqlRegistry) -> None:
    import html
    import re

    site = ROOT / "demo" / "sites" / "kangjian-pharmacy.test"
    for page in sorted(site.glob("*.html")):
        text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
        s = reference_signals(text, host="kangjian-pharmacy.test", server_ip="114.114.114.114",
                              registry=demo_registry, today=date(2026, 11, 28))  # fmt: skip
        assert s["licence_valid"] is True, page.name
        assert s["approval_unknown"] in (False, None) and s["approval_product_mismatch"] in (False, None), page.name
        assert (s["icp_missing"], s["overseas_hosting"], s["ad_without_approval_number"]) == (False, False, False)
        assert s["legacy_trading_certificate_shown_as_current"] is False
