"""A summary of the TLS certificate a page was served with, for the capture's metadata record."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID


def certificate_summary(der: bytes) -> dict[str, Any]:
    """Subject, issuer, validity, DNS names and SHA-256 fingerprint of a DER certificate."""
    cert = x509.load_der_x509_certificate(der)
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "common_name": next((a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)), None),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "dns_names": list(names),
        "serial": format(cert.serial_number, "x"),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def response_certificate(response: Any) -> dict[str, Any] | None:
    """The summary for a Scrapy response fetched over HTTPS, else None (never raises)."""
    certificate = getattr(response, "certificate", None)
    if certificate is None:
        return None
    try:
        from OpenSSL.crypto import FILETYPE_ASN1

        return certificate_summary(certificate.dump(FILETYPE_ASN1))
    except Exception:  # noqa: BLE001 - a certificate we cannot read must not lose the capture
        return {"error": "certificate present but unreadable"}
