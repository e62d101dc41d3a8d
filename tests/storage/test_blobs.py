"""The evidence blob store: content-addressed, stored once, verifiable."""

from __future__ import annotations

import hashlib
from pathlib import Path

from storage.blobs import BlobStore


def test_bytes_are_stored_under_their_sha256_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = "根治糖尿病".encode()
    first, second = store.put(data, ".txt"), store.put(data, ".txt")
    assert first == second == hashlib.sha256(data).hexdigest()
    assert store.get(first, ".txt") == data
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_changed_blob_no_longer_verifies(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"evidence")
    assert store.verify(sha)
    store.path(sha).write_bytes(b"evidencE")
    assert not store.verify(sha)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    for i in range(5):
        store.put(bytes([i]) * 100)
    assert not [p for p in tmp_path.rglob(".tmp-*")]
