"""The hash-chain link shared by the audit log (`storage.audit`) and evidence packages' custody chains
(`cases.evidence.custody`). Imports nothing, not even of ours: a package is verified without the database
layer (`pharmwatch evidence verify` on a machine with only the package), and storage is the bottom layer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: The previous hash of a chain's first link.
GENESIS = "0" * 64


def link_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """One link: SHA-256 over the previous link's hash, a newline, and `body`'s canonical JSON (sorted keys,
    no spaces, non-ASCII as is, UTF-8). Changing or removing a link breaks every later one."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
