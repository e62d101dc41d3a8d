"""The installation's signing key: an Ed25519 key pair under `<home>/keys/`, created once.

Owns creating, loading and exporting it, and reading a public key handed in by someone else
(PEM, DER or the raw 32 bytes) so a verifier can compare keys. Nothing here touches a package.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_DIR = "keys"
PRIVATE_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"


class EvidenceKeyError(Exception):
    """Base of the key errors; the message names the file and the fix."""


class KeyExistsError(EvidenceKeyError, FileExistsError):
    """`init_keys` would overwrite an existing key."""


class KeyMissingError(EvidenceKeyError, FileNotFoundError):
    """`load_keys` found no key: `pharmwatch keys init` has not been run for this data folder."""


class BadPublicKeyError(EvidenceKeyError, ValueError):
    """Bytes handed in as a public key are not an Ed25519 public key."""


@dataclass(frozen=True)
class KeyPair:
    """The installation's Ed25519 key pair; `private_key` is None when only the public half is known."""

    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None
    path: Path | None = None  # the private key file, when loaded from disk

    def sign(self, data: bytes) -> bytes:
        if self.private_key is None:
            raise EvidenceKeyError("this key pair has no private key: it can verify, not sign")
        return self.private_key.sign(data)

    def public_pem(self) -> bytes:
        return public_pem(self.public_key)

    def public_der(self) -> bytes:
        return public_der(self.public_key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)


def public_der(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo DER: the form WebCrypto exports as "spki" and the WACZ spec base64-encodes."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """`sha256:<hex>` of the SubjectPublicKeyInfo DER, so anyone can recompute it with
    `openssl pkey -pubin -in KEY.pem -outform DER | sha256sum`."""
    return "sha256:" + hashlib.sha256(public_der(key)).hexdigest()


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, SubjectPublicKeyInfo DER or the raw 32 bytes."""
    key: object
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        elif len(data) == 32:
            key = Ed25519PublicKey.from_public_bytes(data)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise BadPublicKeyError(f"not a public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise BadPublicKeyError(f"not an Ed25519 public key but {type(key).__name__}")
    return key


def key_paths(home: Path) -> tuple[Path, Path]:
    folder = Path(home) / KEY_DIR
    return folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE


def init_keys(home: Path, *, force: bool = False) -> KeyPair:
    """Create the installation's key pair under `<home>/keys/` (private key mode 0600).

    Refuses to replace an existing key unless `force`; even then the old key is renamed, not
    deleted, because packages signed with it must stay attributable to this installation.
    """
    private_path, public_path = key_paths(home)
    if private_path.exists() and not force:
        raise KeyExistsError(f"{private_path}: a signing key already exists; packages already exported name it. "
                             "Keep it, or replace it on purpose with `pharmwatch keys init --force`")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(private_path.parent, 0o700)
    if private_path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        private_path.rename(private_path.with_name(f"{PRIVATE_KEY_FILE}.replaced-{stamp}"))
        if public_path.exists():
            public_path.rename(public_path.with_name(f"{PUBLIC_KEY_FILE}.replaced-{stamp}"))
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    # O_EXCL with mode 0600 from the start: the key is never readable by others, not even briefly,
    # and a concurrent `keys init` cannot silently win.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_bytes(public_pem(private_key.public_key()))
    return KeyPair(public_key=private_key.public_key(), private_key=private_key, path=private_path)


def load_keys(home: Path) -> KeyPair:
    """The key pair made by `init_keys` for this data folder."""
    private_path, _ = key_paths(home)
    if not private_path.exists():
        raise KeyMissingError(f"{private_path}: no signing key; create one with `pharmwatch keys init`")
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceKeyError(f"{private_path}: not an Ed25519 private key")
    return KeyPair(public_key=key.public_key(), private_key=key, path=private_path)
