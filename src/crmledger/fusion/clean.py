"""Cleaning: every value of a mapped record in its canonical form, every change on record.

Text is NFC-normalised and its blanks collapsed; people's names are parsed (nameparser:
``"Smith, John"`` gives John / Smith) and shouting names title-cased; company names keep
their core and their legal form in one spelling (``"ACME gmbh."`` -> ``"Acme GmbH"``);
emails, phones (E.164, read in the record's country, else the default region),
countries, postcodes, tax ids, IBANs, websites, currencies and languages go through
:mod:`crmledger.fusion.normalise`::

    >>> cleaned, issues = clean_record(record, region="DE")
    >>> [str(i) for i in issues]
    ['crm:7: phone: changed to E.164', 'crm:7: email: not a valid email address: ...']

A value that cannot be made canonical is dropped with a ``problem`` issue; a value that
changed gets a ``fix`` issue with before and after. :func:`company_parts` and
:func:`given_key` are also what matching compares.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import lru_cache

from nameparser import HumanName

from crmledger.fusion import normalise
from crmledger.fusion.normalise import InvalidValueError, search_key
from crmledger.fusion.records import FusedRecord, Issue, Value

# ------------------------------------------------------------------------ legal forms

#: Legal form -> the spellings it is written in (compared as search keys, so case, dots
#: and accents do not matter). Longest spellings are tried first.
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "GmbH & Co. KG": ("gmbh & co. kg", "gmbh und co kg", "gmbh co kg"),
    "UG (haftungsbeschränkt)": ("ug (haftungsbeschränkt)", "ug haftungsbeschrankt", "ug"),
    "GmbH": ("gmbh", "g.m.b.h.", "gesellschaft mit beschränkter haftung", "ges.m.b.h."),
    "AG": ("ag", "aktiengesellschaft"),
    "KGaA": ("kgaa",),
    "KG": ("kg", "kommanditgesellschaft"),
    "OHG": ("ohg",),
    "e.K.": ("e.k.", "e.kfm."),
    "SE": ("se",),
    "Ltd": ("ltd", "ltd.", "limited"),
    "PLC": ("plc", "public limited company"),
    "LLP": ("llp",),
    "Pty Ltd": ("pty ltd", "pty. ltd.", "proprietary limited"),
    "Inc": ("inc", "inc.", "incorporated"),
    "Corp": ("corp", "corp.", "corporation"),
    "LLC": ("llc", "l.l.c."),
    "Co": ("co", "co.", "company"),
    "S.A.": ("s.a.", "sa", "société anonyme", "sociedad anónima"),
    "S.A.S.": ("s.a.s.", "sas"),
    "SARL": ("sarl", "s.a.r.l.", "s.à r.l.", "s.a r.l."),
    "S.L.": ("s.l.", "sl"),
    "S.p.A.": ("s.p.a.", "spa"),
    "S.r.l.": ("s.r.l.", "srl"),
    "B.V.": ("b.v.", "bv"),
    "N.V.": ("n.v.", "nv"),
    "Oy": ("oy",),
    "AB": ("ab",),
    "A/S": ("a/s", "as"),
    "ApS": ("aps",),
    "Sp. z o.o.": ("sp. z o.o.", "sp z oo"),
}


@lru_cache(maxsize=1)
def _legal_suffixes() -> list[tuple[tuple[str, ...], str]]:
    """``(key words, canonical form)``, the longest first."""
    pairs = {
        tuple(search_key(spelling).split()): form
        for form, spellings in LEGAL_FORMS.items()
        for spelling in (*spellings, form)
    }
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


def _split_form(name: str) -> tuple[str, str, int]:
    """``(core key, legal form, words of the form)``."""
    words = search_key(name).split()
    for suffix, form in _legal_suffixes():
        size = len(suffix)
        if len(words) > size and tuple(words[-size:]) == suffix:
            return " ".join(words[:-size]), form, size
    return " ".join(words), "", 0


def company_parts(name: str) -> tuple[str, str]:
    """``(core name key, legal form)`` of a company name; the form is ``""`` when none is
    recognised at the end::

        >>> company_parts("ACME Holding g.m.b.h.")
        ('acme holding', 'GmbH')
        >>> company_parts("Dupont S.à r.l.")
        ('dupont', 'SARL')
    """
    core, form, _ = _split_form(name)
    return core, form


def _strip_form(name: str, size: int) -> str:
    """``name`` without the last ``size`` words (as search keys count them), case kept."""
    tokens = name.split()
    counted = 0
    while tokens and counted < size:
        counted += len(search_key(tokens.pop()).split())
    return " ".join(tokens).rstrip(" ,&-")


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 3 and (
        all(c.isupper() for c in letters) or all(c.islower() for c in letters)
    )


def _title(text: str) -> str:
    return " ".join(
        "-".join(p[:1].upper() + p[1:].lower() for p in w.split("-")) for w in text.split()
    )


def company_name(name: str) -> str:
    """A company name with its legal form in one spelling and shouting title-cased::

    >>> company_name("ACME HOLDING GMBH"), company_name("Globex inc.")
    ('Acme Holding GmbH', 'Globex Inc')
    """
    _, form, size = _split_form(name)
    if not form:
        return _title(name) if _shouting(name) else name
    head = _strip_form(name, size)
    if not head:
        return name
    head = _title(head) if _shouting(head) else head
    return f"{head} {form}"


# ------------------------------------------------------------------------------ names

#: Nickname -> given name, both as search keys.
NICKNAMES: dict[str, str] = {
    "bob": "robert",
    "rob": "robert",
    "bobby": "robert",
    "robbie": "robert",
    "bill": "william",
    "will": "william",
    "billy": "william",
    "liam": "william",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "mike": "michael",
    "mick": "michael",
    "micha": "michael",
    "dave": "david",
    "davy": "david",
    "dick": "richard",
    "rick": "richard",
    "rich": "richard",
    "tom": "thomas",
    "tommy": "thomas",
    "tony": "anthony",
    "andy": "andrew",
    "drew": "andrew",
    "joe": "joseph",
    "joey": "joseph",
    "sepp": "josef",
    "chris": "christopher",
    "kit": "christopher",
    "dan": "daniel",
    "danny": "daniel",
    "matt": "matthew",
    "nick": "nicholas",
    "steve": "stephen",
    "ben": "benjamin",
    "sam": "samuel",
    "alex": "alexander",
    "sasha": "alexander",
    "fred": "frederick",
    "ed": "edward",
    "ted": "edward",
    "eddie": "edward",
    "hans": "johannes",
    "jo": "johanna",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "cathy": "catherine",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "lisa": "elisabeth",
    "betty": "elizabeth",
    "maggie": "margaret",
    "meg": "margaret",
    "peggy": "margaret",
    "jenny": "jennifer",
    "jen": "jennifer",
    "sue": "susan",
    "susi": "susanne",
    "becky": "rebecca",
    "vicky": "victoria",
    "patty": "patricia",
    "trish": "patricia",
    "mandy": "amanda",
    "gabi": "gabriele",
    "uli": "ulrich",
    "wolf": "wolfgang",
    "klaus": "nikolaus",
    "fritz": "friedrich",
    "franz": "franziskus",
}


def given_key(name: str) -> str:
    """The search key of a given name with nicknames resolved::

    >>> given_key("Bob"), given_key("Róbert")
    ('robert', 'robert')
    """
    key = search_key(name)
    first, _, rest = key.partition(" ")
    first = NICKNAMES.get(first, first)
    return f"{first} {rest}".strip()


def person_names(full: str) -> tuple[str, str]:
    """``(given, family)`` of a full name in any order nameparser reads (``"Smith, John"``,
    ``"Dr. John Smith"``)."""
    parsed = HumanName(full)
    given = " ".join(p for p in (parsed.first, parsed.middle) if p)
    return given, parsed.last


# -------------------------------------------------------------------------- the record

_BLANKS = re.compile(r"\s+")
_MIN_BIRTH = date(1900, 1, 1)


def tidy(text: str) -> str:
    """NFC, blanks collapsed, control characters dropped, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if c in "\t\n " or unicodedata.category(c) != "Cc")
    return _BLANKS.sub(" ", text).strip()


class _Cleaner:
    """Cleans one record, collecting its issues."""

    def __init__(self, record: FusedRecord, region: str | None) -> None:
        self.record = record
        self.values: dict[str, Value] = dict(record.values)
        self.region = region
        self.issues: list[Issue] = []

    def fix(self, name: str, before: Value, after: Value, reason: str) -> None:
        if before != after:
            self.values[name] = after
            r = self.record
            self.issues.append(Issue(r.source, r.row, name, "fix", reason, str(before), str(after)))

    def refuse(self, name: str, reason: str) -> None:
        self.values.pop(name, None)
        r = self.record
        self.issues.append(Issue(r.source, r.row, name, "problem", reason))

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return value if isinstance(value, str) else ""

    def tidy_texts(self) -> None:
        for name, value in list(self.values.items()):
            if isinstance(value, str):
                tidied = tidy(value)
                if tidied:
                    self.fix(name, value, tidied, "whitespace and Unicode normalised")
                else:
                    self.values.pop(name)

    def normalise(self, name: str, fn: Callable[[str], str], reason: str) -> None:
        value = self.text(name)
        if not value:
            return
        try:
            self.fix(name, value, fn(value), reason)
        except InvalidValueError as exc:
            self.refuse(name, str(exc))

    def kind(self) -> None:
        given = self.values.get("kind")
        if given in ("organisation", "person"):
            return
        personal = any(self.values.get(n) for n in ("given_name", "family_name", "birth_date"))
        company = any(self.values.get(n) for n in ("display_name", "legal_name", "tax_id"))
        full = self.text("full_name")
        company = company or bool(full and company_parts(full)[1])
        person = (personal and not company) or (bool(full) and not company)
        self.values["kind"] = "person" if person else "organisation"

    def names(self) -> None:
        if self.values["kind"] == "person":
            self.person()
        else:
            for name in ("display_name", "legal_name"):
                self.normalise(name, company_name, "company name and legal form normalised")
            if not self.text("display_name"):
                full = self.text("legal_name") or self.text("full_name")
                self.values["display_name"] = company_name(full)
            self.values.pop("full_name", None)

    def person(self) -> None:
        full = self.text("full_name") or (
            self.text("display_name") if not self.text("family_name") else ""
        )
        if full and not (self.text("given_name") and self.text("family_name")):
            given, family = person_names(full)
            if given and not self.text("given_name"):
                self.fix("given_name", "", given, "given name parsed from the full name")
            if family and not self.text("family_name"):
                self.fix("family_name", "", family, "family name parsed from the full name")
        for name in ("given_name", "family_name"):
            value = self.text(name)
            if value and _shouting(value):
                self.fix(name, value, _title(value), "name title-cased")
        self.values.pop("full_name", None)
        whole = " ".join(p for p in (self.text("given_name"), self.text("family_name")) if p)
        if whole:
            self.values["display_name"] = whole

    def address(self) -> None:
        self.normalise("country", normalise.country, "country as ISO code")
        country = self.text("country")
        if country:
            self.normalise("postcode", lambda v: normalise.postcode(v, country), "postcode")
        for name in ("city", "street"):
            value = self.text(name)
            if value and _shouting(value):
                self.fix(name, value, _title(value), "title-cased")

    def contact(self) -> None:
        region = self.text("country") or self.region
        for name in ("phone", "mobile"):
            self.normalise(name, lambda v: normalise.phone(v, region), "phone as E.164")
        self.normalise("email", normalise.email, "email normalised")
        self.normalise("website", normalise.website, "website normalised")
        country = self.text("country") or None
        self.normalise("tax_id", lambda v: _tax(v, country), "tax id compacted")
        self.normalise("iban", normalise.iban, "IBAN compacted")
        self.normalise("currency", normalise.currency, "currency as ISO code")
        self.normalise("language", normalise.language, "language as ISO code")

    def dates(self, today: date) -> None:
        born = self.values.get("birth_date")
        if isinstance(born, date) and not _MIN_BIRTH <= born <= today:
            self.refuse("birth_date", f"{born.isoformat()} is not a plausible date of birth")
        if self.values.get("kind") != "person":
            self.values.pop("birth_date", None)


def _tax(value: str, country: str | None) -> str:
    try:
        return normalise.tax_id(value).value
    except InvalidValueError:
        if country is None:
            raise
        return normalise.tax_id(value, country).value


def clean_record(
    record: FusedRecord, region: str | None = None, today: date | None = None
) -> tuple[FusedRecord, list[Issue]]:
    """``record`` with every value canonical, and an issue per change or refusal."""
    cleaner = _Cleaner(record, region)
    cleaner.tidy_texts()
    cleaner.kind()
    cleaner.names()
    cleaner.address()
    cleaner.contact()
    cleaner.dates(today or date.today())  # noqa: DTZ011 (a plausibility bound)
    return replace(record, values=cleaner.values), cleaner.issues
