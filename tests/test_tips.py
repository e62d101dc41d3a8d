"""Tips: a monitor pastes a URL or imports a hotline's tip file; the next scan crawls it, marks it
scanned, and the daily list says the flagged site came from a tip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cases.tips import MAX_URL_LENGTH, TipURLError, normalise_url
from pharmwatch.cli import cli
from storage.audit import verify_chain
from storage.db import make_engine, session_factory
from storage.models import AuditEvent
from tests.conftest import run_cli
from tests.databases import database_url


@pytest.fixture
def invoke(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`pharmwatch ARGS` in-process, with its own data folder and the built-in settings."""
    def run(*args: str):  # type: ignore[no-untyped-def]
        env = {"PHARMWATCH_HOME": str(tmp_path / "home"), "PHARMWATCH_CONFIG": "", "USER": "监测员小王"}
        return CliRunner().invoke(cli, list(args), env=env, obj={})
    return run


def _tips(invoke, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    listed = invoke("tip", "list", "--format", "json", *args)
    assert listed.exit_code == 0, listed.output
    return json.loads(listed.stdout)


def _audit(tmp_path: Path) -> list[AuditEvent]:
    with session_factory(make_engine(database_url(tmp_path / "home")))() as session:
        assert verify_chain(session) == []
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


# --- what a pasted URL means --------------------------------------------------------------------

@pytest.mark.parametrize(("pasted", "meant"), [
    ("example.com/shop", "http://example.com/shop"),
    ("  ｈｔｔｐｓ：／／ＷＷＷ．Ｅｘａｍｐｌｅ．ｃｏｍ／ｓｈｏｐ  ", "https://www.example.com/shop"),  # IME full-width
    ("\u3000“http://example.com/降糖药?id=1#buy”\u200b", "http://example.com/%E9%99%8D%E7%B3%96%E8%8D%AF?id=1"),
    ("http://中国药店.cn/", "http://xn--fiqs8s2qg6l5b.cn/"),
    ("HTTP://Example.COM:80", "http://example.com/"),
    ("example.com:8080/shop", "http://example.com:8080/shop"),
    ("//cdn.example.com/a", "http://cdn.example.com/a"),
    ("www.example。com/a。", "http://www.example.com/a"),  # ideographic full stops from a chat message
    ("http://8.8.8.8", "http://8.8.8.8/"),
])
def test_a_pasted_url_is_normalised_to_one_canonical_form(pasted: str, meant: str) -> None:
    assert normalise_url(pasted) == meant


@pytest.mark.parametrize(("pasted", "why"), [
    ("", "empty"),
    ("   ", "empty"),
    ("javascript:alert(1)", "scheme 'javascript' is refused"),
    ("file:///etc/passwd", "scheme 'file' is refused"),
    ("ftp://example.com/x", "scheme 'ftp' is refused"),
    ("http://", "no host"),
    ("http:example.com", "no host"),
    ("http://192.168.1.10/admin", "private, loopback or reserved"),
    ("http://127.0.0.1:8080/", "private, loopback or reserved"),
    ("http://2130706433/", "private, loopback or reserved"),  # 127.0.0.1 written as one number
    ("localhost:8000", "private, loopback or reserved"),
    ("http://[::1]/", "private, loopback or reserved"),
    ("http://exa mple.com/", "contains spaces"),
    ("看看这个网站 example.com", "contains spaces"),
    ("http://exa$mple.com/", "not a valid domain name"),
    ("shop", "has no domain"),
    ("http://example.com:99999/", "Port out of range"),
    ("http://example.com/" + "a" * MAX_URL_LENGTH, f"longer than {MAX_URL_LENGTH}"),
])
def test_a_bad_url_is_refused_with_the_reason(pasted: str, why: str) -> None:
    with pytest.raises(TipURLError, match=why.replace("(", r"\(").replace("$", r"\$")):
        normalise_url(pasted)


def test_private_networks_pass_when_allow_listed() -> None:
    assert normalise_url("http://127.0.0.1:8080/x", ["127.0.0.0/8"]) == "http://127.0.0.1:8080/x"
    with pytest.raises(TipURLError):
        normalise_url("http://10.0.0.1/", ["127.0.0.0/8"])


@settings(max_examples=2000, deadline=None)
@given(st.one_of(
    st.text(),
    st.builds(lambda prefix, rest: prefix + rest,
              st.sampled_from(["http://", "https://", "//", "http://[", "example.com:", "http://a.cn:",
                               "ｈｔｔｐ：／／", "http://0x", "http://xn--", "http://user@", "javascript:"]),
              st.text(alphabet=st.sampled_from(list("abc019.:/?#[]@%-_ 。．：／中药\u200b\u3000\x00\ufeff")))),
))
def test_the_normaliser_raises_nothing_but_its_own_error_and_its_output_is_a_fixed_point(text: str) -> None:
    try:
        url = normalise_url(text)
    except TipURLError:
        return
    assert url.startswith(("http://", "https://")) and len(url) <= MAX_URL_LENGTH and url.isascii()
    assert normalise_url(url) == url


# --- adding, importing, listing -----------------------------------------------------------------

def test_tip_add_prints_the_id_and_the_same_report_the_same_day_is_the_same_tip(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = invoke("tip", "add", "ｔａｎｇａｎ-cure.test/", "--source", "12315 hotline", "--reporter", "张先生",
                   "--note", "朋友圈广告")
    assert first.exit_code == 0, first.output
    tip_id = int(first.stdout)
    again = invoke("tip", "add", "http://tangan-cure.test", "--source", "12315 hotline")
    assert again.exit_code == 0 and int(again.stdout) == tip_id
    assert f"already recorded today from '12315 hotline' as tip {tip_id}" in again.stderr
    other_source = invoke("tip", "add", "tangan-cure.test", "--source", "public email")
    assert int(other_source.stdout) != tip_id

    (tip, _) = _tips(invoke)
    assert tip == {"id": tip_id, "url": "http://tangan-cure.test/", "site": "tangan-cure.test",
                   "source": "12315 hotline", "reporter": "张先生", "note": "朋友圈广告",
                   "submitted_at": tip["submitted_at"], "submitted_by": "监测员小王", "status": "pending",
                   "scan_run_id": None, "outcome": None}
    assert _tips(invoke, "--status", "scanned") == []
    table = invoke("tip", "list")
    assert "http://tangan-cure.test/" in table.stdout and "2 tip(s)" in table.stdout
    actions = [(e.action, e.actor) for e in _audit(tmp_path)]
    assert actions == [("tip_submitted", "监测员小王"), ("tip_submitted", "监测员小王"),
                       ("tips_listed", "监测员小王"), ("tips_listed", "监测员小王"), ("tips_listed", "监测员小王")]


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "file:///etc/passwd", "http://10.0.0.8/", "a b.com", ""])
def test_tip_add_refuses_a_bad_url_with_status_2_and_one_line(invoke, bad: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke("tip", "add", bad)
    assert result.exit_code == 2
    (line,) = [line for line in result.stderr.splitlines() if not line.startswith("database schema upgraded")]
    assert line.startswith("error: tip not recorded: url: ")
    assert _tips(invoke) == []


GOOD_ROWS = [
    "url,source,reporter,note,submitted_at",
    "tangan-cure.test/,12315热线,王女士,声称根治糖尿病,2026-11-20 09:30",
    "https://xueya-wen.test/product?id=7,public email,,,2026/11/21",
]


def test_a_tip_file_with_bad_values_imports_nothing_and_names_file_line_and_column(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "tips.csv"
    bad.write_text("\n".join([*GOOD_ROWS,
                              "javascript:alert(1),12315热线,,,",               # line 4
                              ",public email,,,",                               # line 5
                              "http://192.168.0.5/,12315热线,,,2026-02-30",     # line 6: two bad values
                              "ok.example.cn,12315热线,,,28/11/2026"]) + "\n",  # line 7
                   encoding="utf-8")
    result = invoke("tip", "import", str(bad))
    assert result.exit_code == 2 and "nothing imported" in result.stderr
    for line, column in [(4, "url"), (5, "url"), (6, "url"), (6, "submitted_at"), (7, "submitted_at")]:
        assert f"tips.csv:{line}: {column}: " in result.stderr, result.stderr
    assert "tips.csv:2:" not in result.stderr and "tips.csv:3:" not in result.stderr
    assert _tips(invoke) == []


def test_a_tip_file_with_wrong_columns_is_refused_with_a_suggestion(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    misspelt = tmp_path / "misspelt.csv"
    misspelt.write_text("url,sorce,reporter\nexample.com,12315,\n", encoding="utf-8")
    result = invoke("tip", "import", str(misspelt))
    assert result.exit_code == 2
    assert "misspelt.csv:1: unknown column 'sorce' (did you mean 'source'?)" in result.stderr
    no_url = tmp_path / "no_url.csv"
    no_url.write_text("source,note\n12315,x\n", encoding="utf-8")
    result = invoke("tip", "import", str(no_url))
    assert result.exit_code == 2 and "no_url.csv:1: missing the required column 'url'" in result.stderr


def test_skip_bad_imports_the_good_rows_and_the_fixed_rejects_file_imports_as_is(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("\n".join([*GOOD_ROWS, "ftp://files.example.cn/x,12315热线,,,"]) + "\n", encoding="utf-8")
    rejects = tmp_path / "out" / "rejects.csv"
    result = invoke("tip", "import", str(mixed), "--skip-bad", "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert "3 rows, 2 new tips, 0 already recorded, 0 repeated in the file, 1 rejected" in result.stdout
    text = rejects.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "rejected_line,rejected_reason,url,source,reporter,note,submitted_at"
    assert "4,url: 'ftp://files.example.cn/x': scheme 'ftp' is refused" in text
    rejects.write_text(text.replace("ftp://", "http://"), encoding="utf-8-sig")  # the monitor fixes the row
    fixed = invoke("tip", "import", str(rejects))
    assert fixed.exit_code == 0 and "1 new tips" in fixed.stdout, fixed.output
    assert [t["url"] for t in _tips(invoke)] == [
        "http://tangan-cure.test/", "https://xueya-wen.test/product?id=7", "http://files.example.cn/x"]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_a_tip_file_saved_by_windows_excel_imports(invoke, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    excel = tmp_path / "举报线索.csv"
    excel.write_bytes("网址,来源,举报人,备注,举报时间\r\n"
                      "ｈｔｔｐ：／／ｔａｎｇａｎ－ｃｕｒｅ．ｔｅｓｔ／,12315热线,王女士,声称根治糖尿病,2026年11月20日\r\n"
                      .encode(encoding))
    result = invoke("tip", "import", str(excel))
    assert result.exit_code == 0, result.output
    assert "1 new tips" in result.stdout
    if encoding != "utf-8-sig":
        assert "not UTF-8" in result.stdout  # said, not silently guessed
    (tip,) = _tips(invoke)
    assert (tip["url"], tip["source"], tip["reporter"], tip["note"]) == (
        "http://tangan-cure.test/", "12315热线", "王女士", "声称根治糖尿病")
    assert tip["submitted_at"] == "2026-11-19T16:00:00+00:00"  # local midnight, Asia/Shanghai, in UTC


def test_a_tip_file_saved_as_xlsx_imports_with_its_row_numbers_and_formulas_as_text(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["网址", "来源", "备注", "举报时间"])
    sheet.append(["tangan-cure.test", "12315热线", '=HYPERLINK("http://evil.test/","点我")', datetime(2026, 11, 20)])
    sheet.append([])
    sheet.append(["http://127.0.0.1/", "12315热线", "第二\n行", None])
    book.save(tmp_path / "线索.xlsx")
    refused = invoke("tip", "import", str(tmp_path / "线索.xlsx"))
    assert refused.exit_code == 2 and f"{tmp_path / '线索.xlsx'}:4: url:" in refused.stderr  # the sheet's row
    result = invoke("tip", "import", str(tmp_path / "线索.xlsx"), "--skip-bad")
    assert result.exit_code == 0 and "1 new tips" in result.stdout, result.output
    (tip,) = _tips(invoke)
    assert (tip["url"], tip["note"], tip["submitted_at"]) == (
        "http://tangan-cure.test/", '=HYPERLINK("http://evil.test/","点我")', "2026-11-19T16:00:00+00:00")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    broken = invoke("tip", "import", str(tmp_path / "broken.xlsx"))
    assert broken.exit_code == 2 and "looks like an XLSX workbook (a ZIP file) but cannot be read" in broken.stderr


def test_importing_the_same_tip_file_twice_adds_nothing(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tips = tmp_path / "tips.csv"
    tips.write_text("\n".join([*GOOD_ROWS, GOOD_ROWS[1].replace("tangan-cure.test/", "http://TANGAN-cure.test")])
                    + "\n", encoding="utf-8")
    first = invoke("tip", "import", str(tips))
    assert "3 rows, 2 new tips, 0 already recorded, 1 repeated in the file" in first.stdout, first.output
    again = invoke("tip", "import", str(tips))
    assert "3 rows, 0 new tips, 2 already recorded, 1 repeated in the file" in again.stdout, again.output
    assert len(_tips(invoke)) == 2
    events = _audit(tmp_path)
    assert [e.action for e in events].count("tip_submitted") == 2
    imports = [e for e in events if e.action == "tips_imported"]
    assert [e.details["new"] for e in imports] == [[1, 2], []] and imports[0].subject == "file:tips.csv"


# --- a scan crawls them -------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.slow
def test_a_scan_crawls_pending_tips_marks_them_scanned_and_the_daily_list_names_them(
        demo_web: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = tmp_path / "pharmwatch.toml"  # no watchlist, no search: only what tips and --site bring
    config.write_text('[crawl]\nallow_private = ["127.0.0.0/8"]\nrender_first_page = false\nmax_pages_per_site = 3\n',
                      encoding="utf-8")

    def pharmwatch(*args: str):  # type: ignore[no-untyped-def]
        return run_cli(*args, home=home, proxy=demo_web, config=config)

    added = pharmwatch("tip", "add", "tangan-cure.test", "--source", "12315 hotline", "--by", "监测员小王")
    assert added.returncode == 0, added.stderr
    tip_id = int(added.stdout)

    skipped = pharmwatch("scan", "--no-search", "--no-tips", "--site", "http://kangjian-pharmacy.test/")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "1 watched site(s)" in skipped.stderr and "0 tip(s)" in skipped.stderr
    assert "tips_scanned=0" in skipped.stdout
    assert [t["status"] for t in json.loads(pharmwatch("tip", "list", "--format", "json").stdout)] == ["pending"]

    scanned = pharmwatch("scan", "--no-search")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    assert "0 watched site(s)" in scanned.stderr and ", 1 tip(s)" in scanned.stderr
    assert "tips_scanned=1" in scanned.stdout
    (tip,) = json.loads(pharmwatch("tip", "list", "--status", "scanned", "--format", "json").stdout)
    assert (tip["id"], tip["status"], tip["scan_run_id"]) == (tip_id, "scanned", 2)

    report = pharmwatch("report", "daily", "--format", "json")
    assert report.returncode == 0, report.stderr
    sites = {s["domain"]: s for s in json.loads(report.stdout)["sites"]}
    assert sites["tangan-cure.test"]["tips"] == [tip_id]
    assert "kangjian-pharmacy.test" not in sites  # the licensed pharmacy stays unflagged
    csv_report = pharmwatch("report", "daily", "--format", "csv")
    assert csv_report.stdout.splitlines()[0].endswith(",reached_through,tips")
    assert f"tips: #{tip_id}" in pharmwatch("report", "daily").stdout

    nothing = pharmwatch("scan", "--no-search")  # the tip is done; no watchlist: nothing left to scan
    assert nothing.returncode == 2 and "nothing to scan" in nothing.stderr
    with session_factory(make_engine(database_url(home)))() as session:
        scanned_events = session.scalars(select(AuditEvent).where(AuditEvent.action == "tip_scanned")).all()
        assert [(e.subject, e.details["scan_run_id"]) for e in scanned_events] == [(f"tip:{tip_id}", 2)]

    # A tip whose page is gone: the scan captures nothing it can use, says so, and the tip says why.
    gone = int(pharmwatch("tip", "add", "http://kangjian-pharmacy.test/no-such-page", "--source", "12315").stdout)
    failed = pharmwatch("scan", "--no-search")
    assert failed.returncode == 5, failed.stdout + failed.stderr
    assert "captured too little: captured 0 of 1 pages (nothing)" in failed.stderr
    tips = {t["id"]: t for t in json.loads(pharmwatch("tip", "list", "--format", "json").stdout)}
    assert tips[gone]["outcome"] == "failed: HTTP 404"
    assert tips[tip_id]["outcome"].startswith("HTTP 200, risk ")
    assert "failed: HTTP 404" in pharmwatch("tip", "list").stdout


# --- on the production database -----------------------------------------------------------------

@pytest.mark.slow
def test_tips_migrate_store_and_stay_unique_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from sqlalchemy import func, text

    from cases.tips import add_tip, import_tips
    from storage import db
    from storage.models import Tip

    with db.make_engine(postgres_url).begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(postgres_url)
    longest = "http://example.com/" + "药" * ((MAX_URL_LENGTH - 19) // 9)  # 9 characters once percent-encoded
    source = "省市场监管局12345热线转办" * 7  # the longest source (100 characters, 3 bytes each)
    sessions = db.session_factory(db.make_engine(postgres_url))
    for _ in range(2):
        with db.transaction(sessions) as session:
            add_tip(session, longest, source=source[:100], submitted_by="监测员小王")
    tips = tmp_path / "tips.csv"
    tips.write_text("\n".join(GOOD_ROWS) + "\n", encoding="utf-8")
    for _ in range(2):
        with db.transaction(sessions) as session:
            import_tips(session, tips, submitted_by="监测员小王")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Tip)) == 3
        assert len(session.scalars(select(Tip.url)).first() or "") <= MAX_URL_LENGTH
