"""Settings: defaults, one TOML file, environment overrides, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pharmwatch.config import SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pharmwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_give_sqlite_under_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={"PHARMWATCH_HOME": str(tmp_path)})
    assert settings.db_url == f"sqlite:///{tmp_path.resolve() / 'pharmwatch.db'}"
    assert settings.blob_dir == tmp_path.resolve() / "blobs"
    assert settings.crawl.obey_robots_txt is False and settings.search.query_sets


def test_the_settings_file_in_the_data_folder_is_read_without_being_named(tmp_path: Path) -> None:
    write(tmp_path, '[crawl]\nmax_depth = 5\n')
    assert load_settings(environ={"PHARMWATCH_HOME": str(tmp_path)}).crawl.max_depth == 5


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'database_url = "sqlite:////tmp/a.db"\n[crawl]\nproxy = "http://a:1"\n')
    settings = load_settings(path, environ={
        "PHARMWATCH_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "PHARMWATCH_CRAWL__PROXY": "http://127.0.0.1:9",
        "PHARMWATCH_CRAWL__MAX_DEPTH": "4",
        "PHARMWATCH_SEARCH__ENGINES": '["mock"]',
    })
    assert settings.db_url == "postgresql+psycopg://u@h/db"
    assert settings.crawl.proxy == "http://127.0.0.1:9"
    assert settings.crawl.max_depth == 4
    assert settings.search.engines == ["mock"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[crawl]\nprocy = 'x'\n", "did you mean 'proxy'"),
        ("watchlst = []\n", "did you mean 'watchlist'"),
        ("[crawl]\nmax_depth = 'two'\n", "expected a whole number"),
        ("[crawl]\nconcurrency = 0\n", "concurrency must be at least 1"),
        ("[search]\nengines = 'mock'\n", "expected a list of str"),
        ("[crawl]\nproxy = 'socks://x'\n", "proxy must be an http:// URL"),
        ("[crawl\n", "not valid TOML"),
        ("[schedule]\nnightly = 'at two'\n", "[schedule] nightly: 'at two' is not a 5-field cron"),
        ("[search]\nquery_sets = [{name = 'gout', queries = ['x'], schedule = '61 * * * *'}]\n",
         "query_sets[0] (gout) schedule: '61 * * * *' is not a 5-field cron"),
        ("[crawl]\nretry_after_times = -1\n", "retry_after_times must not be negative"),
    ],
)
def test_a_bad_setting_is_refused_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as error:
        load_settings(path, environ={})
    assert message in str(error.value) and str(path) in str(error.value)


def test_an_unknown_environment_section_is_refused() -> None:
    with pytest.raises(SettingsError, match="PHARMWATCH_CRAWLER__PROXY"):
        load_settings(environ={"PHARMWATCH_CRAWLER__PROXY": "x"})


def test_the_demo_settings_file_is_valid_and_watches_every_demo_site() -> None:
    from demo.server import load_manifest

    settings = load_settings(Path("demo/pharmwatch.toml"), environ={})
    assert {f"http://{s.domain}/" for s in load_manifest()} <= set(settings.watchlist)


def test_query_sets_give_a_search_plan_per_engine_without_repeats(tmp_path: Path) -> None:
    path = write(tmp_path, """
[search]
engines = ["baidu", "sogou"]
pages_per_query = 2
queries = ["降糖药"]
query_sets = [
  {name = "diabetes", queries = ["降糖药", "根治糖尿病"], pages = 3},
  {name = "rogue_en", queries = ["buy viagra online"], engines = ["bing"]},
]
""")
    plan = load_settings(path, environ={}).search.plan()
    assert sorted(plan) == sorted([
        ("baidu", "降糖药", 3), ("sogou", "降糖药", 3), ("baidu", "根治糖尿病", 3), ("sogou", "根治糖尿病", 3),
        ("bing", "buy viagra online", 2),
    ])


def test_the_default_plan_covers_the_six_focus_diseases_and_the_ban_list(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[search]\nengines = ["baidu"]\n'), environ={})
    names = {s.name for s in settings.search.query_sets}
    assert {"diabetes", "hypertension", "kidney", "rheumatism", "gout", "sexual_dysfunction",
            "online_sale_ban"} <= names
    assert len(settings.search.plan()) == sum(len(s.queries) for s in settings.search.query_sets)


def test_a_bad_query_set_names_the_table_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[search]\nquery_sets = [{name = "x", querys = ["a"]}]\n')
    with pytest.raises(SettingsError, match=r"query_sets\[0\].*did you mean 'queries'"):
        load_settings(path, environ={})


def test_per_engine_proxies_delays_and_rendering(tmp_path: Path) -> None:
    path = write(tmp_path, '[search]\nproxies = {baidu = "http://10.1.1.1:3128"}\ndelays = {baidu = 2, google = 5.5}\n'
                           'render = ["google"]\n')
    search = load_settings(path, environ={}).search
    assert search.proxies == {"baidu": "http://10.1.1.1:3128"}
    assert search.delays == {"baidu": 2.0, "google": 5.5} and search.render == ["google"]
    bad = write(tmp_path, '[search]\nproxies = {baidu = "socks5://x"}\n')
    with pytest.raises(SettingsError, match="proxies.baidu must be an http:// URL"):
        load_settings(bad, environ={})
    bad = write(tmp_path, '[search]\ndelays = {baidu = "slow"}\n')
    with pytest.raises(SettingsError, match=r"delays.baidu: expected float"):
        load_settings(bad, environ={})
