"""The blacklist: entries added with a reason, lifted never deleted, imported all or nothing — and an
operator listed once is found again on a new site, whose page is flagged for the link alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pharmwatch.cli import cli

NEW_SITE_PAGE = "新店开业，老客户请加微信 ABC12345 咨询，顺丰包邮。"


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})
    return invoke


def _check(run, tmp_path: Path) -> dict:  # type: ignore[no-untyped-def,type-arg]
    page = tmp_path / "new-site.txt"
    page.write_text(NEW_SITE_PAGE, encoding="utf-8")
    return json.loads(run("check", str(page), "--json", "--no-fail").stdout)[0]


def test_a_listed_operator_is_flagged_on_a_new_site_until_lifted(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "pw-zh-blacklisted-operator-001" not in [f["rule_id"] for f in _check(run, tmp_path)["findings"]]
    added = run("blacklist", "add", "wechat", "ABC12345", "--reason", "案件7 经营者微信", "--by", "科长")
    assert added.exit_code == 0 and added.stdout.strip() == "blacklist entry 1: wechat abc12345"
    result = _check(run, tmp_path)
    assert "pw-zh-blacklisted-operator-001" in [f["rule_id"] for f in result["findings"]] and result["flagged"]
    assert result["signals"]["blacklisted_identifiers"] == ["wechat:abc12345 (blacklist entry 1)"]

    again = run("blacklist", "add", "wechat", "abc12345", "--reason", "again")
    assert again.exit_code == 2 and "already on the list (entry 1)" in again.stderr
    assert run("blacklist", "lift", "1", "--reason", "号码已注销", "--by", "科长").exit_code == 0
    assert "pw-zh-blacklisted-operator-001" not in [f["rule_id"] for f in _check(run, tmp_path)["findings"]]
    kept = json.loads(run("blacklist", "list", "--all", "--format", "json").stdout)
    assert [(e["id"], e["lifted"], e["lift_reason"]) for e in kept] == [(1, True, "号码已注销")]
    assert run("audit", "verify").exit_code == 0


def test_a_listed_company_or_payment_account_flags_a_page_that_names_it(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "shop.txt"
    page.write_text("本店由 深圳市某某生物科技有限公司 经营。货款请转 6222 0212 3456 7890 123，店主张伟。",
                    encoding="utf-8")

    def blacklisted() -> list[str]:
        result = json.loads(run("check", str(page), "--json", "--no-fail").stdout)[0]
        return result["signals"]["blacklisted_identifiers"]

    assert blacklisted() == []
    run("blacklist", "add", "company", "深圳市某某生物科技有限公司", "--reason", "案件3 经营者")
    run("blacklist", "add", "payment", "6222-0212-3456-7890-123", "--reason", "案件3 收款账户")
    run("blacklist", "add", "person", "张伟", "--reason", "案件3 负责人")  # kept for referrals, never matched
    run("blacklist", "add", "company", "某某", "--reason", "too short to look for")
    assert blacklisted() == ["company:深圳市某某生物科技有限公司 (blacklist entry 1)",
                             "payment:6222-0212-3456-7890-123 (blacklist entry 2)"]


def test_entries_need_a_reason_a_known_kind_and_a_confirmed_case(run) -> None:  # type: ignore[no-untyped-def]
    assert "is not a phone" in run("blacklist", "add", "phone", "not a number", "--reason", "x").stderr
    assert "no case 5" in run("blacklist", "add", "site", "shop.test", "--reason", "x", "--case", "5").stderr
    site = run("blacklist", "add", "site", "https://WWW.Shop-A.test/p?id=1", "--reason", "无证售药")
    assert site.stdout.strip() == "blacklist entry 1: site shop-a.test"
    company = run("blacklist", "add", "company", "  某某生物科技  有限公司 ", "--reason", "经营者")
    assert company.stdout.strip() == "blacklist entry 2: company 某某生物科技 有限公司"


def test_another_offices_list_imports_all_or_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,value,reason\nwechat,abc12345,售假药\nfax,123,?\nphone,13800138000,\n", encoding="utf-8")
    refused = run("blacklist", "import", str(bad), "--source", "市局")
    assert refused.exit_code == 2 and "nothing imported" in refused.stderr
    assert f"{bad}:3: kind" in refused.stderr and f"{bad}:4: reason: missing" in refused.stderr
    assert json.loads(run("blacklist", "list", "--format", "json").stdout) == []
    good = tmp_path / "good.csv"
    good.write_text("kind,value,reason\nwechat,abc12345,售假药\nphone,138-0013-8000,无证销售\n", encoding="utf-8")
    assert run("blacklist", "import", str(good), "--source", "市局").stdout.strip() == "2 entries added"
    assert run("blacklist", "import", str(good), "--source", "市局").stdout.strip() == "0 entries added"
    exported = run("blacklist", "export").stdout.splitlines()
    assert exported[0].startswith("kind,value,reason")
    assert "phone,13800138000,无证销售 (imported from 市局)" in exported[2]


def test_the_daily_recheck_crawls_each_listed_sites_proving_pages_else_its_front_page(sessions) -> None:  # type: ignore[no-untyped-def]
    from cases.blacklist import add_entry, lift_entry, recheck_urls
    from storage import db
    from tests.cases.builders import scan_with

    scan_with(sessions, {"pw-zh-cure-001": "high"}, domain="tangan-cure.test")
    with db.transaction(sessions) as session:
        add_entry(session, "site", "tangan-cure.test", reason="案件1", actor="科长")
        add_entry(session, "site", "never-seen.test", reason="外地移送", actor="科长")
        lifted = add_entry(session, "site", "closed-down.test", reason="x", actor="科长")
        lift_entry(session, lifted.id, reason="网站已关闭", actor="科长")
        add_entry(session, "wechat", "abc12345", reason="经营者微信", actor="科长")
    with sessions() as session:
        assert recheck_urls(session) == ["http://tangan-cure.test/", "http://never-seen.test/"]
