"""Reference checks: licence, approval and filing numbers on a page, looked up in reference registries.

Public API: `extract_identifiers`, `Identifier`, `reference_signals`, `RegistryLookup`,
`CertificateRecord`, `ProductRecord`, `StaticRegistry`, `server_country`. The registries themselves
live in the database (`crawler.registry_lookup.SqlRegistry` implements `RegistryLookup`); nothing
here imports `storage`.
"""

from rules.reference.checks import SIGNAL_KEYS, reference_signals
from rules.reference.hosting import server_country
from rules.reference.identifiers import KINDS, REGISTRY_KINDS, Identifier, extract_identifiers, parse_identifier
from rules.reference.lookup import CertificateRecord, ProductRecord, RegistryLookup, StaticRegistry

__all__ = [
    "KINDS",
    "REGISTRY_KINDS",
    "SIGNAL_KEYS",
    "CertificateRecord",
    "Identifier",
    "ProductRecord",
    "RegistryLookup",
    "StaticRegistry",
    "extract_identifiers",
    "parse_identifier",
    "reference_signals",
    "server_country",
]
