"""Dirty customer data with ground truth, for accuracy tests and benchmarks.

:func:`generate` invents customers (companies and people in six countries) and writes each
of them once or more into two sources as real exports would: a CRM export (``crm``: tidy
headers, ISO dates, country codes) and a legacy finance system (``finance``: upper-case
German headers, ``Last, First`` names, German country names, ``dd.mm.yyyy`` dates). The
copies differ the way real copies do: typos and transposed letters, nicknames, given and
family names swapped, missing fields, phones and addresses in other formats, company
legal forms spelt differently, shouting capitals. Households (people sharing an address,
a family name and often a phone) are different customers that look alike::

    data = generate(2000, seed=7)
    data.rows["crm"][0]["Customer ID"]      # 'C000001'
    data.truth[("finance", "F000004")]      # the customer's true id
    data.mappings["finance"]                # the YAML mapping for that source

The truth maps ``(system, external id)`` to the customer: two records are duplicates when
they map to the same one.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
from faker import Faker
from stdnum.iso7064 import mod_11_10

from crmledger.fusion.clean import NICKNAMES

COUNTRIES = {
    "DE": "de_DE",
    "AT": "de_AT",
    "GB": "en_GB",
    "FR": "fr_FR",
    "NL": "nl_NL",
    "US": "en_US",
}
#: What the finance system calls each country.
GERMAN_NAMES = {
    "DE": "Deutschland",
    "AT": "Österreich",
    "GB": "Vereinigtes Königreich",
    "FR": "Frankreich",
    "NL": "Niederlande",
    "US": "Vereinigte Staaten",
}
_NICK_OF: dict[str, list[str]] = {}
for _nick, _name in NICKNAMES.items():
    _NICK_OF.setdefault(_name, []).append(_nick)

_SUFFIX_VARIANTS = {
    "GmbH": ["GmbH", "G.m.b.H.", "gmbh", "GMBH", "Gmbh"],
    "AG": ["AG", "Aktiengesellschaft", "A.G."],
    "Ltd": ["Ltd", "Ltd.", "Limited", "LTD"],
    "PLC": ["PLC", "plc", "P.L.C."],
    "Inc": ["Inc", "Inc.", "Incorporated", "INC"],
    "LLC": ["LLC", "L.L.C.", "llc"],
    "SA": ["SA", "S.A.", "s.a."],
    "SARL": ["SARL", "S.A.R.L.", "Sarl"],
    "B.V.": ["B.V.", "BV", "b.v."],
}
_SUFFIX_OF = {
    "DE": "GmbH",
    "AT": "AG",
    "GB": "Ltd",
    "FR": "SARL",
    "NL": "B.V.",
    "US": "Inc",
}
_ALT_SUFFIX = {"DE": "AG", "GB": "PLC", "FR": "SA", "US": "LLC", "AT": "GmbH", "NL": "B.V."}


@dataclass
class Customer:
    """One true customer."""

    id: int
    country: str
    kind: str
    company: str = ""
    suffix: str = ""
    given: str = ""
    family: str = ""
    email: str = ""
    phone: str = ""
    street: str = ""
    house: str = ""
    postcode: str = ""
    city: str = ""
    tax_id: str = ""
    birth: date | None = None
    updated: date = date(2026, 1, 1)


@dataclass
class SynthData:
    """The rows of each source, the truth and each source's mapping."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    truth: dict[tuple[str, str], int] = field(default_factory=dict)
    mappings: dict[str, str] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(len(r) for r in self.rows.values())


# -------------------------------------------------------------------------- customers


def _phone(rng: random.Random, country: str) -> str:
    kind = phonenumbers.PhoneNumberType
    example = phonenumbers.example_number_for_type(
        country, rng.choice([kind.MOBILE, kind.FIXED_LINE])
    )
    assert example is not None
    digits = phonenumbers.national_significant_number(example)
    for _ in range(30):
        tail = "".join(rng.choice("0123456789") for _ in range(5))
        candidate = phonenumbers.parse(f"+{example.country_code}{digits[:-5]}{tail}")
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _vat(rng: random.Random) -> str:
    body = str(rng.randint(10_000_000, 99_999_999))
    return "DE" + body + mod_11_10.calc_check_digit(body)


def _ascii(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
    return "".join(c for c in text.lower().translate(table) if c.isalnum() or c in ".-")


class _Maker:
    """Invents customers with Faker, one instance per country, all seeded."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        self.rng = rng
        self.fakers = {c: Faker(loc) for c, loc in COUNTRIES.items()}
        for number, fake in enumerate(self.fakers.values()):
            fake.seed_instance(seed * 31 + number)

    def customer(self, number: int) -> Customer:
        country = self.rng.choices(list(COUNTRIES), weights=[40, 10, 15, 15, 10, 10])[0]
        fake = self.fakers[country]
        kind = "organisation" if self.rng.random() < 0.55 else "person"
        c = Customer(number, country, kind)
        c.street, c.house = fake.street_name(), str(self.rng.randint(1, 180))
        c.postcode, c.city = self._postcode(fake, country), fake.city()
        c.phone = _phone(self.rng, country)
        c.updated = date(2025, 1, 1) + timedelta(days=self.rng.randint(0, 600))
        if kind == "organisation":
            self._company(c, fake)
        else:
            self._person(c, fake)
        return c

    def _postcode(self, fake: Faker, country: str) -> str:
        code = str(fake.postcode())
        if country == "NL":
            code = code.replace(" ", "")
            code = f"{code[:4]} {code[4:].upper()}"
        return code

    def _company(self, c: Customer, fake: Faker) -> None:
        words = [fake.last_name()]
        if self.rng.random() < 0.6:
            words.append(self.rng.choice([fake.last_name(), fake.city(), "Holding", "Systems"]))
        c.company = " ".join(words).replace(",", "")
        c.suffix = _SUFFIX_OF[c.country] if self.rng.random() < 0.8 else _ALT_SUFFIX[c.country]
        c.email = f"info@{_ascii(words[0])}{c.id}.{c.country.lower()}"
        if c.country == "DE" and self.rng.random() < 0.7:
            c.tax_id = _vat(self.rng)

    def _person(self, c: Customer, fake: Faker) -> None:
        c.given, c.family = fake.first_name(), fake.last_name()
        if self.rng.random() < 0.15 and _NICK_OF:
            c.given = self.rng.choice(sorted(_NICK_OF)).title()
        number = self.rng.randint(1, 99)
        c.email = f"{_ascii(c.given)}.{_ascii(c.family)}{number}@{fake.free_email_domain()}"
        c.birth = date(1940, 1, 1) + timedelta(days=self.rng.randint(0, 22000))

    def household(self, head: Customer, number: int) -> Customer:
        """Someone else living at ``head``'s address: same family name, often the phone."""
        fake = self.fakers[head.country]
        member = Customer(number, head.country, "person", family=head.family)
        member.given = fake.first_name()
        member.street, member.house = head.street, head.house
        member.postcode, member.city = head.postcode, head.city
        member.phone = head.phone if self.rng.random() < 0.5 else _phone(self.rng, head.country)
        member.email = (
            f"{_ascii(member.given)}.{_ascii(member.family)}{number}@{fake.free_email_domain()}"
        )
        member.birth = date(1940, 1, 1) + timedelta(days=self.rng.randint(0, 22000))
        member.updated = head.updated
        return member


# ------------------------------------------------------------------------------ noise


def typo(rng: random.Random, text: str) -> str:
    """One slip of the keyboard: a letter replaced, dropped, doubled or two swapped."""
    if len(text) < 4:
        return text
    at = rng.randint(1, len(text) - 2)
    op = rng.randrange(4)
    if op == 0:
        return text[:at] + rng.choice("aeinorst") + text[at + 1 :]
    if op == 1:
        return text[:at] + text[at + 1 :]
    if op == 2:
        return text[:at] + text[at] + text[at:]
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def _phone_variant(rng: random.Random, e164: str) -> str:
    number = phonenumbers.parse(e164)
    style = rng.randrange(4)
    if style == 0:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if style == 2:
        return "00" + e164[1:]
    return e164


def _street_variant(rng: random.Random, street: str) -> str:
    if rng.random() < 0.5:
        for long, short in (
            ("straße", "str."),
            ("Straße", "Str."),
            ("Street", "St"),
            ("Road", "Rd"),
        ):
            if street.endswith(long):
                return street[: -len(long)] + short
    return street.upper() if rng.random() < 0.2 else street


@dataclass
class Copy:
    """One written-down copy of a customer, with its differences."""

    company: str
    given: str
    family: str
    email: str
    phone: str
    street: str
    postcode: str
    city: str
    tax_id: str
    birth: date | None
    swapped: bool = False


class _Noise:
    """Makes the copies of a customer differ."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng = rng
        self.rate = rate

    def maybe(self, p: float) -> bool:
        return self.rng.random() < p * self.rate

    def copy(self, c: Customer, first: bool) -> Copy:
        rng = self.rng
        out = Copy(
            self._company(c, first),
            c.given,
            c.family,
            c.email,
            c.phone,
            f"{c.street} {c.house}",
            c.postcode,
            c.city,
            c.tax_id,
            c.birth,
        )
        if first:
            return out
        self._person(out)
        out.phone = _phone_variant(rng, c.phone) if c.phone else ""
        out.street = _street_variant(rng, out.street)
        if self.maybe(0.15):
            out.email = out.email.upper() if rng.random() < 0.5 else typo(rng, out.email)
        if out.postcode and self.maybe(0.2):
            out.postcode = out.postcode.replace(" ", "")
        if self.maybe(0.15):
            out.city = out.city.upper()
        self._drop(out)
        return out

    def _company(self, c: Customer, first: bool) -> str:
        if c.kind != "organisation":
            return ""
        name, suffix = c.company, c.suffix
        if not first:
            name = typo(self.rng, name) if self.maybe(0.3) else name
            variants = _SUFFIX_VARIANTS.get(suffix, [suffix])
            suffix = self.rng.choice(variants) if self.maybe(0.6) else suffix
            if self.maybe(0.1):
                suffix = ""
        whole = f"{name} {suffix}".strip()
        return whole.upper() if not first and self.maybe(0.15) else whole

    def _person(self, out: Copy) -> None:
        if not out.family:
            return
        key = out.given.lower()
        if self.maybe(0.2) and key in _NICK_OF:
            out.given = self.rng.choice(_NICK_OF[key]).title()
        if self.maybe(0.3):
            out.family = typo(self.rng, out.family)
        elif self.maybe(0.15):
            out.given = typo(self.rng, out.given)
        if self.maybe(0.1):
            out.swapped = True

    def _drop(self, out: Copy) -> None:
        for name in ("email", "phone", "street", "tax_id"):
            if self.maybe(0.12):
                setattr(out, name, "")
        if out.birth is not None and self.maybe(0.1):
            out.birth = None
        elif out.birth is not None and self.maybe(0.08):
            out.birth = out.birth.replace(day=min(28, out.birth.month))  # day/month mix-up


# --------------------------------------------------------------------------- sources


def _crm_row(ext: str, c: Customer, copy: Copy) -> dict[str, str]:
    given, family = (copy.family, copy.given) if copy.swapped else (copy.given, copy.family)
    return {
        "Customer ID": ext,
        "Type": "Company" if c.kind == "organisation" else "Person",
        "Company": copy.company,
        "First Name": given,
        "Last Name": family,
        "E-Mail": copy.email,
        "Phone": copy.phone,
        "Street": copy.street,
        "ZIP": copy.postcode,
        "City": copy.city,
        "Country": c.country,
        "VAT ID": copy.tax_id,
        "Birthday": copy.birth.isoformat() if copy.birth else "",
        "Updated": c.updated.isoformat(),
    }


def _finance_row(ext: str, c: Customer, copy: Copy) -> dict[str, str]:
    if c.kind == "organisation":
        name = copy.company
    elif copy.swapped:
        name = f"{copy.given} {copy.family}"
    else:
        name = f"{copy.family}, {copy.given}"
    salutation = "Firma" if c.kind == "organisation" else "Herr/Frau"
    return {
        "KUNDENNR": ext,
        "ANREDE": salutation,
        "NAME1": name,
        "STRASSE": copy.street,
        "PLZ": copy.postcode,
        "ORT": copy.city,
        "LAND": GERMAN_NAMES[c.country],
        "TEL": copy.phone,
        "MAIL": copy.email,
        "USTID": copy.tax_id,
        "GEBDAT": copy.birth.strftime("%d.%m.%Y") if copy.birth else "",
        "AENDERUNG": c.updated.strftime("%d.%m.%Y"),
    }


CRM_MAPPING = """\
fields:
  external_id: Customer ID
  kind: {from: Type, map: {company: organisation, person: person}}
  display_name: Company
  given_name: First Name
  family_name: Last Name
  email: E-Mail
  phone: Phone
  street: Street
  postcode: ZIP
  city: City
  country: Country
  tax_id: VAT ID
  birth_date: Birthday
  updated_at: Updated
"""

FINANCE_MAPPING = """\
fields:
  external_id: KUNDENNR
  kind: {from: ANREDE, map: {firma: organisation, herr/frau: person}}
  full_name: NAME1
  street: STRASSE
  postcode: PLZ
  city: ORT
  country:
    from: LAND
    map: {Deutschland: DE, Österreich: AT, Vereinigtes Königreich: GB, Frankreich: FR,
          Niederlande: NL, Vereinigte Staaten: US}
  phone: TEL
  email: MAIL
  tax_id: USTID
  birth_date: {from: GEBDAT, date: "%d.%m.%Y"}
  updated_at: {from: AENDERUNG, date: "%d.%m.%Y"}
"""

_WRITERS: dict[str, Callable[[str, Customer, Copy], dict[str, str]]] = {
    "crm": _crm_row,
    "finance": _finance_row,
}


def _copies(rng: random.Random) -> int:
    roll = rng.random()
    return 1 if roll < 0.45 else 2 if roll < 0.85 else 3 if roll < 0.97 else 4


def generate(records: int, seed: int = 0, noise: float = 1.0) -> SynthData:
    """About ``records`` rows over the ``crm`` and ``finance`` sources, with the truth.

    ``noise`` scales how often copies differ (0: copies identical but for their ids and
    their source's formats)."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    maker, noisy = _Maker(rng, seed), _Noise(rng, noise)
    data = SynthData(
        rows={"crm": [], "finance": []},
        mappings={"crm": CRM_MAPPING, "finance": FINANCE_MAPPING},
    )
    number = 0
    while data.records < records:
        number += 1
        customer = maker.customer(number)
        _write(data, rng, noisy, customer)
        if customer.kind == "person" and rng.random() < 0.1:
            number += 1
            _write(data, rng, noisy, maker.household(customer, number))
    return data


def _write(data: SynthData, rng: random.Random, noisy: _Noise, c: Customer) -> None:
    for index in range(_copies(rng)):
        source = rng.choice(("crm", "finance"))
        rows = data.rows[source]
        ext = f"{source[0].upper()}{len(rows) + 1:06d}"
        rows.append(_WRITERS[source](ext, c, noisy.copy(c, first=index == 0)))
        data.truth[(source, ext)] = c.id


def write_files(data: SynthData, folder: Path) -> Path:
    """``crm.csv`` (comma), ``finance.csv`` (semicolon, as legacy exports are), their
    mappings and a run configuration ``fusion.yml`` (returned) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for source, rows in data.rows.items():
        delimiter = ";" if source == "finance" else ","
        with (folder / f"{source}.csv").open("w", encoding="utf-8", newline="") as handle:
            if rows:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
                writer.writeheader()
                writer.writerows(rows)
        (folder / f"{source}.mapping.yml").write_text(data.mappings[source], encoding="utf-8")
    config = folder / "fusion.yml"
    config.write_text(
        "name: synthetic customers\nregion: DE\nsources:\n"
        "  - {name: crm, kind: csv, path: crm.csv, priority: 1, mapping: crm.mapping.yml}\n"
        "  - {name: finance, kind: csv, path: finance.csv, priority: 2,"
        " mapping: finance.mapping.yml}\n",
        encoding="utf-8",
    )
    return config


# ---------------------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Pairwise precision, recall and F1 of a clustering against the truth."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    found_pairs: int
    right_pairs: int


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def accuracy(clusters: dict[tuple[str, str], int], truth: dict[tuple[str, str], int]) -> Accuracy:
    """Score ``clusters`` (record key -> cluster) against ``truth`` (key -> customer)."""
    found: dict[object, int] = {}
    real: dict[int, int] = {}
    both: dict[tuple[object, int], int] = {}
    for key, customer in truth.items():
        cluster = clusters.get(key, ("alone", key))
        found[cluster] = found.get(cluster, 0) + 1
        real[customer] = real.get(customer, 0) + 1
        both[(cluster, customer)] = both.get((cluster, customer), 0) + 1
    right = sum(_pairs(n) for n in both.values())
    predicted = sum(_pairs(n) for n in found.values())
    true = sum(_pairs(n) for n in real.values())
    precision = right / predicted if predicted else 1.0
    recall = right / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Accuracy(precision, recall, f1, true, predicted, right)


def _typed_name(row: dict[str, str]) -> str:
    if "NAME1" in row:
        return row["NAME1"]
    return row["Company"] or f"{row['First Name']} {row['Last Name']}"


def exact_match_clusters(data: SynthData) -> dict[tuple[str, str], int]:
    """The baseline people use today: records are duplicates when their name and email
    are byte-identical as exported (what ``drop_duplicates`` on those columns finds)."""
    first: dict[tuple[str, str], int] = {}
    out: dict[tuple[str, str], int] = {}
    for source, rows in data.rows.items():
        id_column = "KUNDENNR" if source == "finance" else "Customer ID"
        email_column = "MAIL" if source == "finance" else "E-Mail"
        for row in rows:
            typed = (_typed_name(row), row[email_column])
            out[(source, row[id_column])] = first.setdefault(typed, len(first))
    return out
