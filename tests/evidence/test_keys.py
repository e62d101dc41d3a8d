"""The installation key: created once, private, never silently replaced, readable by openssl."""

from __future__ import annotations

import hashlib
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from cases.evidence.keys import (
    KeyExistsError,
    KeyMissingError,
    init_keys,
    key_paths,
    load_keys,
    load_public_key,
)


def test_init_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    keys = init_keys(tmp_path)
    private, public = key_paths(tmp_path)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    assert public.read_bytes() == keys.public_pem()
    assert load_keys(tmp_path).fingerprint == keys.fingerprint


def test_init_refuses_to_replace_a_key_and_force_keeps_the_old_one(tmp_path: Path) -> None:
    first = init_keys(tmp_path)
    with pytest.raises(KeyExistsError, match="--force"):
        init_keys(tmp_path)
    assert load_keys(tmp_path).fingerprint == first.fingerprint
    second = init_keys(tmp_path, force=True)
    assert second.fingerprint != first.fingerprint
    kept = list((tmp_path / "keys").glob("signing-key.pem.replaced-*"))
    assert len(kept) == 1
    assert load_public_key(serialization.load_pem_private_key(kept[0].read_bytes(), None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)).public_bytes_raw() == \
        first.public_key.public_bytes_raw()


def test_load_without_a_key_names_the_command_that_makes_one(tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError, match="pharmwatch keys init"):
        load_keys(tmp_path)


def test_a_public_key_is_read_from_pem_der_or_raw_bytes(tmp_path: Path) -> None:
    keys = init_keys(tmp_path)
    raw = keys.public_key.public_bytes_raw()
    for form in (keys.public_pem(), keys.public_der(), raw):
        assert load_public_key(form).public_bytes_raw() == raw


def test_the_fingerprint_is_what_openssl_computes(tmp_path: Path) -> None:
    keys = init_keys(tmp_path)
    _, public = key_paths(tmp_path)
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(public), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert keys.fingerprint == "sha256:" + hashlib.sha256(der).hexdigest()
