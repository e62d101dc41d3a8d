"""Tests of the engine specs (crawler/serp/engines/*.yaml): loading, validation errors, reloading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from crawler.serp import EngineSpecError, SerpParseError, load_engines
from crawler.serp.spec import ENGINES_DIR


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def mock_spec() -> dict:
    return yaml.safe_load((ENGINES_DIR / "mock.yaml").read_text(encoding="utf-8"))


def test_shipped_engines_load() -> None:
    engines = load_engines()
    assert {"mock", "baidu"} <= set(engines)
    mock = engines["mock"]
    assert mock.hosts == ("search.test",)
    assert mock.results_per_page == 10
    assert mock.source == ENGINES_DIR / "mock.yaml"


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    broken = mock_spec()
    broken["results"]["title"] = "h3 a[["  # bad CSS
    broken["results"]["snippet"] = "//div[@class='c-abstract']"  # absolute XPath inside a result
    broken["results_per_page"] = 0
    broken["colour"] = "red"  # typo-style unknown field
    write(tmp_path, "mock", broken)
    other = mock_spec()
    other["name"] = "other"
    del other["block_markers"]
    write(tmp_path, "other", other)
    with pytest.raises(EngineSpecError) as caught:
        load_engines(tmp_path)
    message = str(caught.value)
    mock_file, other_file = tmp_path / "mock.yaml", tmp_path / "other.yaml"
    assert f"{mock_file}: results.title: invalid CSS selector 'h3 a[['" in message
    assert f"{mock_file}: results.snippet: " in message and "start it with './/'" in message
    assert f"{mock_file}: results_per_page: must be a positive integer, got 0" in message
    assert f"{mock_file}: colour: unknown field" in message
    assert f"{other_file}: block_markers: is required" in message
    assert isinstance(caught.value, SerpParseError)


def test_name_must_match_file(tmp_path: Path) -> None:
    spec = mock_spec()
    spec["name"] = "bing"
    write(tmp_path, "mock", spec)
    with pytest.raises(EngineSpecError, match=r"mock\.yaml: name: 'bing' must match the file name 'mock'"):
        load_engines(tmp_path)


def test_markers_need_a_reason_and_a_condition(tmp_path: Path) -> None:
    spec = mock_spec()
    spec["block_markers"] = [{"selector": "title"}, {"reason": "nothing to check"}]
    write(tmp_path, "mock", spec)
    with pytest.raises(EngineSpecError) as caught:
        load_engines(tmp_path)
    assert "block_markers[0].reason: is required" in str(caught.value)
    assert "block_markers[1]: needs at least one of selector, text, url" in str(caught.value)


def test_search_url_template_is_checked(tmp_path: Path) -> None:
    spec = mock_spec()
    spec["search_url"] = "http://search.test/s?q={q}"
    write(tmp_path, "mock", spec)
    with pytest.raises(EngineSpecError, match=r"search_url: unknown placeholder\(s\) \['q'\]"):
        load_engines(tmp_path)


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "mock.yaml").write_text("name: mock\nresults: [unclosed\n", encoding="utf-8")
    with pytest.raises(EngineSpecError, match=r"mock\.yaml: \(file\): cannot read YAML"):
        load_engines(tmp_path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EngineSpecError, match="no engine specs"):
        load_engines(tmp_path)


def test_a_repaired_file_is_picked_up_without_restart(tmp_path: Path) -> None:
    spec = mock_spec()
    path = write(tmp_path, "mock", spec)
    assert load_engines(tmp_path)["mock"].results_per_page == 10
    spec["results_per_page"] = 20
    write(tmp_path, "mock", spec)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_engines(tmp_path)["mock"].results_per_page == 20


# --- fields added for the real engines ------------------------------------------------------------


def test_real_engines_load_with_their_aliases() -> None:
    engines = load_engines()
    assert set(engines) == {"baidu", "bing", "google", "mock", "so360", "sogou"}
    assert "360" in engines["so360"].aliases
    assert engines["bing"].redirects[0].decode == "base64url"
    assert engines["bing"].redirects[0].strip_prefix == "a1"


def test_new_fields_are_validated(tmp_path: Path) -> None:
    spec = mock_spec()
    spec["aliases"] = ["mock2"]
    spec["search_url"] = "http://search.test/s?wd={query}&first={first}"
    spec["query"]["from_urls"] = ["input[name=continue]::attr(value)"]
    spec["results"]["ignore"] = [".label"]
    spec["redirect_params"] = [{"path": "/ck/a", "param": "u", "decode": "base64url", "strip_prefix": "a1"}]
    write(tmp_path, "mock", spec)
    other = mock_spec()
    other["name"] = "other"
    other["aliases"] = ["mock2", "mock"]
    write(tmp_path, "other", other)
    third = mock_spec()
    third["name"] = "third"
    third["redirect_params"] = [{"path": "/x", "param": "u", "decode": "rot13"}]
    write(tmp_path, "third", third)
    with pytest.raises(EngineSpecError) as caught:
        load_engines(tmp_path)
    message = str(caught.value)
    assert "third.yaml: redirect_params[0].decode: unknown decoder 'rot13'; use one of: plain, base64url" in message
    assert "other.yaml: aliases: 'mock2' is already used by" in message
    assert "other.yaml: aliases: 'mock' is already used by" in message
    assert f"{tmp_path / 'mock.yaml'}:" not in message  # {first}, from_urls, ignore, decode, strip_prefix: valid


def test_unknown_placeholder_names_the_known_ones(tmp_path: Path) -> None:
    spec = mock_spec()
    spec["search_url"] = "http://search.test/s?q={query}&s={start}"
    write(tmp_path, "mock", spec)
    with pytest.raises(EngineSpecError, match=r"use \{query\}, \{page\}, \{offset\}, \{first\}"):
        load_engines(tmp_path)


@pytest.mark.parametrize("name", ["baidu", "sogou", "so360", "bing", "google"])
def test_search_urls_are_real_engine_urls_that_detection_maps_back(name: str) -> None:
    from urllib.parse import urlsplit

    from crawler.serp import build_search_url
    from crawler.serp.parser import detect_engine

    engines = load_engines()
    url = build_search_url(name, "降糖药 特效", 2)
    assert urlsplit(url).scheme == "https"
    assert detect_engine("<html></html>", url, engines).name == name
    assert "%E9%99%8D%E7%B3%96%E8%8D%AF+%E7%89%B9%E6%95%88" in url
