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
