"""rules.database_cache: compiled automata kept between loads of the same packs, and never trusted blindly."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rules import TextDocument, load_ruleset
from rules.corpus import load_items
from rules.database_cache import MAGIC, read_payload
from rules.loader import BUNDLED_PACKS
from rules.matcher import available_backends

pytestmark = pytest.mark.skipif("hyperscan" not in available_backends(), reason="caches Hyperscan databases")

CLAIM_RULE = "claim:\n  terms: [根治糖尿病, 降血糖]\n  pinyin: true\ncondition: claim"
LOAD_INTO = ("import sys; from pathlib import Path; from rules import load_ruleset; from rules.loader import "
             "BUNDLED_PACKS; load_ruleset([BUNDLED_PACKS], cache_dir=Path(sys.argv[1]))")
TEXTS = ["本品根治糖尿病，三天见效。", "genzhi糖尿病，加微信购买", "降血糖的药，目前没有根治的办法。", "普通的一天"]


def _cache_files(folder: Path) -> dict[str, int]:
    """Cache file name → inode (a file rewritten by os.replace gets a new inode)."""
    return {p.name: p.stat().st_ino for p in folder.glob("*.hsdb")}


def _largest(folder: Path) -> Path:
    """The rule set's own automaton (the scope cues' automata are smaller, and built once per process)."""
    return max(folder.glob("*.hsdb"), key=lambda p: p.stat().st_size)


def _analyses(ruleset, texts=TEXTS):  # type: ignore[no-untyped-def]
    return [ruleset.analyse(TextDocument(text)) for text in texts]


def test_the_bundled_packs_analyse_the_corpus_the_same_from_a_cold_and_a_warm_cache(tmp_path: Path) -> None:
    # Without the learned model (packs named explicitly): the cache concerns the rules' automata only.
    documents = [item.document() for item in load_items()[::7]]
    fresh = load_ruleset([BUNDLED_PACKS])
    cold = load_ruleset([BUNDLED_PACKS], cache_dir=tmp_path)
    written = _cache_files(tmp_path)
    warm = load_ruleset([BUNDLED_PACKS], cache_dir=tmp_path)
    assert written and _cache_files(tmp_path) == written, "the warm load read the files, it did not rewrite them"
    expected = [fresh.analyse(doc) for doc in documents]
    assert any(analysis.findings for analysis in expected)
    assert [cold.analyse(doc) for doc in documents] == expected
    assert [warm.analyse(doc) for doc in documents] == expected


def test_the_cache_files_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    # Sets of terms, pinyin spellings and regexes are put in a fixed order: otherwise each process would
    # compile an automaton of its own key order and never find the one cached before.
    names = []
    for seed in ("1", "2"):
        folder = tmp_path / seed
        subprocess.run([sys.executable, "-c", LOAD_INTO, str(folder)], check=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        names.append(sorted(_cache_files(folder)))
    assert names[0] and names[0] == names[1]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "empty", "another layout", "foreign payload"])
def test_a_damaged_cache_file_is_compiled_again_and_rewritten(write_rule, tmp_path: Path, damage: str) -> None:  # type: ignore[no-untyped-def]
    pack = write_rule(CLAIM_RULE)
    cache = tmp_path / "cache"
    expected = _analyses(load_ruleset([pack]))
    load_ruleset([pack], cache_dir=cache)
    target = _largest(cache)
    intact = target.read_bytes()
    header = len(MAGIC) + 32
    broken = {
        "flipped byte": intact[:-10] + bytes([intact[-10] ^ 0xFF]) + intact[-9:],
        "truncated": intact[: len(intact) // 2],
        "empty": b"",
        "another layout": b"PWHSDB0\n" + intact[len(MAGIC):],
        # Intact by its own checksum, but not a database Hyperscan accepts (another version, another CPU).
        "foreign payload": _framed(b"not a hyperscan database" * 4),
    }[damage]
    assert len(intact) > header and broken != intact
    target.write_bytes(broken)
    assert read_payload(cache, target.stem) is None or damage == "foreign payload"
    assert _analyses(load_ruleset([pack], cache_dir=cache)) == expected
    assert target.read_bytes() == intact, "the file was rewritten from a fresh compile"


def test_a_cache_folder_that_cannot_be_written_only_costs_the_compile(write_rule, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = write_rule(CLAIM_RULE)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("in the way")
    expected = _analyses(load_ruleset([pack]))
    assert _analyses(load_ruleset([pack], cache_dir=not_a_folder)) == expected
    assert not_a_folder.read_text() == "in the way"


def test_changed_packs_get_an_automaton_of_their_own(write_rule, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    first = load_ruleset([write_rule(CLAIM_RULE)], cache_dir=cache)
    before = set(_cache_files(cache))
    changed = load_ruleset([write_rule(CLAIM_RULE.replace("降血糖", "降血压"), name="area_other.yaml",
                                       rule_id="pw-zh-test-rule-002")], cache_dir=cache)
    assert set(_cache_files(cache)) - before, "a new automaton was compiled and stored"
    assert [a.findings != [] for a in _analyses(changed, ["降血压的药"])] == [True]
    assert [a.findings != [] for a in _analyses(first, ["降血压的药"])] == [False]


def _framed(payload: bytes) -> bytes:
    return MAGIC + hashlib.sha256(payload).digest() + payload
