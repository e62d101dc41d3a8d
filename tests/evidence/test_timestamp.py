"""RFC 3161 timestamps from a real authority (`openssl ts -reply` on loopback): requested at export,
checked offline by verify, and accepted by `openssl ts -verify` too."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import tsp

from cases.evidence import KeyPair, PackageSummary, TimestampError, verify_package
from cases.evidence import manifest as m
from cases.evidence.timestamp import _check_tsa_certificate, check_token, load_certificates, request_timestamp
from tests.evidence.conftest import Authority, DemoCase, make_authority_files


def token_of(path: Path) -> tuple[bytes, bytes]:
    with zipfile.ZipFile(path) as zf:
        digest = json.loads(zf.read(m.DIGEST))
        return base64.b64decode(digest["timestamp"]["token"]), zf.read(m.DATAPACKAGE)


def test_export_with_a_tsa_carries_a_token_that_verifies(stamped: PackageSummary, authority: Authority,
                                                         keys: KeyPair) -> None:
    report = verify_package(stamped.path, trusted_key=keys.public_pem(),
                            trusted_tsa_roots=authority.ca_pem.read_bytes())
    assert report.ok, report.lines()
    assert report.timestamp is not None and report.timestamp == stamped.timestamp
    assert any("timestamp:" in note and "CN=PharmWatch Test TSA" in note and "trusted root" in note
               for note in report.notes)
    assert report.created is not None


def test_the_request_asks_for_a_sha256_imprint_a_nonce_and_the_certificate(stamped: PackageSummary,
                                                                            authority: Authority) -> None:
    _, datapackage = token_of(stamped.path)
    requests = [tsp.TimeStampReq.load(r) for r in authority.requests]
    mine = [r for r in requests if r["message_imprint"]["hashed_message"].native
            == hashlib.sha256(datapackage).digest()]
    assert len(mine) == 1
    assert mine[0]["cert_req"].native is True and mine[0]["nonce"].native is not None
    assert mine[0]["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"


def test_openssl_accepts_the_token_over_datapackage_json(stamped: PackageSummary, authority: Authority,
                                                         tmp_path: Path) -> None:
    token, datapackage = token_of(stamped.path)
    (tmp_path / "token.der").write_bytes(token)
    (tmp_path / "datapackage.json").write_bytes(datapackage)
    done = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", "token.der", "-data", "datapackage.json",
                           "-CAfile", str(authority.ca_pem)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stdout + done.stderr


def test_a_timestamp_from_an_untrusted_root_is_reported(stamped: PackageSummary, tmp_path: Path) -> None:
    other = tmp_path / "other-ca"
    other.mkdir()
    make_authority_files(other, name="Someone Else")
    report = verify_package(stamped.path, trusted_tsa_roots=(other / "ca.pem").read_bytes())
    assert not report.ok and report.files_with_problems() == [m.DIGEST]
    assert "not among the trusted timestamp roots" in report.problems[0].message


def test_a_token_for_other_data_does_not_check(stamped: PackageSummary) -> None:
    token, datapackage = token_of(stamped.path)
    assert check_token(token, hashlib.sha256(datapackage).digest()).ok
    other = check_token(token, hashlib.sha256(datapackage + b" ").digest())
    assert other.problems == ["timestamp token is for other data (message imprint differs from the digest)"]


def test_only_a_dedicated_timestamping_certificate_counts(authority: Authority, tmp_path: Path) -> None:
    """RFC 3161 §2.3: the TSA certificate's only extended key usage is timeStamping, marked critical."""
    token = request_timestamp(authority.url, hashlib.sha256(b"x").digest())
    checked = check_token(token, hashlib.sha256(b"x").digest(),
                          trusted_roots=load_certificates(authority.ca_pem.read_bytes()))
    assert checked.ok and checked.root_trusted and checked.gen_time is not None
    assert _check_tsa_certificate(load_certificates(authority.tsa_pem.read_bytes())[0], checked.gen_time) == []
    for eku in ("timeStamping", "critical,timeStamping,serverAuth"):
        folder = tmp_path / eku.replace(",", "-")
        folder.mkdir()
        make_authority_files(folder, name="Lax", eku=eku)
        lax = load_certificates((folder / "tsa.pem").read_bytes())[0]
        assert _check_tsa_certificate(lax, datetime.now(UTC) + timedelta(minutes=5)) == [
            "TSA certificate is not dedicated to timestamping (RFC 3161 §2.3: critical extendedKeyUsage "
            "timeStamping only)"]
    assert "not valid at" in _check_tsa_certificate(load_certificates(authority.tsa_pem.read_bytes())[0],
                                                     checked.gen_time + timedelta(days=30))[0]


def test_an_unreachable_tsa_fails_the_export_and_leaves_no_file(demo: DemoCase, keys: KeyPair,
                                                                 tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TimestampError, match="could not be reached"):
        demo.build(tmp_path / "case.wacz", keys, tsa_url=f"http://127.0.0.1:{port}/tsr", tsa_timeout=5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])  # 0x20 flips letter case: names must match by byte
def test_no_byte_of_a_token_can_change_unnoticed(stamped: PackageSummary, mask: int) -> None:
    """CMS leaves parts of a token outside the signature (certificates, algorithm parameters, versions):
    the checker pins them, so every byte counts."""
    token, datapackage = token_of(stamped.path)
    data_hash = hashlib.sha256(datapackage).digest()
    assert check_token(token, data_hash).ok
    missed = [i for i in range(len(token))
              if check_token(token[:i] + bytes([token[i] ^ mask]) + token[i + 1:], data_hash).ok]
    assert missed == []


def test_a_clock_far_from_the_tsa_fails_the_export(demo: DemoCase, keys: KeyPair, authority: Authority,
                                                   tmp_path: Path) -> None:
    """A package whose `created` is far from the TSA's time would fail verification: refuse to write it."""
    with pytest.raises(TimestampError, match="fix the system clock"):
        demo.build(tmp_path / "case.wacz", keys, tsa_url=authority.url, created=datetime.now(UTC) - timedelta(hours=1))
    assert list(tmp_path.iterdir()) == []
