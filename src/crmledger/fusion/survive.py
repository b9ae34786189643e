"""Survivorship: one golden value per field from the records of one customer, with lineage.

Each field takes its value from one record, picked by the field's rules in order, each
narrowing the candidates (the records holding a value) until one is left:

==================  ===================================================================
``source_priority`` the records of the best-ranked source (priority 1 beats 2)
``most_recent``     the records with the latest ``updated_at``
``most_complete``   the longest value (``"Hauptstraße 5a"`` over ``"Hauptstr. 5"``)
``most_frequent``   the value most records agree on (compared as search keys)
==================  ===================================================================

What is still tied after the rules goes to the record first in (priority, source, external
id) order, so the same records always give the same golden record::

    rules = Survivorship(default=("source_priority",), fields={"email": ("most_recent",)})
    golden = survive(records, rules)
    golden.values["email"], golden.lineage["email"].external_id   # value and its record

:func:`to_party` turns the golden values into a :class:`~crmledger.core.crm.parties.Party`
(on top of the book's party, when there is one: fields no record gives keep the book's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from crmledger.core.crm.parties import (
    Address,
    BankAccount,
    Email,
    ExternalId,
    Party,
    PartyKind,
    Phone,
    TaxNumber,
)
from crmledger.fusion.mapping import FIELDS
from crmledger.fusion.normalise import search_key
from crmledger.fusion.records import BOOK_SOURCE, FusedRecord, Value

RULES = ("source_priority", "most_recent", "most_complete", "most_frequent")
#: Fields that survive into the golden record (the external id is the record's own; the
#: kind is decided by the records' majority).
SURVIVING = tuple(f for f in FIELDS if f not in ("external_id", "full_name"))
#: The surviving fields a party stores (the others only help to match and to choose).
STORED = tuple(f for f in SURVIVING if f not in ("kind", "birth_date", "updated_at"))


@dataclass(frozen=True, slots=True)
class Survivorship:
    """Rules per field (``fields``), else ``default``."""

    default: tuple[str, ...] = ("source_priority", "most_complete")
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def rules_for(self, name: str) -> tuple[str, ...]:
        return tuple(self.fields.get(name, self.default))


@dataclass(frozen=True, slots=True)
class Origin:
    """Which record gave a golden value."""

    source: str
    row: int
    system: str
    external_id: str


@dataclass
class Golden:
    """The surviving values and, per field, the record it came from."""

    values: dict[str, Value] = field(default_factory=dict)
    lineage: dict[str, Origin] = field(default_factory=dict)


def _order(record: FusedRecord) -> tuple[int, str, str]:
    return (record.priority, record.source, record.external_id)


def _key(value: Value) -> str:
    return search_key(value) if isinstance(value, str) else str(value)


def _best(
    records: Sequence[FusedRecord], score: Callable[[FusedRecord], object]
) -> list[FusedRecord]:
    scores = [score(r) for r in records]
    top = max(scores)  # type: ignore[type-var]
    return [r for r, s in zip(records, scores, strict=True) if s == top]


def _narrow(rule: str, name: str, records: Sequence[FusedRecord]) -> list[FusedRecord]:
    if rule == "source_priority":
        return _best(records, lambda r: -r.priority)
    if rule == "most_recent":

        def when(r: FusedRecord) -> date:
            stamp = r.values.get("updated_at")
            return stamp if isinstance(stamp, date) else date.min

        return _best(records, when)
    if rule == "most_complete":
        return _best(records, lambda r: len(str(r.values[name])))
    if rule == "most_frequent":
        counts = Counter(_key(r.values[name]) for r in records)
        return _best(records, lambda r: counts[_key(r.values[name])])
    raise ValueError(f"unknown survivorship rule {rule!r}")


def pick(name: str, records: Sequence[FusedRecord], rules: Sequence[str]) -> FusedRecord | None:
    """The record whose value of ``name`` survives, or ``None`` when none has one."""
    candidates = [r for r in records if r.values.get(name) not in (None, "")]
    for rule in rules:
        if len(candidates) <= 1:
            break
        candidates = _narrow(rule, name, candidates)
    return min(candidates, key=_order) if candidates else None


def survive(records: Sequence[FusedRecord], rules: Survivorship) -> Golden:
    """The golden record of ``records`` (one customer's)."""
    golden = Golden()
    kinds = Counter(r.values.get("kind", "organisation") for r in records)
    golden.values["kind"] = "person" if kinds["person"] > kinds["organisation"] else "organisation"
    for name in SURVIVING:
        if name == "kind":
            continue
        winner = pick(name, records, rules.rules_for(name))
        if winner is not None:
            golden.values[name] = winner.values[name]
            golden.lineage[name] = Origin(
                winner.source, winner.row, winner.system, winner.external_id
            )
    return golden


# --------------------------------------------------------------------------- to party


def _text(values: Mapping[str, Value], name: str) -> str:
    value = values.get(name)
    return value if isinstance(value, str) else ""


def _first_then(new: str, old: Sequence[str]) -> list[str]:
    return [new, *(o for o in old if o != new)] if new else list(old)


def _emails(values: Mapping[str, Value], base: Party) -> tuple[Email, ...]:
    labels = {e.address: e.label for e in base.emails}
    addresses = _first_then(_text(values, "email"), [e.address for e in base.emails])
    return tuple(Email(a, labels.get(a, "work")) for a in addresses)


def _phones(values: Mapping[str, Value], base: Party) -> tuple[Phone, ...]:
    work = _first_then(
        _text(values, "phone"), [p.number for p in base.phones if p.label != "mobile"]
    )
    mobile = _first_then(
        _text(values, "mobile"), [p.number for p in base.phones if p.label == "mobile"]
    )
    labels = {p.number: p.label for p in base.phones}
    phones = [Phone(n, labels.get(n, "work")) for n in work]
    phones += [Phone(n, "mobile") for n in mobile if n not in work]
    return tuple(phones)


def _addresses(values: Mapping[str, Value], base: Party) -> tuple[Address, ...]:
    country = _text(values, "country")
    if not country:
        return base.addresses
    parts = ("street", "street2", "postcode", "city", "region")
    first = base.addresses[0] if base.addresses else Address(country)
    address = replace(first, country=country, **{p: _text(values, p) or "" for p in parts})
    return (address, *base.addresses[1:])


def _banks(values: Mapping[str, Value], base: Party) -> tuple[BankAccount, ...]:
    iban = _text(values, "iban")
    if not iban or any(b.iban == iban for b in base.bank_accounts[:1]):
        return base.bank_accounts
    return (BankAccount(iban), *(b for b in base.bank_accounts if b.iban != iban))


def _taxes(values: Mapping[str, Value], base: Party) -> tuple[TaxNumber, ...]:
    value = _text(values, "tax_id")
    if not value or any(t.value == value for t in base.tax_ids):
        return base.tax_ids
    return (TaxNumber("", "", value), *base.tax_ids)


def _names(values: Mapping[str, Value], base: Party, kind: PartyKind) -> dict[str, str]:
    if kind is PartyKind.PERSON:
        return {
            "display_name": _text(values, "display_name") or base.display_name,
            "given_name": _text(values, "given_name") or base.given_name,
            "family_name": _text(values, "family_name") or base.family_name,
        }
    return {
        "display_name": _text(values, "display_name") or base.display_name,
        "legal_name": _text(values, "legal_name") or base.legal_name,
        "given_name": "",
        "family_name": "",
    }


def _terms(values: Mapping[str, Value], base: Party) -> dict[str, object]:
    days, limit = values.get("payment_terms_days"), values.get("credit_limit")
    return {
        "payment_terms_days": days if isinstance(days, int) else base.payment_terms_days,
        "credit_limit": limit if isinstance(limit, Decimal) else base.credit_limit,
        "currency": _text(values, "currency") or base.currency,
        "language": _text(values, "language") or base.language,
        "website": _text(values, "website") or base.website,
        "segment": _text(values, "segment") or base.segment,
    }


def to_party(
    golden: Golden, external_ids: Sequence[tuple[str, str]], base: Party | None = None
) -> Party:
    """The golden record as a party, on top of ``base`` (the book's, when it has one: its
    kind, tags, owner and other fields no record gives stay), holding ``external_ids``."""
    kind = PartyKind(str(golden.values.get("kind", "organisation")))
    start = base or Party(kind=kind, display_name="")
    kind = start.kind
    ids = {(e.system, e.id) for e in start.external_ids}
    ids |= {(s, e) for s, e in external_ids if s != BOOK_SOURCE}
    return replace(
        start,
        **_names(golden.values, start, kind),  # type: ignore[arg-type]
        **_terms(golden.values, start),  # type: ignore[arg-type]
        emails=_emails(golden.values, start),
        phones=_phones(golden.values, start),
        addresses=_addresses(golden.values, start),
        tax_ids=_taxes(golden.values, start),
        bank_accounts=_banks(golden.values, start),
        external_ids=tuple(ExternalId(s, e) for s, e in sorted(ids)),
    )
