"""What the reference checks ask of a registry, and the plain records it answers with.

Owns `RegistryLookup` (a protocol: `crawler.registry_lookup.SqlRegistry` implements it over the database, so
`rules/` never imports `storage/`), the records `CertificateRecord` and `ProductRecord`, and
`StaticRegistry`, an in-memory registry for tests and for checking a saved page without a database.
Numbers are looked up in their normalised form (`Identifier.normalised`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Protocol, runtime_checkable

#: Registry statuses. Only "valid" means the number may be used (dates permitting).
RECORD_STATUSES: Final[tuple[str, ...]] = ("valid", "expired", "revoked", "cancelled", "suspended")


@dataclass(frozen=True)
class CertificateRecord:
    """A licence held by a website operator: an information-service or a legacy trading certificate."""

    number: str
    holder: str
    cert_type: str = ""  # 经营性 | 非经营性 (information service) or A | B | C (legacy trading)
    domains: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    status: str = "valid"


@dataclass(frozen=True)
class ProductRecord:
    """A product number: drug approval, health-food registration or filing, device, ad approval."""

    number: str
    product_name: str
    holder: str = ""
    status: str = "valid"
    valid_from: date | None = None
    valid_to: date | None = None
    details: dict[str, str] = field(default_factory=dict)  # rx_otc, dosage_form, device_class, ...


@runtime_checkable
class RegistryLookup(Protocol):
    """Read access to the reference registries, by normalised number.

    `covers(kind)` says whether the registry holds any data for a kind (see
    `rules.reference.identifiers.REGISTRY_KINDS`): an empty registry cannot tell a forged number from a
    real one, so checks report "not checked" (None) rather than "unknown" for a kind it does not cover.
    """

    def covers(self, kind: str) -> bool: ...

    def find_certificate(self, number: str) -> CertificateRecord | None: ...

    def find_trading_certificate(self, number: str) -> CertificateRecord | None: ...

    def find_drug_approval(self, number: str) -> ProductRecord | None: ...

    def find_health_food(self, number: str) -> ProductRecord | None: ...

    def find_device(self, number: str) -> ProductRecord | None: ...

    def find_ad_approval(self, number: str) -> ProductRecord | None: ...


@runtime_checkable
class BlacklistLookup(Protocol):
    """Which operator identifiers are on the office's blacklist (重点监管名单).

    `listed(leads)`: of the page's contact leads (`"wechat:abc123"`, `"phone:13800138000"`, as in the
    signal `contact_leads`), those on an active entry, each with its entry id.
    `named_in(text)`: the listed company names and payment accounts the page's text contains
    (`"company:某某生物科技有限公司"`, `"payment:6222021234567890123"`), each with its entry id.
    """

    def listed(self, leads: Sequence[str]) -> dict[str, int]: ...

    def named_in(self, text: str) -> dict[str, int]: ...


class StaticRegistry:
    """An in-memory `RegistryLookup`: records given per kind, keyed by their number."""

    def __init__(
        self,
        *,
        certificates: Iterable[CertificateRecord] = (),
        trading_certificates: Iterable[CertificateRecord] = (),
        drug_approvals: Iterable[ProductRecord] = (),
        health_foods: Iterable[ProductRecord] = (),
        devices: Iterable[ProductRecord] = (),
        ad_approvals: Iterable[ProductRecord] = (),
    ) -> None:
        self._certs = {r.number: r for r in certificates}
        self._trading = {r.number: r for r in trading_certificates}
        self._products: dict[str, dict[str, ProductRecord]] = {
            "drug_approval": {r.number: r for r in drug_approvals},
            "health_food": {r.number: r for r in health_foods},
            "device": {r.number: r for r in devices},
            "ad_approval": {r.number: r for r in ad_approvals},
        }

    def covers(self, kind: str) -> bool:
        if kind == "info_service_cert":
            return bool(self._certs)
        if kind == "trading_cert_legacy":
            return bool(self._trading)
        return bool(self._products.get(kind))

    def find_certificate(self, number: str) -> CertificateRecord | None:
        return self._certs.get(number)

    def find_trading_certificate(self, number: str) -> CertificateRecord | None:
        return self._trading.get(number)

    def find_drug_approval(self, number: str) -> ProductRecord | None:
        return self._products["drug_approval"].get(number)

    def find_health_food(self, number: str) -> ProductRecord | None:
        return self._products["health_food"].get(number)

    def find_device(self, number: str) -> ProductRecord | None:
        return self._products["device"].get(number)

    def find_ad_approval(self, number: str) -> ProductRecord | None:
        return self._products["ad_approval"].get(number)
