"""The admin's view of the rule packs (`/rules`): each pack with its rules, versions, digest and counts, the
`rules lint` result, and the second-opinion model's training corpus against the corpus of this checkout.

Reads `rules/` only (what `pharmwatch rules list` and `rules lint` read). Loading and linting every pack
takes a second or two, so the view is kept per pack digest (the digest covers every file the rules are
read from), the corpus digest and the model file's time: editing a pack or retraining makes the next request
build it again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rules.classifier import MODEL_PATH, ModelFileError, load_model
from rules.corpus import ITEMS, corpus_digest
from rules.lint import lint_packs
from rules.loader import BUNDLED_PACKS, discover, load_rules, pack_digest
from rules.model import RulePackError


@dataclass
class RuleRow:
    id: str
    version: int
    status: str
    severity: str
    category: str
    title_zh: str
    title_en: str
    file: str
    sha256: str


@dataclass
class Pack:
    """One pack: a folder of rule files under a configured path (a lone file is a pack of its own)."""

    name: str
    root: str
    files: int
    digest: str  # SHA-256 over its files' names and contents, as the whole set's digest is built
    rules: list[RuleRow] = field(default_factory=list)
    by_severity: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class ModelState:
    """The second-opinion model: what it was trained on, and whether that is this checkout's corpus."""

    path: str
    sha256: str
    trained_on: str  # corpus SHA-256 recorded in the model
    items: Any
    trained_with: str
    corpus: str | None  # this checkout's corpus SHA-256 (None: no corpus here)
    matches: bool | None  # None when there is no corpus to compare with
    error: str | None = None


@dataclass
class RulePacksView:
    digest: str
    bundled: bool
    rule_count: int
    packs: list[Pack]
    load_error: str | None  # the packs do not load: the file:line reasons (scans refuse to start)
    lint: list[str]  # `rules lint` problems, file:line: reason
    model: ModelState | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_cache: dict[tuple[tuple[str, ...], str, str, str], RulePacksView] = {}
_lock = threading.Lock()


def rule_packs_view(paths: Sequence[Path]) -> RulePacksView:
    """The view of the packs under `paths` (empty: the bundled packs), built once per pack digest."""
    given = [Path(p) for p in paths] or None
    files, _ = discover(given)
    digest = pack_digest(files)
    key = (tuple(str(p) for p in paths), digest, _corpus_digest() or "", _model_stamp())
    with _lock:
        if key not in _cache:
            _cache.clear()  # one configuration per server: only the newest state is worth keeping
            _cache[key] = _build(given, files, digest)
        return _cache[key]


def _corpus_digest() -> str | None:
    return corpus_digest(ITEMS) if ITEMS.is_dir() and any(ITEMS.glob("*.yaml")) else None


def _model_stamp() -> str:
    """When the model file last changed (a retrained model makes the view again)."""
    try:
        stat = MODEL_PATH.stat()
    except OSError:
        return ""
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def _pack_of(path: Path, name: str, given: list[Path] | None) -> tuple[str, str]:
    """(pack name, root) of a rule file: its first folder under the configured path, or the file itself."""
    roots = [BUNDLED_PACKS] if given is None else given
    root = next((r for r in roots if r.is_dir() and path.is_relative_to(r)), None)
    parts = Path(name).parts
    if root is None or len(parts) == 1:
        return Path(name).stem, str(root or path.parent)
    return parts[0], str(root)


def _build(given: list[Path] | None, files: list[tuple[Path, str]], digest: str) -> RulePacksView:
    packs: dict[tuple[str, str], Pack] = {}
    members: dict[tuple[str, str], list[tuple[Path, str]]] = {}
    for path, name in files:
        key = _pack_of(path, name, given)
        members.setdefault(key, []).append((path, name))
    for (name, root), pack_files in members.items():
        sha = hashlib.sha256()
        for path, relative in sorted(pack_files, key=lambda item: item[1]):
            sha.update(relative.encode() + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
        packs[(name, root)] = Pack(name, root, len(pack_files), sha.hexdigest())
    load_error = None
    rule_count = 0
    try:
        rules, _ = load_rules(given)
    except RulePackError as exc:
        rules, load_error = [], str(exc)
    file_pack = {path: _pack_of(path, name, given) for path, name in files}
    for rule in rules:
        pack = packs[file_pack[rule.path]]
        pack.rules.append(RuleRow(rule.id, rule.version, rule.status, rule.severity, rule.category, rule.title_zh,
                                  rule.title_en, rule.path.name, rule.sha256))
        rule_count += 1
    for pack in packs.values():
        pack.rules.sort(key=lambda r: r.id)
        pack.by_severity = dict(Counter(r.severity for r in pack.rules))
        pack.by_status = dict(Counter(r.status for r in pack.rules))
    lint = [str(problem) for problem in lint_packs(given)]
    return RulePacksView(digest, given is None, rule_count, sorted(packs.values(), key=lambda p: (p.root, p.name)),
                         load_error, lint, _model_state() if given is None else None)


def _model_state() -> ModelState:
    """The bundled model (configured packs get none: `rules.load_ruleset`)."""
    corpus = _corpus_digest()
    try:
        model = load_model(MODEL_PATH)
    except ModelFileError as exc:
        return ModelState(str(MODEL_PATH), "", "", None, "", corpus, None, str(exc))
    meta = model.metadata
    trained_on = str(meta.get("corpus_sha256", ""))
    return ModelState(str(MODEL_PATH.name), model.sha256, trained_on, meta.get("items"),
                      str(meta.get("trained_with", "")), corpus, None if corpus is None else trained_on == corpus)
