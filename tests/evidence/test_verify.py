"""Verifying a package: it passes as built, and any changed byte, removed or added file, or foreign
signature makes it fail, naming the file."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cases.evidence import KeyPair, PackageSummary, verify_package
from cases.evidence import manifest as m
from cases.evidence.custody import chain_events, check_custody, custody_document
from cases.evidence.verify import VerifyReport, check_digest

ROOT = Path(__file__).resolve().parents[2]


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None],
            extra: dict[str, bytes] | None = None) -> Path:
    """Copy a package member by member (same order and compression), letting `change` replace or drop
    (None) a member's bytes, and appending `extra` members."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return target


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1:]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_package_as_built_verifies(package: PackageSummary, keys: KeyPair) -> None:
    report = verify_package(package.path, trusted_key=keys.public_pem())
    assert report.ok, report.lines()
    assert report.files_checked == len(package.files) - 1  # every member except datapackage.json itself
    assert report.key_fingerprint == keys.fingerprint
    assert report.lines()[0].startswith("OK case-7.wacz")
    assert any("signer is the trusted key" in note for note in report.notes)


def test_every_member_is_known(package: PackageSummary) -> None:
    assert set(members(package.path)) == {f.path for f in package.files} | {m.DIGEST}


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_flipped_byte_in_any_member_is_found_and_named(package: PackageSummary, tmp_path: Path,
                                                         where: str) -> None:
    for name, data in members(package.path).items():
        position = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
        def change(member: str, content: bytes, name: str = name, position: int = position) -> bytes:
            return flip(content, position) if member == name else content

        target = rewrite(package.path, tmp_path / "flipped.wacz", change)
        report = verify_package(target)
        assert not report.ok, f"{name} byte {position} changed unnoticed"
        assert name in report.files_with_problems(), (name, report.lines())


@pytest.mark.slow
def test_every_byte_of_the_signed_digest_matters(stamped: PackageSummary, keys: KeyPair) -> None:
    """The digest file holds what the hashes cannot cover (signature, key, timestamp token): no single
    byte of it may change unnoticed, whatever the byte."""
    files = members(stamped.path)
    digest, datapackage = files[m.DIGEST], files[m.DATAPACKAGE]
    package = json.loads(datapackage)
    baseline = VerifyReport(path=stamped.path)
    check_digest(digest, datapackage, package, baseline, trusted_key=keys.public_pem())
    assert baseline.ok, baseline.lines()
    missed = []
    for position in range(len(digest)):
        report = VerifyReport(path=stamped.path)
        check_digest(flip(digest, position), datapackage, package, report, trusted_key=keys.public_pem())
        if m.DIGEST not in report.files_with_problems():
            missed.append(position)
    assert missed == [], [digest[p - 20:p + 20] for p in missed[:5]]


def test_a_flipped_byte_in_the_zip_file_itself_is_named(package: PackageSummary, tmp_path: Path) -> None:
    data = package.path.read_bytes()
    with zipfile.ZipFile(package.path) as zf:
        info = zf.getinfo(m.ARCHIVE)
    # Local header: 30 bytes + name + extra; the archive is STORED, so its bytes follow as they are.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    target = tmp_path / "raw.wacz"
    target.write_bytes(flip(data, start))
    report = verify_package(target)
    assert not report.ok and m.ARCHIVE in report.files_with_problems(), report.lines()


def test_a_removed_member_is_named(package: PackageSummary, tmp_path: Path) -> None:
    for name in members(package.path):
        def drop(member: str, content: bytes, name: str = name) -> bytes | None:
            return None if member == name else content

        target = rewrite(package.path, tmp_path / "removed.wacz", drop)
        report = verify_package(target)
        assert not report.ok and name in report.files_with_problems(), (name, report.lines())


@pytest.mark.parametrize("added", ["report/notes.txt", "evidence/extra.json", "README", "archive/more.warc.gz"])
def test_an_added_member_is_named(package: PackageSummary, tmp_path: Path, added: str) -> None:
    target = rewrite(package.path, tmp_path / "added.wacz", lambda member, content: content, {added: b"hello"})
    report = verify_package(target)
    assert not report.ok
    assert [p.file for p in report.problems] == [added]
    assert "not listed" in report.problems[0].message


def test_a_signature_by_another_key_is_rejected(package: PackageSummary, keys: KeyPair, other_keys: KeyPair,
                                                tmp_path: Path) -> None:
    # 1. A validly signed package, but not by the key the verifier trusts.
    report = verify_package(package.path, trusted_key=other_keys.public_pem())
    assert not report.ok and report.files_with_problems() == [m.DIGEST]
    assert "signed by another key" in report.problems[0].message

    # 2. Re-signed by another key, everything else (public key, key file) left as it was.
    def resign(keep_public_key: bool) -> Callable[[str, bytes], bytes]:
        def change(member: str, content: bytes) -> bytes:
            if member == m.DIGEST:
                digest = json.loads(content)
                other = m.sign_digest(members(package.path)[m.DATAPACKAGE], keys=other_keys,
                                      created=digest["signedData"]["created"])
                if keep_public_key:
                    other["publicKey"] = digest["signedData"]["publicKey"]
                digest["signedData"] = other
                return m.dumps(digest)
            return content
        return change

    forged = verify_package(rewrite(package.path, tmp_path / "forged.wacz", resign(keep_public_key=True)))
    assert not forged.ok and forged.files_with_problems() == [m.DIGEST]
    assert "does not verify" in forged.problems[0].message

    # 3. Re-signed with the other key's own public key: valid on its face, but it is not the exported key
    #    nor, when one is given, the trusted key.
    swapped = rewrite(package.path, tmp_path / "swapped.wacz", resign(keep_public_key=False))
    alone = verify_package(swapped)
    assert not alone.ok and alone.files_with_problems() == [m.PUBLIC_KEY]
    trusted = verify_package(swapped, trusted_key=keys.public_key.public_bytes_raw())
    assert {m.DIGEST, m.PUBLIC_KEY} == set(trusted.files_with_problems())
    assert any("signed by another key" in p.message for p in trusted.problems)


def test_a_consistently_rewritten_custody_chain_still_fails_the_signature(package: PackageSummary,
                                                                           tmp_path: Path) -> None:
    """Someone removes an event and re-hashes everything but cannot sign: the manifest hash no longer
    matches the signed one."""
    files = members(package.path)
    custody = json.loads(files[m.CUSTODY])
    events: list[dict[str, Any]] = [{**e, "hash": e.get("audit_hash")} for e in custody["events"] if e["seq"] != 4]
    new_custody = m.dumps(custody_document(chain_events(events)))
    datapackage = json.loads(files[m.DATAPACKAGE])
    for entry in datapackage["resources"]:
        if entry["path"] == m.CUSTODY:
            entry["hash"], entry["bytes"] = m.sha256_tag(new_custody), len(new_custody)
    new_datapackage = m.dumps(datapackage)
    digest = json.loads(files[m.DIGEST])
    digest["hash"] = m.sha256_tag(new_datapackage)
    target = rewrite(package.path, tmp_path / "custody.wacz", lambda member, content: {
        m.CUSTODY: new_custody, m.DATAPACKAGE: new_datapackage, m.DIGEST: m.dumps(digest)}.get(member, content))
    report = verify_package(target)
    assert not report.ok and m.DIGEST in report.files_with_problems()


def test_a_damaged_custody_chain_is_named(package: PackageSummary) -> None:
    document = json.loads(members(package.path)[m.CUSTODY])
    document["events"][1]["actor"] = "someone else"
    assert check_custody(document) == ["event 2 (captured capture:12) does not chain"]
    del document["events"][3]
    assert "event 4 is missing or out of order" in check_custody(document)


def test_not_a_zip_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "x.wacz"
    target.write_bytes(b"not a zip")
    report = verify_package(target)
    assert not report.ok and report.files_with_problems() == ["x.wacz"]


def test_a_package_without_its_digest_is_unsigned(package: PackageSummary, tmp_path: Path) -> None:
    target = rewrite(package.path, tmp_path / "unsigned.wacz",
                     lambda member, content: None if member == m.DIGEST else content)
    report = verify_package(target)
    assert [str(p) for p in report.problems] == [f"{m.DIGEST}: removed: missing from the package"]


@pytest.mark.slow
def test_verify_needs_neither_a_database_nor_weasyprint(package: PackageSummary, keys: KeyPair) -> None:
    """On a machine with only the package and pharmwatch: no database, no storage layer, no PDF stack."""
    code = (
        "import sys\n"
        "for blocked in ('sqlalchemy', 'storage', 'weasyprint', 'scrapy', 'playwright'):\n"
        "    sys.modules[blocked] = None\n"
        "from pathlib import Path\n"
        "from cases.evidence.verify import verify_package\n"
        f"report = verify_package(Path({str(package.path)!r}), trusted_key={keys.public_pem()!r})\n"
        "print('\\n'.join(report.lines()))\n"
        "sys.exit(0 if report.ok else 1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK case-7.wacz")


def test_signed_data_is_the_spec_shape_with_an_ed25519_key(package: PackageSummary, keys: KeyPair) -> None:
    signed = json.loads(members(package.path)[m.DIGEST])["signedData"]
    assert base64.b64decode(signed["publicKey"]) == keys.public_der()
    keys.public_key.verify(base64.b64decode(signed["signature"]), signed["hash"].encode())


def test_a_stripped_timestamp_is_noticed(stamped: PackageSummary, tmp_path: Path) -> None:
    def strip(member: str, content: bytes) -> bytes:
        if member != m.DIGEST:
            return content
        digest = json.loads(content)
        del digest["timestamp"]
        return m.dumps(digest)

    report = verify_package(rewrite(stamped.path, tmp_path / "stripped.wacz", strip))
    assert report.files_with_problems() == [m.DIGEST]
    assert "timestamp" in report.problems[0].message and "missing" in report.problems[0].message


def test_without_a_trusted_key_the_origin_is_unchecked_and_says_so(package: PackageSummary) -> None:
    report = verify_package(package.path)
    assert report.ok and report.origin == "unchecked"
    assert report.lines()[0].startswith("ORIGIN UNCHECKED case-7.wacz")
    assert not any(line.startswith("OK") for line in report.lines())
    assert report.to_json()["origin"] == "unchecked"


def test_a_trusted_fingerprint_accepts_the_signer_in_any_pasted_form(package: PackageSummary, keys: KeyPair) -> None:
    pasted = keys.fingerprint.upper().replace("SHA256:", "")
    pasted = ":".join(pasted[i:i + 2] for i in range(0, len(pasted), 2))
    report = verify_package(package.path, trusted_fingerprint=pasted)
    assert report.ok and report.origin == "trusted", report.lines()


def test_a_package_changed_and_signed_again_with_another_key_is_refused(
        package: PackageSummary, keys: KeyPair, tmp_path: Path) -> None:
    from cases.evidence.keys import init_keys

    # What a forger who knows the format does: change a finding, recompute every hash, sign again
    # with a key of their own and put that key's file in the package.
    forger = init_keys(tmp_path / "forger")
    contents = members(package.path)
    assert b'"high"' in contents[m.FINDINGS]
    contents[m.FINDINGS] = contents[m.FINDINGS].replace(b'"high"', b'"low"')
    contents[m.PUBLIC_KEY] = forger.public_pem()
    datapackage = json.loads(contents[m.DATAPACKAGE])
    for entry in datapackage["resources"]:
        data = contents[entry["path"]]
        entry.update(hash=m.sha256_tag(data), bytes=len(data))
    contents[m.DATAPACKAGE] = m.dumps(datapackage)
    signed = m.sign_digest(contents[m.DATAPACKAGE], keys=forger, created=datapackage["created"])
    contents[m.DIGEST] = m.digest_document(contents[m.DATAPACKAGE], signed, None)
    forged = rewrite(package.path, tmp_path / "forged.wacz", lambda member, content: contents[member])
    unchecked = verify_package(forged)
    assert unchecked.ok and unchecked.origin == "unchecked"  # internally consistent: only the origin tells
    for trust in ({"trusted_key": keys.public_pem()}, {"trusted_fingerprint": keys.fingerprint}):
        report = verify_package(forged, **trust)
        assert not report.ok and report.origin == "failed"
        assert any("signed by another key" in p.message for p in report.problems)
