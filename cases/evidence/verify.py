"""Verifying an evidence package with nothing but the file: every hash, the signature, the timestamp.

Owns `verify_package`: recompute each member's SHA-256 against `datapackage.json`, find
removed and added members, check `datapackage-digest.json` (hash, Ed25519 signature, optional
RFC 3161 token), the custody chain, and that each capture's WARC still sits byte for byte in
the archive. Every problem names the file it is in. Needs no database and no WeasyPrint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cases.evidence import manifest as m
from cases.evidence.custody import check_custody
from cases.evidence.keys import BadPublicKeyError, fingerprint, load_public_key
from cases.evidence.timestamp import check_token, load_certificates, token_certificates_pem
from cases.evidence.warcs import parse_time

SIGNED_DATA_KEYS = {"hash", "created", "software", "version", "signature", "publicKey"}
DIGEST_KEYS = {"path", "hash", "signedData"}
TIMESTAMP_KEYS = {"token", "certificates"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    file: str  # the member the problem is in (or the package file's name when it is not a ZIP)
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class VerifyReport:
    path: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was established (signer, time); not problems
    files_checked: int = 0
    key_fingerprint: str | None = None
    signer_trusted: bool = False  # the signer was compared with a trusted key or fingerprint, and matched
    created: str | None = None
    timestamp: datetime | None = None

    @property
    def ok(self) -> bool:
        """Every byte is as signed. Says nothing of who signed: see `origin`."""
        return not self.problems

    @property
    def origin(self) -> str:
        """`trusted` (the signer is the key or fingerprint handed in), `unchecked` (none was handed in:
        anyone could have re-signed the package) or `failed` (problems; see them)."""
        if self.problems:
            return "failed"
        return "trusted" if self.signer_trusted else "unchecked"

    def files_with_problems(self) -> list[str]:
        return sorted({p.file for p in self.problems})

    def add(self, file: str, message: str) -> None:
        self.problems.append(Problem(file, message))

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "origin": self.origin, "files_checked": self.files_checked,
                "key_fingerprint": self.key_fingerprint, "created": self.created,
                "timestamp": self.timestamp.isoformat() if self.timestamp else None,
                "problems": [{"file": p.file, "message": p.message} for p in self.problems], "notes": self.notes}

    def lines(self) -> list[str]:
        """Human output: `OK` (or `ORIGIN UNCHECKED`) and what was established, or one line per problem."""
        if self.ok and self.signer_trusted:
            return [f"OK {self.path.name}: {self.files_checked} files match datapackage.json, "
                    f"signed by the trusted key {self.key_fingerprint}", *self.notes]
        if self.ok:
            return [f"ORIGIN UNCHECKED {self.path.name}: {self.files_checked} files match datapackage.json and its "
                    f"signature, but the signer {self.key_fingerprint} was not compared with a trusted key: anyone "
                    "who changed the package could have signed it again. Compare it with the exporting office's "
                    "published fingerprint (`pharmwatch keys show` there), or pass --fingerprint or --key.",
                    *self.notes]
        return [f"FAILED {self.path.name}: {len(self.problems)} problem(s)", *(str(p) for p in self.problems)]


def verify_package(path: Path, *, trusted_key: bytes | None = None, trusted_fingerprint: str | None = None,
                   trusted_tsa_roots: bytes | None = None) -> VerifyReport:
    """Check a package; `trusted_key` (PEM, DER or raw Ed25519) or `trusted_fingerprint`
    (`sha256:<hex>`, as `pharmwatch keys show` prints) must then be the signer, and
    `trusted_tsa_roots` (PEM) must then anchor the timestamp. The report lists every problem."""
    path = Path(path)
    report = VerifyReport(path=path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add(path.name, f"not a readable WACZ/ZIP file: {exc}")
        return report
    with zf:
        names = [info.filename for info in zf.infolist()]
        for name in sorted({n for n in names if names.count(n) > 1}):
            report.add(name, "appears more than once in the ZIP")
        datapackage_bytes = _read(zf, m.DATAPACKAGE, report)
        digest_bytes = _read(zf, m.DIGEST, report)
        if datapackage_bytes is None:
            return report
        package = _parse_datapackage(datapackage_bytes, report)
        if package is None:
            return report
        listed = _check_resources(zf, package["resources"], set(names), report)
        for name in names:
            if name not in listed and name not in (m.DATAPACKAGE, m.DIGEST):
                report.add(name, "added: not listed in datapackage.json")
        if digest_bytes is not None:
            roots = load_certificates(trusted_tsa_roots) if trusted_tsa_roots else None
            check_digest(digest_bytes, datapackage_bytes, package, report, zf=zf, trusted_key=trusted_key,
                         trusted_fingerprint=trusted_fingerprint, trusted_tsa_roots=roots)
        _check_custody(zf, listed, report)
        _check_segments(zf, listed, report)
    return report


def _read(zf: zipfile.ZipFile, name: str, report: VerifyReport) -> bytes | None:
    try:
        return zf.read(name)
    except KeyError:
        report.add(name, "removed: missing from the package")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        report.add(name, f"damaged: cannot be read ({exc})")
    return None


def _parse_datapackage(data: bytes, report: VerifyReport) -> dict[str, Any] | None:
    try:
        package = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add(m.DATAPACKAGE, f"changed: not valid JSON any more ({exc})")
        return None
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        report.add(m.DATAPACKAGE, "changed: has no list of resources")
        return None
    if package.get("profile") != "data-package" or package.get("wacz_version") != m.WACZ_VERSION:
        report.add(m.DATAPACKAGE, f"not a WACZ {m.WACZ_VERSION} data package (profile/wacz_version)")
    report.created = package.get("created") if isinstance(package.get("created"), str) else None
    return package


def _check_resources(zf: zipfile.ZipFile, resources: list[Any], present: set[str], report: VerifyReport) -> set[str]:
    listed: set[str] = set()
    for entry in resources:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            report.add(m.DATAPACKAGE, f"changed: malformed resource entry {entry!r}")
            continue
        name, expected = entry["path"], entry.get("hash")
        if name in listed:
            report.add(m.DATAPACKAGE, f"lists {name} twice")
        listed.add(name)
        if not isinstance(expected, str) or not expected.startswith("sha256:"):
            report.add(m.DATAPACKAGE, f"changed: {name} has no sha256 hash")
            continue
        if name not in present:
            report.add(name, "removed: listed in datapackage.json but not in the package")
            continue
        report.files_checked += 1
        try:
            with zf.open(name) as handle:
                digest, size = hashlib.sha256(), 0
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            report.add(name, f"damaged: cannot be read ({exc})")
            continue
        actual = "sha256:" + digest.hexdigest()
        if actual != expected:
            report.add(name, f"changed: SHA-256 is {actual[7:]}, datapackage.json says {expected[7:]}")
        elif entry.get("bytes") != size:
            report.add(name, f"changed: {size} bytes, datapackage.json says {entry.get('bytes')}")
    return listed


def _b64(value: Any) -> bytes | None:
    """Strict base64: the decoded bytes only when re-encoding gives back exactly the same text."""
    if not isinstance(value, str):
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == value else None


def check_digest(digest_bytes: bytes, datapackage_bytes: bytes, package: dict[str, Any], report: VerifyReport, *,
                 zf: zipfile.ZipFile | None = None, trusted_key: bytes | None = None,
                 trusted_fingerprint: str | None = None,
                 trusted_tsa_roots: list[x509.Certificate] | None = None) -> None:
    """Check `datapackage-digest.json` against `datapackage.json`: hash, signature, timestamp.

    The digest file must be byte-identical to what the builder writes for its content, so that no
    byte of it (whitespace, unsigned metadata) can change unnoticed.
    """
    name = m.DIGEST
    try:
        digest = json.loads(digest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add(name, f"changed: not valid JSON any more ({exc})")
        return
    if not isinstance(digest, dict):
        report.add(name, "changed: not a JSON object")
        return
    if m.dumps(digest) != digest_bytes:
        report.add(name, "changed: not byte-identical to its canonical form (edited by hand or by a tool)")
    odd = (set(digest) - DIGEST_KEYS - {"timestamp"}) | (DIGEST_KEYS - set(digest))
    if odd:
        report.add(name, f"changed: unexpected or missing properties {sorted(odd)}")
    if digest.get("path") != m.DATAPACKAGE:
        report.add(name, f"changed: path is {digest.get('path')!r}, not datapackage.json")
    actual = m.sha256_tag(datapackage_bytes)
    signed = digest.get("signedData")
    if digest.get("hash") != actual:
        if isinstance(signed, dict) and signed.get("hash") == actual:
            report.add(name, "changed: its hash no longer matches datapackage.json (the signed hash still does)")
        else:
            report.add(m.DATAPACKAGE, f"changed: SHA-256 is {actual[7:]}, datapackage-digest.json says "
                                      f"{str(digest.get('hash'))[7:]}")
    if not isinstance(signed, dict):
        report.add(name, "unsigned: no signedData")
        return
    key = _check_signed_data(signed, digest, package, report)
    if key is not None:
        _check_keys(key, zf, trusted_key, trusted_fingerprint, report)
    ours = package.get("pharmwatch")
    declared = ours.get("timestamp_authority") if isinstance(ours, dict) else None
    if "timestamp" in digest:
        if not declared:
            report.add(name, "changed: carries a timestamp that datapackage.json does not declare")
        _check_timestamp(digest["timestamp"], datapackage_bytes, signed, report, trusted_tsa_roots)
    elif declared:
        report.add(name, f"changed: the timestamp from {declared} that datapackage.json declares is missing")
    elif trusted_tsa_roots:
        report.add(name, "has no timestamp, but trusted timestamp roots were given")


def _check_signed_data(signed: dict[str, Any], digest: dict[str, Any], package: dict[str, Any],
                       report: VerifyReport) -> Ed25519PublicKey | None:
    name = m.DIGEST
    if set(signed) != SIGNED_DATA_KEYS:
        report.add(name, f"changed: signedData properties are {sorted(signed)}, expected {sorted(SIGNED_DATA_KEYS)}")
    if signed.get("hash") != digest.get("hash"):
        report.add(name, "changed: signedData.hash differs from hash")
    # `created` and `software` are not under the signature; they are bound by being equal to
    # datapackage.json's, whose bytes are.
    if signed.get("created") != package.get("created"):
        report.add(name, "changed: signedData.created differs from datapackage.json's created")
    if signed.get("software") != package.get("software"):
        report.add(name, "changed: signedData.software differs from datapackage.json's software")
    if signed.get("version") != m.WACZ_AUTH_VERSION:
        report.add(name, f"changed: signedData.version is {signed.get('version')!r}, not {m.WACZ_AUTH_VERSION}")
    signature, key_der = _b64(signed.get("signature")), _b64(signed.get("publicKey"))
    if signature is None or key_der is None:
        report.add(name, "changed: signature or publicKey is not valid base64")
        return None
    try:
        key = load_public_key(key_der)
    except BadPublicKeyError as exc:
        report.add(name, f"changed: publicKey is {exc}")
        return None
    report.key_fingerprint = fingerprint(key)
    try:
        key.verify(signature, m.signed_message(str(signed.get("hash"))))
    except InvalidSignature:
        report.add(name, f"signature does not verify with the package's public key {report.key_fingerprint}: "
                         "signed by another key, or the hash or signature was changed")
        return key
    report.notes.append(f"signature: valid, Ed25519 key {report.key_fingerprint}, created {signed.get('created')}")
    return key


def _check_keys(key: Ed25519PublicKey, zf: zipfile.ZipFile | None, trusted_key: bytes | None,
                trusted_fingerprint: str | None, report: VerifyReport) -> None:
    package_fp = fingerprint(key)
    if zf is not None and m.PUBLIC_KEY in zf.namelist():
        try:
            exported = load_public_key(zf.read(m.PUBLIC_KEY))
            if fingerprint(exported) != package_fp:
                report.add(m.PUBLIC_KEY, f"is key {fingerprint(exported)}, but the package was signed by {package_fp}")
        except (BadPublicKeyError, zipfile.BadZipFile, zlib.error, OSError) as exc:
            report.add(m.PUBLIC_KEY, f"changed: not a readable public key ({exc})")
    trusted: list[str] = []
    if trusted_key is not None:
        try:
            trusted.append(fingerprint(load_public_key(trusted_key)))
        except BadPublicKeyError as exc:
            report.add(m.DIGEST, f"the trusted key handed in cannot be read: {exc}")
            return
    if trusted_fingerprint is not None:
        normalised = normalise_fingerprint(trusted_fingerprint)
        if normalised is None:
            report.add(m.DIGEST, f"the trusted fingerprint handed in is not sha256:<64 hex digits>: "
                                 f"{trusted_fingerprint!r}")
            return
        trusted.append(normalised)
    if not trusted:
        report.notes.append(f"signer not compared with a trusted key: check that {package_fp} is the "
                            "exporting installation's published fingerprint")
        return
    for trusted_fp in trusted:
        if trusted_fp != package_fp:
            report.add(m.DIGEST, f"signed by another key: {package_fp}, not the trusted key {trusted_fp}")
            return
    report.signer_trusted = True
    report.notes.append(f"signer is the trusted key {package_fp}")


def normalise_fingerprint(text: str) -> str | None:
    """`sha256:<hex>` from what a person may paste (upper case, colons or spaces between bytes), or None."""
    body = text.strip().lower().removeprefix("sha256:").replace(":", "").replace(" ", "")
    return f"sha256:{body}" if len(body) == 64 and all(c in "0123456789abcdef" for c in body) else None


def _check_timestamp(value: Any, datapackage_bytes: bytes, signed: dict[str, Any], report: VerifyReport,
                     trusted_roots: list[x509.Certificate] | None) -> None:
    name = m.DIGEST
    if not isinstance(value, dict) or set(value) != TIMESTAMP_KEYS:
        report.add(name, f"changed: timestamp must hold exactly {sorted(TIMESTAMP_KEYS)}")
        return
    token = _b64(value.get("token"))
    if token is None:
        report.add(name, "changed: timestamp.token is not valid base64")
        return
    check = check_token(token, hashlib.sha256(datapackage_bytes).digest(), trusted_roots=trusted_roots)
    for problem in check.problems:
        report.add(name, problem)
    if check.problems:
        return
    if value.get("certificates") != token_certificates_pem(token):
        report.add(name, "changed: timestamp.certificates are not the certificates carried in the token")
    report.timestamp = check.gen_time
    created = signed.get("created")
    if isinstance(created, str) and check.gen_time is not None:
        try:
            skew = abs(parse_time(created) - check.gen_time)
        except ValueError:
            skew = m.MAX_TIMESTAMP_SKEW * 2
        if skew > m.MAX_TIMESTAMP_SKEW:
            report.add(name, f"timestamp time {check.gen_time.isoformat()} is {skew} away from created {created}")
    trust = "trusted root" if check.root_trusted else "root not independently trusted; compare it with the TSA's"
    report.notes.append(f"timestamp: {check.gen_time.isoformat() if check.gen_time else '?'} by {check.tsa_subject}; "
                        f"{trust}: {check.root_subject} {check.root_fingerprint}")


def _check_custody(zf: zipfile.ZipFile, listed: set[str], report: VerifyReport) -> None:
    if m.CUSTODY not in listed or m.CUSTODY not in zf.namelist():
        return
    try:
        document = json.loads(zf.read(m.CUSTODY).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.add(m.CUSTODY, f"not readable JSON ({exc})")
        return
    for problem in check_custody(document):
        report.add(m.CUSTODY, problem)


def _check_segments(zf: zipfile.ZipFile, listed: set[str], report: VerifyReport) -> None:
    """Each capture's WARC must still hash to its own SHA-256 at its place in the archive: this ties
    the package to the capture records (`Capture.warc_sha256`) in the exporting database."""
    if not {m.FINDINGS, m.ARCHIVE} <= listed or not {m.FINDINGS, m.ARCHIVE} <= set(zf.namelist()):
        return
    try:
        captures = json.loads(zf.read(m.FINDINGS).decode("utf-8")).get("captures") or []
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, zipfile.BadZipFile, zlib.error, OSError):
        return  # already reported as a changed or damaged findings.json
    try:
        with zf.open(m.ARCHIVE) as archive:
            for capture in captures:
                warc = capture.get("warc") if isinstance(capture, dict) else None
                if not isinstance(warc, dict) or not isinstance(warc.get("offset"), int):
                    continue
                archive.seek(warc["offset"])
                data = archive.read(int(warc.get("length") or 0))
                if hashlib.sha256(data).hexdigest() != warc.get("sha256"):
                    report.add(m.ARCHIVE, f"capture {capture.get('capture_id')} ({capture.get('url')}): bytes "
                                          f"{warc['offset']}–{warc['offset'] + len(data)} no longer hash to its "
                                          f"WARC SHA-256 {warc.get('sha256')}")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
        return  # already reported as damaged
