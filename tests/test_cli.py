"""The command line as users and other tools call it: contracts, errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.charset import decode_html
from crawler.extract import extract_document
from pharmwatch.cli import cli

SITES = Path(__file__).resolve().parent.parent / "demo" / "sites"


_RULESETS: dict[tuple[str, ...] | None, object] = {}


@pytest.fixture(autouse=True)
def rule_packs_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands load the rule packs on every call; in-process, each set of packs is loaded once."""
    import rules

    load = rules.load_ruleset

    def load_once(paths=None, *, cache_dir=None):  # type: ignore[no-untyped-def]
        key = tuple(map(str, paths)) if paths else None
        if key not in _RULESETS:
            _RULESETS[key] = load(paths, cache_dir=cache_dir)  # a broken pack raises and is never kept
        return _RULESETS[key]

    monkeypatch.setattr(rules, "load_ruleset", load_once)


@pytest.fixture
def invoke(tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        base_env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": ""}
        return CliRunner().invoke(cli, list(args), env={**base_env, **(env or {})}, obj={})
    return run


def test_check_json_follows_the_documented_contract(invoke) -> None:  # type: ignore[no-untyped-def]
    claim_page = SITES / "tangan-cure.test" / "index.html"
    pharmacy = SITES / "kangjian-pharmacy.test" / "index.html"
    result = invoke("check", str(claim_page), str(pharmacy), "--json")
    assert result.exit_code == 1, result.output  # something flagged
    flagged, clean = json.loads(result.stdout)
    # The contract only gains keys: `ocr` (images read, OCR being on by default) since issue #20.
    assert set(flagged) == {"target", "analysed", "flagged", "risk", "findings", "signals", "ocr"}
    assert flagged["target"] == str(claim_page) and flagged["flagged"] is True
    assert flagged["risk"] in {"medium", "high", "critical"}
    text = extract_document(decode_html(claim_page.read_bytes())).text
    for finding in flagged["findings"]:
        assert set(finding) - {"ocr"} == {"rule_id", "category", "severity", "excerpt", "spans", "scope"}
        for start, end in finding["spans"]:
            assert 0 <= start < end <= len(text)
    highlighted = {text[s:e] for f in flagged["findings"] for s, e in f["spans"]}
    assert {"根治", "糖尿病"} <= highlighted
    assert clean["flagged"] is False and clean["signals"]["shows_licence"] is True


def test_check_reads_plain_text_files_in_utf8_or_gbk(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    claim = "本品纯中药配方，7天根治痛风，成功率99%，无效退款。"
    (tmp_path / "utf8.txt").write_text(claim, encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes(claim.encode("gbk"))
    result = invoke("check", str(tmp_path / "utf8.txt"), str(tmp_path / "gbk.txt"), "--json", "--no-fail")
    assert result.exit_code == 0, result.output
    utf8, gbk = json.loads(result.stdout)
    assert utf8["flagged"] and gbk["flagged"]
    assert [f["spans"] for f in utf8["findings"]] == [f["spans"] for f in gbk["findings"]]


def test_check_reports_an_unreadable_input_and_still_analyses_the_rest(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = SITES / "renmin-hospital.test" / "index.html"
    result = invoke("check", str(tmp_path / "missing.html"), str(good), "--json")
    assert result.exit_code == 2
    missing, analysed = json.loads(result.stdout)
    assert "cannot read" in missing["error"] and missing["flagged"] is False
    assert analysed["flagged"] is False and "error" not in analysed


def test_check_fetches_a_url_through_the_configured_proxy(invoke, demo_web: str) -> None:  # type: ignore[no-untyped-def]
    env = {"PHARMWATCH_CRAWL__PROXY": demo_web, "PHARMWATCH_CRAWL__ALLOW_PRIVATE": '["127.0.0.0/8"]'}
    result = invoke("check", "http://tongfeng-ling.test/", "--json", env=env)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)[0]["flagged"] is True


def test_check_refuses_private_addresses(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("check", "http://169.254.169.254/latest/meta-data/", "--json")
    assert result.exit_code == 2
    assert "private or reserved" in json.loads(result.stdout)[0]["error"]


def test_scan_refuses_to_start_with_a_broken_rule_pack(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "broken.yaml").write_text("title: {zh: 坏规则, en: broken}\nid: [unclosed\n", encoding="utf-8")
    config = tmp_path / "pharmwatch.toml"
    config.write_text(f'rule_paths = ["{pack}"]\nwatchlist = ["http://tangan-cure.test/"]\n', encoding="utf-8")
    result = invoke("--config", str(config), "scan")
    assert result.exit_code == 2
    assert "refusing to scan with a broken rule pack" in result.output and "broken.yaml:" in result.output
    assert not (tmp_path / "home" / "pharmwatch.db").exists() or "scan 1" not in result.output


def test_an_unknown_setting_stops_every_command_with_the_fix(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "pharmwatch.toml"
    config.write_text("[crawl]\nmax_pages = 3\n", encoding="utf-8")
    result = invoke("--config", str(config), "report", "daily")
    assert result.exit_code == 2 and "max_pages_per_site" in result.output


def test_report_daily_on_a_new_database_upgrades_it_and_lists_nothing(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("report", "daily", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["sites"] == [] and report["timezone"] == "Asia/Shanghai"


def test_report_daily_rejects_a_bad_date(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("report", "daily", "--date", "28/11/2026")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_serp_parse_json_reads_a_saved_result_page(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from demo.search_engine import handle

    status, _headers, body = handle("/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=0")
    assert status == 200
    saved = tmp_path / "serp.html"
    saved.write_bytes(body)
    result = invoke("serp", "parse", str(saved), "--json")
    assert result.exit_code == 0, result.output
    (page,) = json.loads(result.stdout)
    assert page["engine"] == "mock" and page["query"] == "降糖药" and page["blocked"] is False
    assert any(r["is_ad"] and r["ad_label"] for r in page["results"])
    assert all(r["url"].startswith("http") for r in page["results"])


def test_registry_import_is_all_or_nothing_and_names_the_bad_line(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = Path(__file__).resolve().parent.parent / "demo" / "registry" / "info_service_cert.csv"
    bad = tmp_path / "bad.csv"
    lines = good.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines, lines[1].replace("-", "/", 2).replace("20", "x0", 1)]) + "\n", encoding="utf-8")
    refused = invoke("registry", "import", "info_service_cert", str(bad))
    assert refused.exit_code == 2 and "nothing imported" in refused.output
    assert f"bad.csv:{len(lines) + 1}:" in refused.output
    imported = invoke("registry", "import", "info_service_cert", str(good))
    assert imported.exit_code == 0 and f"{len(lines) - 1} new" in imported.output, imported.output
    again = invoke("registry", "import", "info_service_cert", str(good))
    assert "0 new" in again.output and f"{len(lines) - 1} unchanged" in again.output
    exported = invoke("registry", "export", "info_service_cert")
    assert exported.exit_code == 0 and "（浙）-经营性-2023-0012" in exported.output


@pytest.mark.slow
def test_rules_list_lint_and_test_cover_every_shipped_rule(invoke) -> None:  # type: ignore[no-untyped-def]
    listed = invoke("rules", "list", "--json")
    assert listed.exit_code == 0
    rules = json.loads(listed.stdout)["rules"]
    assert len({r["id"] for r in rules}) == len(rules) >= 30
    assert all(r["legal_basis"] and len(r["sha256"]) == 64 for r in rules)
    assert invoke("rules", "lint").exit_code == 0
    tested = invoke("rules", "test")
    assert tested.exit_code == 0 and f"{len(rules)} rules, 0 failing examples" in tested.stdout


def test_rules_lint_names_the_file_and_line_of_a_convention_problem(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack" / "disease_cure_claim"
    pack.mkdir(parents=True)
    source = Path(__file__).resolve().parent.parent / "rules" / "packs" / "disease_cure_claim" / "gout_cure.yaml"
    (pack / "Gout Cure.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "pharmwatch.toml"
    config.write_text(f'rule_paths = ["{tmp_path / "pack"}"]\n', encoding="utf-8")
    result = invoke("--config", str(config), "rules", "lint")
    assert result.exit_code == 1 and "Gout Cure.yaml" in result.stdout


# --- exit codes and output formats ------------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
CLI_SOURCE = Path(__file__).resolve().parent.parent / "pharmwatch" / "cli.py"


def test_the_readme_lists_every_exit_code_with_its_name_and_meaning() -> None:
    import re

    from pharmwatch.exit_codes import ExitCode

    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| (.+) \|$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert [(int(code), name, meaning) for code, name, meaning in rows] == \
        [(code.value, code.name, code.meaning) for code in ExitCode]


def test_commands_exit_through_named_codes_only() -> None:
    import re

    source = CLI_SOURCE.read_text(encoding="utf-8")
    assert not re.findall(r"\bexit\(\s*-?\d", source)  # sys.exit(ExitCode.X), never a bare number
    assert "ExitCode.FAILED" in source and "ExitCode.FLAGGED" in source


DATA_COMMANDS = [("check",), ("serp", "parse"), ("tip", "list"), ("report", "daily"), ("report", "ads"),
                 ("report", "stats"), ("rules", "list"), ("schedule", "show"), ("evidence", "verify"),
                 ("alerts", "list"), ("user", "list")]


@pytest.mark.parametrize("command", DATA_COMMANDS, ids=" ".join)
def test_every_command_whose_output_is_data_takes_format(invoke, command: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "--format [table|" in result.output and "json]" in result.output


def test_rules_list_formats_and_the_old_json_flag_as_a_hidden_alias(invoke) -> None:  # type: ignore[no-untyped-def]
    as_format = invoke("rules", "list", "--format", "json")
    assert as_format.exit_code == 0 and as_format.stdout == invoke("rules", "list", "--json").stdout
    assert "--json" not in invoke("rules", "list", "--help").output
    rules = json.loads(as_format.stdout)["rules"]
    header, *rows = invoke("rules", "list", "--format", "csv").stdout.splitlines()
    assert header.startswith("id,version,status,category,severity") and len(rows) == len(rules)


def test_check_format_json_is_the_json_contract_and_csv_has_a_row_per_finding(invoke) -> None:  # type: ignore[no-untyped-def]
    claim_page = str(SITES / "tangan-cure.test" / "index.html")
    contract = invoke("check", claim_page, "--json")
    assert invoke("check", claim_page, "--format", "json").stdout == contract.stdout
    (item,) = json.loads(contract.stdout)
    as_csv = invoke("check", claim_page, "--format", "csv")
    assert as_csv.exit_code == 1  # the format never changes the exit status
    header, *rows = as_csv.stdout.splitlines()
    assert header == "target,flagged,risk,error,rule_id,category,severity,excerpt,not_analysed"
    assert [row.split(",")[4] for row in rows] == [f["rule_id"] for f in item["findings"]]
    assert "FLAGGED" in invoke("check", claim_page).stdout


def test_serp_parse_csv_has_a_row_per_result(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from demo.search_engine import handle

    saved = tmp_path / "serp.html"
    saved.write_bytes(handle("/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=0")[2])
    (page,) = json.loads(invoke("serp", "parse", str(saved), "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(invoke("serp", "parse", str(saved), "--format", "csv").stdout)))
    assert [(r["rank"], r["url"]) for r in rows] == [(str(r["rank"]), r["url"]) for r in page["results"]]
    assert {r["engine"] for r in rows} == {"mock"}


def test_tips_and_ads_list_as_csv_and_json(invoke) -> None:  # type: ignore[no-untyped-def]
    assert invoke("tip", "add", "tangan-cure.test", "--source", "12315").exit_code == 0
    (tip,) = json.loads(invoke("tip", "list", "--format", "json").stdout)
    header, row = invoke("tip", "list", "--format", "csv").stdout.splitlines()
    assert header.split(",") == list(tip) and row.startswith(f"{tip['id']},{tip['url']},")
    assert json.loads(invoke("report", "ads", "--format", "json").stdout) == []
    assert invoke("report", "ads", "--format", "csv").stdout.startswith("advertiser,first_seen,last_seen")


def test_schedule_show_as_json(invoke) -> None:  # type: ignore[no-untyped-def]
    jobs = json.loads(invoke("schedule", "show", "--format", "json").stdout)
    assert jobs and jobs[0]["job_id"] == "nightly" and set(jobs[0]) == {"job_id", "command", "cron", "args", "next_run"}


def test_evidence_verify_format_json_and_its_old_json_flag(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    not_a_package = tmp_path / "case.wacz"
    not_a_package.write_bytes(b"not a zip")
    as_format = invoke("evidence", "verify", str(not_a_package), "--format", "json")
    assert as_format.exit_code == 1  # FLAGGED: the package does not verify
    assert as_format.stdout == invoke("evidence", "verify", str(not_a_package), "--json").stdout
    report = json.loads(as_format.stdout)
    assert report["ok"] is False and report["problems"][0]["file"] == "case.wacz"
    assert invoke("evidence", "verify", str(not_a_package)).stdout.startswith("FAILED case.wacz")


@pytest.mark.parametrize("output", [["--json"], ["--format", "table"], ["--format", "csv"]])
def test_serp_parse_an_empty_parse_fails_in_every_format(invoke, tmp_path: Path, output: list[str]) -> None:  # type: ignore[no-untyped-def]
    from demo.search_engine import handle

    _status, _headers, body = handle("/s?wd=%E9%99%8D%E7%B3%96%E8%8D%AF&pn=0")
    changed = tmp_path / "changed.html"  # the engine changed its markup: nothing can be read
    changed.write_bytes(body.replace(b"<h3", b"<h4").replace(b"</h3>", b"</h4>"))
    result = invoke("serp", "parse", str(changed), *output)
    assert result.exit_code == 2, result.output
    if output == ["--format", "table"]:
        assert ": PARSE ERROR: 0 results found" in result.stdout


def test_small_things_users_met(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a non-http URL is not read as a file path
    ftp = invoke("check", "ftp://example.com/page.html", "--json")
    assert ftp.exit_code == 2 and "only http(s) URLs" in json.loads(ftp.stdout)[0]["error"]
    # -h and --version
    assert invoke("-h").exit_code == 0 and "Usage" in invoke("-h").stdout
    version = invoke("--version")
    assert version.exit_code == 0 and "pharmwatch" in version.stdout
    # an unknown time zone is a settings error naming the key, not a traceback
    bad = tmp_path / "bad.toml"
    bad.write_text('[report]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    daily = invoke("--config", str(bad), "report", "daily")
    assert daily.exit_code == 2 and "[report] timezone" in daily.stderr and "Traceback" not in daily.output
    # an unknown setting is named once
    typo = tmp_path / "typo.toml"
    typo.write_text("watchlst = []\n", encoding="utf-8")
    message = invoke("--config", str(typo), "report", "daily").stderr
    assert message.count("'watchlst'") == 1 and "did you mean 'watchlist'" in message
    # asking for ads of a site with none says so
    ads = invoke("report", "ads", "--domain", "nosuch.test")
    assert ads.exit_code == 0 and "no ads recorded for domain 'nosuch.test'" in ads.stdout


def test_registry_import_names_every_bad_value_of_a_row(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_file = tmp_path / "certs.csv"
    csv_file.write_text("number,holder,domains,valid_from,valid_to,status\n"
                        "（浙）-经营性-2018-0010,,not a domain!,2018-13-01,2023-01-01,whatever\n", encoding="utf-8")
    result = invoke("registry", "import", "info_service_cert", str(csv_file))
    assert result.exit_code == 2
    for reason in ("holder missing", "bad domain", "bad date in valid_from", "bad status"):
        assert reason in result.stderr, (reason, result.stderr)
