"""Evidence packages: signed WACZ files a supervisor hands over, and their verification.

`keys` (the installation's Ed25519 key), `package` (build), `verify` (check with nothing but the
file), `manifest` (datapackage.json and the signed digest), `warcs` (archive and index),
`report` (Chinese HTML/PDF), `custody` (chain of custody), `timestamp` (RFC 3161).
"""

from __future__ import annotations

from cases.evidence.keys import KeyExistsError, KeyMissingError, KeyPair, init_keys, load_keys, load_public_key
from cases.evidence.package import PackagedFile, PackageSummary, PageEntry, build_package
from cases.evidence.report import highlights_from_spans
from cases.evidence.timestamp import TimestampError
from cases.evidence.verify import Problem, VerifyReport, verify_package

__all__ = [
    "KeyExistsError", "KeyMissingError", "KeyPair", "PackageSummary", "PackagedFile", "PageEntry", "Problem",
    "TimestampError", "VerifyReport", "build_package", "highlights_from_spans", "init_keys", "load_keys",
    "load_public_key", "verify_package",
]
