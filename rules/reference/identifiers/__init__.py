"""Licence, approval and filing numbers and contact leads in page text, one module per number family.

Real footers are irregular (domain.md §1): each match is classified well_formed (cosmetic
irregularities listed in `notes`), legacy (a retired format) or malformed (a part missing or
implausible), with a reason; offsets always point into the text as given.
"""

from rules.reference.identifiers.extract import extract_identifiers, parse_identifier
from rules.reference.identifiers.identifier import (
    CONTACT_KINDS,
    KINDS,
    PROVINCE_CODES,
    REGISTRY_KINDS,
    STATUSES,
    Identifier,
)

__all__ = [
    "CONTACT_KINDS",
    "KINDS",
    "PROVINCE_CODES",
    "REGISTRY_KINDS",
    "STATUSES",
    "Identifier",
    "extract_identifiers",
    "parse_identifier",
]
