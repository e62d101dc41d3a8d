"""`SqlRegistry` and `SqlBlacklist`: the reference checks' lookups answered from the registry and blacklist tables.

Here, the lowest layer that imports both rules (the record types) and storage (the tables), so that
neither of them imports the other. Used by the analysis pipeline, `check`, and the CLI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.reference.lookup import CertificateRecord, ProductRecord
from storage.models import BlacklistEntry
from storage.registry import find_number, has_rows


class SqlRegistry:
    """`rules.reference.RegistryLookup` over the registry tables, through one session.

    Which kinds hold data is asked once per instance: make one per scan or per page batch.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._covers: dict[str, bool] = {}

    def covers(self, kind: str) -> bool:
        if kind not in self._covers:
            self._covers[kind] = has_rows(self.session, kind)
        return self._covers[kind]

    def _certificate(self, kind: str, number: str) -> CertificateRecord | None:
        row = find_number(self.session, kind, number)
        if row is None:
            return None
        return CertificateRecord(
            number=row.number,
            holder=row.holder,
            cert_type=getattr(row, "cert_type", "") or getattr(row, "cert_class", ""),
            domains=tuple(row.domains or ()),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            status=row.status,
        )

    def _product(self, kind: str, number: str, details: Iterable[str] = ()) -> ProductRecord | None:
        row = find_number(self.session, kind, number)
        if row is None:
            return None
        return ProductRecord(
            number=row.number,
            product_name=row.product_name,
            holder=row.holder,
            status=row.status,
            valid_from=getattr(row, "valid_from", None),
            valid_to=row.valid_to,
            details={d: getattr(row, d) for d in details if getattr(row, d)},
        )

    def find_certificate(self, number: str) -> CertificateRecord | None:
        return self._certificate("info_service_cert", number)

    def find_trading_certificate(self, number: str) -> CertificateRecord | None:
        return self._certificate("trading_cert_legacy", number)

    def find_drug_approval(self, number: str) -> ProductRecord | None:
        return self._product("drug_approval", number, ("rx_otc", "dosage_form"))

    def find_health_food(self, number: str) -> ProductRecord | None:
        return self._product("health_food", number, ("functions",))

    def find_device(self, number: str) -> ProductRecord | None:
        return self._product("device", number, ("device_class",))

    def find_ad_approval(self, number: str) -> ProductRecord | None:
        return self._product("ad_approval", number, ("category", "media"))


class SqlBlacklist:
    """`rules.reference.BlacklistLookup` over the active blacklist entries, through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._names: list[tuple[str, str, str, int]] | None = None  # company and payment entries, read once

    def listed(self, leads: Sequence[str]) -> dict[str, int]:
        wanted = {tuple(lead.split(":", 1)) for lead in leads if ":" in lead}
        if not wanted:
            return {}
        rows = self.session.execute(
            select(BlacklistEntry.kind, BlacklistEntry.value, BlacklistEntry.id)
            .where(BlacklistEntry.lifted_at.is_(None), BlacklistEntry.value.in_([value for _, value in wanted]))
        )
        return {f"{kind}:{value}": entry for kind, value, entry in rows if (kind, value) in wanted}

    def named_in(self, text: str) -> dict[str, int]:
        """Listed company names and payment accounts written in `text`. Persons are not matched: a two- or
        three-character name would flag strangers; they stay on the list for referrals."""
        if self._names is None:
            rows = self.session.execute(
                select(BlacklistEntry.kind, BlacklistEntry.value, BlacklistEntry.id)
                .where(BlacklistEntry.lifted_at.is_(None), BlacklistEntry.kind.in_(("company", "payment"))))
            self._names = [(kind, value, _name_key(kind, value), entry) for kind, value, entry in rows]
            self._names = [name for name in self._names if len(name[2]) >= MIN_NAME_CHARS]
        if not self._names:
            return {}
        plain, digits = _name_key("company", text), _DIGIT_GAPS.sub("", text)
        return {f"{kind}:{value}": entry for kind, value, key, entry in self._names
                if key in (digits if key.isdigit() else plain)}


#: A listed name shorter than this (after folding) is not looked for on pages: it would match by chance.
MIN_NAME_CHARS = 4
# Digits of an account written in groups ("6222 0212 3456 7890") or with dashes read as one number.
_DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-]+(?=\d)")


def _name_key(kind: str, value: str) -> str:
    """How a listed name is looked for: full-width folded, lower case, without spaces; an account written
    in digit groups as its digits only."""
    folded = "".join(unicodedata.normalize("NFKC", value).lower().split())
    if kind == "payment" and re.fullmatch(r"[\d\-]+", folded):
        return folded.replace("-", "")
    return folded
