"""The package's manifest files and layout: `datapackage.json` and the signed `datapackage-digest.json`.

Owns their exact byte form (builder and verifier share `dumps`, so a verifier can demand that
the digest file is byte-identical to what a builder would write), the member names, and what
the installation key signs.

Signing follows WACZ Signing and Verification 0.1.0, "anonymous signature" form, with one
deviation: the key is Ed25519, not ECDSA (see `sign_digest`). The RFC 3161 token sits beside
`signedData` as a top-level `timestamp` object, since the anonymous form admits no extra
properties and the domain form needs a TLS certificate for a domain we do not have.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

from cases.evidence.keys import KeyPair

WACZ_VERSION = "1.1.1"
WACZ_AUTH_VERSION = "0.1.0"  # signedData format version ("version" in the WACZ signing spec)
# WACZ signing spec: the signed `created` must lie within 10 minutes of the timestamp's time.
MAX_TIMESTAMP_SKEW = timedelta(minutes=10)
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"

ARCHIVE = "archive/data.warc.gz"
INDEX = "indexes/index.cdx"
PAGES = "pages/pages.jsonl"
REPORT_HTML = "report/report.html"
REPORT_PDF = "report/report.pdf"
FINDINGS = "evidence/findings.json"
CUSTODY = "evidence/custody.json"
PUBLIC_KEY = "evidence/signing-key.pub.pem"
SCREENSHOT_DIR = "report"  # screenshots sit beside report.html, which shows them by relative path


def screenshot_member(sha256: str) -> str:
    return f"{SCREENSHOT_DIR}/screenshot-{sha256}.png"


def ocr_image_member(sha256: str, extension: str) -> str:
    """Where an image a finding was read in (OCR) is kept: its original bytes, beside report.html."""
    return f"{SCREENSHOT_DIR}/image-{sha256}.{extension}"


def outlined_member(name: str) -> str:
    """Where a derived rendering of such an image, with the matched lines outlined, is kept."""
    return f"{SCREENSHOT_DIR}/{name}"


def result_page_member(sha256: str) -> str:
    """Where a search result page that led to the site is kept (its raw HTML, by SHA-256)."""
    return f"search/{sha256}.html"


def software() -> str:
    try:
        version = metadata.version("pharmwatch")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"pharmwatch {version}"


def wacz_time(moment: datetime) -> str:
    """RFC 3339 to the second, `Z` for UTC: the form py-wacz writes and compares `created` in."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(value: Any) -> bytes:
    """The one JSON byte form of every JSON file in a package: indented, UTF-8, trailing newline."""
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def sha256_tag(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def resource(path: str, size: int, sha256_hex: str) -> dict[str, Any]:
    # Frictionless names must be lower-case [-a-z0-9._/] and unique: the path itself qualifies.
    return {"name": path.lower(), "path": path, "hash": f"sha256:{sha256_hex}", "bytes": size}


def datapackage(resources: list[dict[str, Any]], *, created: str, title: str, description: str,
                main_page: tuple[str, str] | None, extra: dict[str, Any]) -> bytes:
    package: dict[str, Any] = {
        "profile": "data-package",
        "wacz_version": WACZ_VERSION,
        "title": title,
        "description": description,
        "created": created,
        "software": software(),
    }
    if main_page:
        package["mainPageURL"], package["mainPageDate"] = main_page
    package.update(extra)
    package["resources"] = resources
    return dumps(package)


def signed_message(hash_tag: str) -> bytes:
    """What the key signs: the `hash` string itself (`sha256:<hex>`, ASCII), as WACZ signers do."""
    return hash_tag.encode("ascii")


def sign_digest(datapackage_bytes: bytes, *, keys: KeyPair, created: str) -> dict[str, Any]:
    """The `signedData` object. Deviation from the spec: `publicKey` is the base64 SubjectPublicKeyInfo
    of an Ed25519 key (the spec says ECDSA) and `signature` is a 64-byte Ed25519 signature.
    Ed25519 because it has no nonce to get wrong, short keys and deterministic signatures."""
    hash_tag = sha256_tag(datapackage_bytes)
    return {
        "hash": hash_tag,
        "created": created,
        "software": software(),
        "version": WACZ_AUTH_VERSION,
        "signature": base64.b64encode(keys.sign(signed_message(hash_tag))).decode("ascii"),
        "publicKey": base64.b64encode(keys.public_der()).decode("ascii"),
    }


def digest_document(datapackage_bytes: bytes, signed_data: dict[str, Any],
                    timestamp: dict[str, str] | None) -> bytes:
    document: dict[str, Any] = {"path": DATAPACKAGE, "hash": sha256_tag(datapackage_bytes), "signedData": signed_data}
    if timestamp is not None:
        document["timestamp"] = timestamp
    return dumps(document)


def timestamp_object(token: bytes, certificates_pem: str) -> dict[str, str]:
    """The RFC 3161 token over SHA-256(datapackage.json), and the certificates it carries (as PEM, for
    `openssl ts -verify`): both derived from the token, so nothing in it is taken on trust."""
    return {"token": base64.b64encode(token).decode("ascii"), "certificates": certificates_pem}
