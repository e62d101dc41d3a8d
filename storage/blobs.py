"""Content-addressed evidence store: bytes kept once under their SHA-256, never in the database."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    """Files at `<root>/<aa>/<bb>/<sha256><suffix>`; identical bytes are stored once.

    The suffix (".png", ".html", ".txt") only helps people open files; the hash alone is the key.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # Folders known to exist: a scan puts three or four blobs a page, and asking the file system to
        # create existing folders again cost more than writing the blob (bench/static_crawl.py --profile).
        self._folders: set[Path] = set()

    def path(self, sha256: str, suffix: str = "") -> Path:
        return self.root / sha256[:2] / sha256[2:4] / f"{sha256}{suffix}"

    def put(self, data: bytes, suffix: str = "") -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256, suffix)
        if target.exists():
            return sha256
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(self._folders) < 65_536:  # every <aa>/<bb> folder there can be
                self._folders.add(target.parent)
        # Write then rename, so a killed process never leaves a half-written blob under a valid name.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha256

    def get(self, sha256: str, suffix: str = "") -> bytes:
        return self.path(sha256, suffix).read_bytes()

    def verify(self, sha256: str, suffix: str = "") -> bool:
        """True when the stored bytes still hash to their name."""
        return hashlib.sha256(self.get(sha256, suffix)).hexdigest() == sha256
