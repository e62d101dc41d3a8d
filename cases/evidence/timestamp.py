"""RFC 3161 trusted timestamps: ask a timestamp authority (TSA) to sign a digest, and check a token.

Owns the TimeStampReq/TimeStampResp exchange over HTTP and the offline check of a token
(message imprint, CMS signature, ESS signing-certificate binding, the TSA certificate's
timeStamping usage and validity, its chain to a root). Pure Python (asn1crypto + cryptography),
so verifying needs neither openssl nor network; `openssl ts -verify` accepts the same tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
MAX_CHAIN = 8


class TimestampError(Exception):
    """The TSA could not be reached or gave no usable token; the message says which and why."""


@dataclass
class TokenCheck:
    """What checking one token found: its time and TSA, and every problem (empty when valid)."""

    gen_time: datetime | None = None
    tsa_subject: str | None = None
    root_subject: str | None = None
    root_fingerprint: str | None = None  # sha256:<hex> of the root certificate's DER
    root_trusted: bool = False  # the chain ends in one of the trusted roots handed in
    problems: list[str] = field(default_factory=list)
    certificates: list[x509.Certificate] = field(default_factory=list)  # as carried by the token

    @property
    def ok(self) -> bool:
        return not self.problems


def request_timestamp(url: str, data_hash: bytes, *, timeout: float = 30.0, proxy: str | None = None) -> bytes:
    """Ask the TSA at `url` to timestamp a SHA-256 `data_hash`; returns the token (CMS ContentInfo DER).

    The request carries a random nonce and asks for the TSA's certificate, so the token can be
    checked later without fetching anything. `proxy` (http://host:port) is used when given;
    otherwise the connection is direct and proxy environment variables are ignored on purpose:
    where the timestamp came from must not depend on the shell that ran the export.
    """
    if len(data_hash) != 32:
        raise ValueError("data_hash must be a SHA-256 digest (32 bytes)")
    nonce = secrets.randbits(63)
    query = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": data_hash},
        "nonce": nonce,
        "cert_req": True,
    }).dump()
    request = urllib.request.Request(url, data=query, method="POST",
                                     headers={"Content-Type": "application/timestamp-query"})
    handler = urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})
    try:
        with urllib.request.build_opener(handler).open(request, timeout=timeout) as response:
            body = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"timestamp authority {url} could not be reached: {exc}") from exc
    try:
        reply = tsp.TimeStampResp.load(body)
        status = reply["status"]["status"].native
    except ValueError as exc:
        raise TimestampError(f"timestamp authority {url} did not answer with an RFC 3161 reply: {exc}") from exc
    if status not in ("granted", "granted_with_mods"):
        text = reply["status"]["status_string"].native if reply["status"]["status_string"] else None
        raise TimestampError(f"timestamp authority {url} refused: {status} {text or ''}".rstrip())
    token = reply["time_stamp_token"].dump()
    check = check_token(token, data_hash)
    if not check.ok:
        raise TimestampError(f"timestamp authority {url} returned a token that does not check: "
                             + "; ".join(check.problems))
    tst = _tst_info(cms.ContentInfo.load(token))
    if tst["nonce"].native != nonce:
        raise TimestampError(f"timestamp authority {url} answered another request (nonce differs)")
    return token


def token_certificates_pem(token: bytes) -> str:
    """The certificates carried in a token, as PEM (for `openssl ts -verify -untrusted/-CAfile`)."""
    signed = cms.ContentInfo.load(token)["content"]
    return "".join(_to_crypto(c).public_bytes(serialization.Encoding.PEM).decode() for c in _asn1_certs(signed))


def check_token(token: bytes, data_hash: bytes, *, trusted_roots: list[x509.Certificate] | None = None) -> TokenCheck:
    """Check an RFC 3161 token over `data_hash` (SHA-256) offline; every problem is listed."""
    result = TokenCheck()
    try:
        with warnings.catch_warnings():
            # A damaged certificate may carry a negative serial: it fails its signature check anyway.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _check_token(token, data_hash, trusted_roots, result)
    except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily; any damaged byte must become a problem
        result.problems.append(f"timestamp token cannot be read: {type(exc).__name__}: {exc}")
        return result


def _check_token(token: bytes, data_hash: bytes, trusted_roots: list[x509.Certificate] | None,
                 result: TokenCheck) -> TokenCheck:
    try:
        info = cms.ContentInfo.load(token)
        if info["content_type"].native != "signed_data":
            result.problems.append("timestamp token is not CMS SignedData")
            return result
        signed = info["content"]
        tst = _tst_info(info)
        signer = signed["signer_infos"][0]
        certs = [_to_crypto(c) for c in _asn1_certs(signed)]
        asn1_certs = _asn1_certs(signed)
        gen_time = tst["gen_time"].native
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        result.problems.append(f"timestamp token cannot be read: {exc}")
        return result
    result.certificates = certs
    for cert in asn1_certs:
        # Outside the signed TBS part: the outer algorithm must repeat the signed one, and the signature
        # BIT STRING must have no unused bits (verifiers ignore both, so they are pinned here).
        if cert["signature_algorithm"].dump() != cert["tbs_certificate"]["signature"].dump() or \
                cert["signature_value"].contents[:1] != b"\x00":
            result.problems.append(f"certificate {cert.subject.human_friendly} is malformed outside its signed part")
    result.gen_time = gen_time.astimezone(UTC)
    problems = result.problems
    # Structure: fields outside the CMS signature are pinned too, so no byte of a token can change unnoticed.
    if signed["version"].native not in ("v3", "v1") or len(signed["signer_infos"]) != 1:
        problems.append("timestamp token has an unexpected SignedData structure")
    if tst["version"].native != "v1":
        problems.append("timestamp token has an unknown TSTInfo version")
    imprint = tst["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256" or imprint["hashed_message"].native != data_hash:
        problems.append("timestamp token is for other data (message imprint differs from the digest)")
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        problems.append(f"timestamp token uses an unsupported digest {digest_name}")
        return result
    if {a["algorithm"].native for a in signed["digest_algorithms"]} != {digest_name}:
        problems.append("timestamp token lists digest algorithms its signer does not use")
    expected_version = "v1" if signer["sid"].name == "issuer_and_serial_number" else "v3"
    if signer["version"].native != expected_version:
        problems.append("timestamp token's SignerInfo version does not match its signer identifier")
    signature_oid = signer["signature_algorithm"]["algorithm"].native
    if signature_oid not in {"rsassa_pkcs1v15", f"{digest_name}_rsa", "rsassa_pss", "ecdsa", f"{digest_name}_ecdsa",
                             "ed25519", "ed448"}:
        problems.append(f"timestamp token's signature algorithm {signature_oid} does not fit its digest {digest_name}")
    algorithms = [*signed["digest_algorithms"], signer["digest_algorithm"], imprint["hash_algorithm"]]
    if signer["signature_algorithm"].signature_algo != "rsassa_pss":
        algorithms.append(signer["signature_algorithm"])
    if any(a["parameters"].dump() not in (b"", b"\x05\x00") for a in algorithms):
        problems.append("timestamp token has unexpected algorithm parameters")
    signer_index = _find_signer(signer["sid"], asn1_certs)
    if signer_index is None:
        problems.append("timestamp token does not carry the TSA certificate (request it with certReq)")
        return result
    tsa_cert, tsa_asn1 = certs[signer_index], asn1_certs[signer_index]
    result.tsa_subject = tsa_cert.subject.rfc4514_string()
    problems.extend(_check_signed_attrs(signer, signed, digest_name, tsa_asn1))
    problems.extend(_check_signature(signer, tsa_cert, digest_name))
    problems.extend(_check_tsa_certificate(tsa_cert, result.gen_time))
    problems.extend(_check_chain(tsa_cert, certs, trusted_roots or [], result))
    return result


def _tst_info(info: cms.ContentInfo) -> tsp.TSTInfo:
    encap = info["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise ValueError("the signed content is not a TSTInfo")
    parsed = encap["content"].parsed
    if not isinstance(parsed, tsp.TSTInfo):
        raise ValueError("the signed content is not a TSTInfo")
    return parsed


def _asn1_certs(signed: cms.SignedData) -> list[asn1_x509.Certificate]:
    out = []
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            raise ValueError(f"unsupported certificate kind {choice.name}")
        out.append(choice.chosen)
    return out


def _to_crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _find_signer(sid: cms.SignerIdentifier, certs: list[asn1_x509.Certificate]) -> int | None:
    for index, cert in enumerate(certs):
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            # Byte comparison, not RFC 5280 name matching: that ignores case, so a changed byte would pass.
            if cert.issuer.dump() == wanted["issuer"].dump() and cert.serial_number == wanted["serial_number"].native:
                return index
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return index
    return None


def _check_signed_attrs(signer: cms.SignerInfo, signed: cms.SignedData, digest_name: str,
                        tsa_cert: asn1_x509.Certificate) -> list[str]:
    attrs = signer["signed_attrs"]
    if not attrs:
        return ["timestamp token has no signed attributes"]
    values = {attr["type"].native: attr["values"][0] for attr in attrs}
    problems = []
    if values.get("content_type") is None or values["content_type"].native != "tst_info":
        problems.append("timestamp token's signed content type is not TSTInfo")
    content = signed["encap_content_info"]["content"].contents
    message_digest = values.get("message_digest")
    if message_digest is None or message_digest.native != _digest(digest_name, content):
        problems.append("timestamp token's TSTInfo does not match its signed digest")
    # ESS signing-certificate binds the signature to one certificate, so a look-alike cert cannot be swapped in.
    if "signing_certificate_v2" in values:
        ess = values["signing_certificate_v2"]["certs"][0]
        algorithm = ess["hash_algorithm"]["algorithm"].native
        if algorithm not in _HASHES or ess["cert_hash"].native != _digest(algorithm, tsa_cert.dump()):
            problems.append("timestamp token names another TSA certificate (ESS signing-certificate-v2)")
    elif "signing_certificate" in values:
        ess = values["signing_certificate"]["certs"][0]
        if ess["cert_hash"].native != hashlib.sha1(tsa_cert.dump()).digest():  # noqa: S324 - RFC 2634 ESSCertID
            problems.append("timestamp token names another TSA certificate (ESS signing-certificate)")
    else:
        problems.append("timestamp token does not name its TSA certificate (no ESS signing-certificate)")
    return problems


def _check_signature(signer: cms.SignerInfo, cert: x509.Certificate, digest_name: str) -> list[str]:
    # The signature covers the DER SET OF the signed attributes, not their [0] IMPLICIT encoding.
    data = b"\x31" + signer["signed_attrs"].dump()[1:]
    signature = signer["signature"].native
    algorithm = signer["signature_algorithm"].signature_algo
    key = cert.public_key()
    hash_algorithm = _HASHES[digest_name]()
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm == "rsassa_pkcs1v15":
            key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(key, rsa.RSAPublicKey) and algorithm == "rsassa_pss":
            params = signer["signature_algorithm"]["parameters"]
            pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
            key.verify(signature, data, padding.PSS(padding.MGF1(pss_hash), params["salt_length"].native), pss_hash)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm == "ecdsa":
            key.verify(signature, data, ec.ECDSA(hash_algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return [f"timestamp token uses an unsupported signature algorithm {algorithm}"]
    except InvalidSignature:
        return ["timestamp token's signature does not verify with the TSA certificate"]
    except (ValueError, KeyError) as exc:
        return [f"timestamp token's signature cannot be checked: {exc}"]
    return []


def _check_tsa_certificate(cert: x509.Certificate, gen_time: datetime) -> list[str]:
    problems = []
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
            problems.append("TSA certificate is not dedicated to timestamping (RFC 3161 §2.3: critical "
                            "extendedKeyUsage timeStamping only)")
    except x509.ExtensionNotFound:
        problems.append("TSA certificate has no extendedKeyUsage timeStamping")
    if not cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc:
        problems.append(f"TSA certificate was not valid at the timestamp's time {gen_time.isoformat()}")
    return problems


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_chain(tsa_cert: x509.Certificate, carried: list[x509.Certificate], trusted: list[x509.Certificate],
                 result: TokenCheck) -> list[str]:
    """Walk from the TSA certificate to a self-signed root through the carried and trusted certificates."""
    problems = []
    pool = carried + trusted
    chain, current = [tsa_cert], tsa_cert
    for _ in range(MAX_CHAIN):
        if current.issuer == current.subject:
            if not _issued_by(current, current):
                problems.append(f"certificate {current.subject.rfc4514_string()} has a broken self-signature")
            break
        issuer = next((c for c in pool if c.subject == current.issuer and _issued_by(current, c)), None)
        if issuer is None:
            problems.append(f"certificate {current.subject.rfc4514_string()} is not signed by any certificate "
                            f"carried or trusted (issuer {current.issuer.rfc4514_string()})")
            break
        chain.append(issuer)
        current = issuer
    root = chain[-1]
    result.root_subject = root.subject.rfc4514_string()
    result.root_fingerprint = "sha256:" + root.fingerprint(hashes.SHA256()).hex()
    trusted_der = {t.public_bytes(serialization.Encoding.DER) for t in trusted}
    result.root_trusted = any(c.public_bytes(serialization.Encoding.DER) in trusted_der for c in chain)
    if trusted and not result.root_trusted:
        problems.append(f"TSA certificate chain ends in {result.root_subject} ({result.root_fingerprint}), "
                        "which is not among the trusted timestamp roots")
    # Certificates carried but not on the chain must still be intact: none may change unnoticed.
    for cert in carried:
        if cert not in chain and not any(_issued_by(cert, c) for c in pool):
            problems.append(f"carried certificate {cert.subject.rfc4514_string()} is not signed by any known issuer")
    return problems


def _digest(name: str, data: bytes) -> bytes:
    digest = hashes.Hash(_HASHES[name]())
    digest.update(data)
    return digest.finalize()


def load_certificates(pem_or_der: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or many) or a single DER certificate."""
    if pem_or_der.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificates(pem_or_der)
    return [x509.load_der_x509_certificate(pem_or_der)]
