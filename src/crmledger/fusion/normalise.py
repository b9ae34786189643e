"""Turn what people type into the one canonical form the book stores and compares.

The same phone number arrives as ``"030 1234567"`` from a German web form, as
``"+49 (30) 123-4567"`` from a CSV export and as ``"tel:+49-30-1234567"`` from a vCard. If
each entry point cleaned values its own way, duplicates would hide behind formatting and a
search for one spelling would miss the others. So every entry point (API, CLI import, web
forms, the fusion pipeline) calls the normalisers here, and only ever stores their result::

    >>> phone("030 1234567", region="DE")
    '+49301234567'
    >>> phone("+49 (30) 123-4567")
    '+49301234567'
    >>> country("united kingdom"), currency("euro"), language("de-AT")
    ('GB', 'EUR', 'de')
    >>> search_key("  Müller-Lüdenscheidt GmbH ")
    'muller ludenscheidt gmbh'

Each normaliser either returns the canonical value or raises :class:`InvalidValueError`,
whose message is the reason a person can act on ("IBAN checksum does not match"). The
messages never repeat a personal value (phone, email, IBAN, tax id): they end up in logs
and import reports; codes such as a country name are repeated.

The canonical forms:

========== ===================================================================
phone      E.164, ``+4930123456``; must be a *valid* number, not just possible
email      as ``email_validator`` normalises it (domain lower-cased, IDN domains
           in Unicode); :func:`email_key` case-folds the whole address
country    ISO 3166-1 alpha-2, ``DE``
currency   ISO 4217 alpha-3, ``EUR``
language   ISO 639-1, ``de``
website    ``https://host/path``, scheme http or https only
tax id     :class:`TaxId` with python-stdnum's compact form (EU VAT with prefix)
IBAN, BIC  compact upper case
postcode   the country's usual spelling (``SW1A 1AA``, ``1234 AB``, ``12345-6789``)
========== ===================================================================

Cost: an import normalises a phone, an email and a country per party and must manage
5,000+ parties a second. A phone costs about 35 µs (``phonenumbers``), an email about
20 µs (``email_validator``). Country, currency and language look-ups build their name
index once, on first use, then answer from an ``lru_cache``, so the 100,000th ``"Germany"``
costs a dictionary hit. Regular expressions are compiled at import time. Tax ids, IBANs and
BICs are rarer and validated afresh each time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from urllib.parse import SplitResult, urlsplit, urlunsplit

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty import exceptions as bank_errors
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.util import get_cc_module

__all__ = [
    "InvalidValueError",
    "TaxId",
    "bic",
    "country",
    "currency",
    "email",
    "email_key",
    "iban",
    "language",
    "phone",
    "phone_candidates",
    "postcode",
    "search_key",
    "tax_id",
    "website",
]


class InvalidValueError(ValueError):
    """A value that cannot be normalised; ``str(exc)`` is the human reason, e.g.
    ``"not a valid phone number for region DE"``, ``"IBAN checksum does not match"``."""


# --------------------------------------------------------------------------- search keys

_NON_ALNUM = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()  # the common case, and ten times cheaper
    # Decompose before folding: decomposition can yield capitals (the black-letter H is
    # "H"), folding after it lower-cases them, and no folded character decomposes again,
    # so one pass is enough for the key to be idempotent (the tests check every character).
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.category(char).startswith("M"))
    return bare.casefold()


def search_key(text: str) -> str:
    """The form of a name that search and duplicate detection compare.

    Compatibility-decomposes (NFKD, so "ﬁ" is "fi" and "²" is "2"), drops combining marks
    (accents), case-folds (which also maps "ß" to "ss"), turns every run of characters that
    are not letters or digits into one space, and trims::

        >>> search_key("  Müller-Lüdenscheidt GmbH ")
        'muller ludenscheidt gmbh'
        >>> search_key("STRAẞE & Söhne")
        'strasse sohne'
    """
    return _NON_ALNUM.sub(" ", _fold(text)).strip()


# -------------------------------------------------------------------- code look-up tables


def _fields(record: object, names: Iterable[str]) -> Iterator[str]:
    """The present string fields of a pycountry record, in ``names`` order."""
    for name in names:
        value = getattr(record, name, None)
        if isinstance(value, str) and value:
            yield value


class _Index:
    """Search-key -> code, filled in priority levels: a key taken at an earlier level (a
    code) is never overwritten by a later one (a name), and a key claimed by two codes at
    the same level is ambiguous and dropped rather than guessed."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self._ambiguous: set[str] = set()

    def add_level(self, pairs: Iterable[tuple[str, str]]) -> None:
        level: dict[str, str] = {}
        for text, code in pairs:
            key = search_key(text)
            if not key or key in self.codes:
                continue
            if level.setdefault(key, code) != code:
                self._ambiguous.add(key)
        for key in self._ambiguous:
            level.pop(key, None)
        self.codes.update(level)


_PARENTHESISED = re.compile(r"\s*\([^)]*\)")

#: Everyday English names that ISO (and so pycountry) does not list. The UK's nations map to
#: GB because ISO 3166-1 has no code for them.
_COUNTRY_ALIASES = {
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Holland": "NL",
    "Russia": "RU",
    "Turkey": "TR",
    "Ivory Coast": "CI",
    "Macedonia": "MK",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Burma": "MM",
    "Palestine": "PS",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Micronesia": "FM",
}

#: Unambiguous everyday currency names; symbols are not accepted ("$" and "¥" name several).
_CURRENCY_ALIASES = {
    "British Pound": "GBP",
    "Sterling": "GBP",
    "Japanese Yen": "JPY",
    "Renminbi": "CNY",
    "Chinese Yuan": "CNY",
}


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    index = _Index()
    countries = list(pycountry.countries)
    index.add_level(
        (code, item.alpha_2) for item in countries for code in _fields(item, ("alpha_2", "alpha_3"))
    )
    index.add_level(
        (name, item.alpha_2)
        for item in countries
        for name in _fields(item, ("name", "official_name", "common_name"))
    )
    index.add_level(_COUNTRY_ALIASES.items())
    return index.codes


@lru_cache(maxsize=1)
def _country_numeric() -> dict[str, str]:
    return {item.numeric: item.alpha_2 for item in pycountry.countries}


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    text = value.strip()
    if text.isdigit():
        return _country_numeric().get(text.zfill(3))
    key = search_key(text)
    codes = _country_index()
    found = codes.get(key)
    if found is None and key.startswith("the "):
        found = codes.get(key[4:])  # "The Netherlands", "the Gambia"
    return found


def country(value: str) -> str:
    """ISO 3166-1 alpha-2, upper case, from any spelling pycountry knows.

    Accepts the alpha-2 code (``"de"``), alpha-3 (``"DEU"``), numeric code (``"276"``;
    leading zeros optional, so ``"76"`` is ``"076"``, Brazil), and the English short,
    official or common name in any case, with or without accents and a leading "the"
    (``"united kingdom"``, ``"Côte d'Ivoire"``, ``"The Netherlands"``), plus a few everyday
    names ISO lacks (``"UK"``, ``"Russia"``)::

        >>> country("Federal Republic of Germany")
        'DE'
    """
    code = _country_code(value)
    if code is None:
        raise InvalidValueError(f"unknown country {value.strip()!r}")
    return code


@lru_cache(maxsize=1)
def _currency_index() -> dict[str, str]:
    index = _Index()
    currencies = list(pycountry.currencies)
    index.add_level(
        (code, item.alpha_3)
        for item in currencies
        for code in _fields(item, ("alpha_3", "numeric"))
    )
    index.add_level((item.name, item.alpha_3) for item in currencies)
    index.add_level(_CURRENCY_ALIASES.items())
    return index.codes


@lru_cache(maxsize=1024)
def _currency_code(value: str) -> str | None:
    text = value.strip()
    return _currency_index().get(text.zfill(3) if text.isdigit() else search_key(text))


def currency(value: str) -> str:
    """ISO 4217 alpha-3, upper case, from the code (``"eur"``), the numeric code
    (``"978"``) or the ISO name (``"US Dollar"``, ``"Pound Sterling"``)::

        >>> currency("swiss franc")
        'CHF'
    """
    code = _currency_code(value)
    if code is None:
        raise InvalidValueError(f"unknown currency {value.strip()!r}")
    return code


def _language_names(item: object) -> Iterator[str]:
    for name in _fields(item, ("name", "inverted_name", "common_name")):
        yield name
        yield _PARENTHESISED.sub("", name)  # "Malay (macrolanguage)" -> "Malay"
        yield name.split(",")[0]  # "Greek, Modern (1453-)" -> "Greek"


@lru_cache(maxsize=1)
def _language_index() -> dict[str, str]:
    index = _Index()
    # Only languages with a two-letter code can be stored, so only they are indexed.
    languages = [item for item in pycountry.languages if getattr(item, "alpha_2", None)]
    index.add_level((item.alpha_2, item.alpha_2) for item in languages)
    index.add_level(
        (code, item.alpha_2)
        for item in languages
        for code in _fields(item, ("alpha_3", "bibliographic"))
    )
    index.add_level((name, item.alpha_2) for item in languages for name in _language_names(item))
    return index.codes


_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})+")


@lru_cache(maxsize=1024)
def _language_code(value: str) -> str | None:
    text = value.strip()
    codes = _language_index()
    found = codes.get(search_key(text))
    if found is None and (tag := _LANGUAGE_TAG.fullmatch(text)):
        found = codes.get(tag.group(1).lower())
    return found


def language(value: str) -> str:
    """ISO 639-1, lower case, from the two-letter code, a three-letter ISO 639-2/3 code
    (``"eng"``, ``"ger"``) or the English name (``"German"``, ``"greek"``).

    A BCP 47 tag such as ``"de-AT"``, ``"pt_BR"`` or ``"zh-Hant-TW"`` gives its primary
    language; the script and region subtags are dropped on purpose, because a party's
    region is its country's business, not its language's::

        >>> language("de-AT")
        'de'

    Languages without a two-letter code (Cantonese, ``"yue"``) are refused.
    """
    code = _language_code(value)
    if code is None:
        raise InvalidValueError(
            f"unknown language {value.strip()!r}: give an ISO 639-1 code such as 'en' "
            "or an English name"
        )
    return code


# --------------------------------------------------------------------------------- phones

_TEL_SCHEME = re.compile(r"\s*tel:", re.IGNORECASE)

_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short to be a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    phonenumbers.NumberParseException.TOO_LONG: "too long to be a phone number",
}


def _phone_region(region: str | None) -> str | None:
    if region is None:
        return None
    code = _country_code(region)
    if code is None or code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValueError(f"unknown phone region {region!r}")
    return code


def _parse_phone(text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
        no_plus = not text.lstrip().startswith(("+", "\uff0b"))
        if exc.error_type == exc.INVALID_COUNTRY_CODE and region is None and no_plus:
            reason = "no country code: give it with a country code or set a default region"
        raise InvalidValueError(reason) from None


def phone(value: str, region: str | None = None) -> str:
    """The E.164 form (``"+4930123456"``) of a phone number typed in any common format.

    ``region`` (an ISO country, any spelling :func:`country` accepts) says how to read a
    number without a country code: ``phone("030 1234567", "DE")``,
    ``phone("(415) 555-2671", "US")``, ``phone("0044 20 7946 0958", "DE")`` (the region's
    international prefix). Spaces, dots, dashes, slashes, brackets and ``tel:`` URIs are
    fine; a number with ``+`` ignores the region.

    The number must be *valid* (an allocated range of its country), not merely of a
    possible length. Refused on purpose:

    * extensions (``"+49 30 1234567 ext. 12"``, ``";ext=12"``): E.164 cannot hold one,
      and silently dropping it would send calls to the switchboard; store it separately;
    * letters (``"+1 800 FLOWERS"``): phonenumbers would read them as keypad digits, which
      turns a trailing note such as ``"mobile"`` into digits of the number.
    """
    code = _phone_region(region)
    text = _TEL_SCHEME.sub("", value, count=1)
    if not text.strip():
        raise InvalidValueError("phone number is empty")
    number = _parse_phone(text, code)
    if number.extension:
        raise InvalidValueError("phone extensions are not stored: give the number without it")
    if any(char.isalpha() for char in text):
        raise InvalidValueError("letters are not allowed in a phone number")
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_country_code(number.country_code or 0)
        raise InvalidValueError(f"not a valid phone number for region {where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PHONE_LIKE = re.compile(r"(?:tel:)?\s*[+\uff0b]?[\d\s().\-/]+", re.IGNORECASE)
_MIN_PHONE_DIGITS = 5


def phone_candidates(query: str, region: str | None) -> list[str]:
    """The E.164 numbers a typed search query may mean; ``[]`` when it is not phone-like.

    A query is phone-like when it holds only digits and phone punctuation (and at least
    five digits). It is read with ``region`` as :func:`phone` would, and, when it has no
    ``+``, also as if it had one (``"4930123456"``) or as if its leading ``00`` were one,
    so a number typed with its country code but no plus is still found. Only valid
    numbers are returned (stored numbers are valid), without duplicates, best reading
    first. Never raises::

        >>> phone_candidates("030 1234567", "DE")
        ['+49301234567']
        >>> phone_candidates("Müller", "DE")
        []
    """
    text = query.strip()
    if not _PHONE_LIKE.fullmatch(text):
        return []
    digits = "".join(char for char in text if char.isdigit())
    if len(digits) < _MIN_PHONE_DIGITS:
        return []
    readings: list[tuple[str, str | None]] = [(text, region)]
    if "+" not in text and "\uff0b" not in text:
        readings.append(("+" + digits, None))
        if digits.startswith("00"):
            readings.append(("+" + digits[2:], None))
    found: list[str] = []
    for reading, reading_region in readings:
        try:
            number = phone(reading, reading_region)
        except InvalidValueError:
            continue
        if number not in found:
            found.append(number)
    return found


# --------------------------------------------------------------------------------- emails


def email(value: str) -> str:
    """An email address as ``email_validator`` normalises it, surrounding blanks trimmed.

    The domain is lower-cased (an IDN domain stays in Unicode, ``"user@bücher.de"``; the
    punycode spelling is turned into it); the local part keeps its case, because the
    receiving server may, in theory, care. Display names (``"Ada <ada@example.com>"``),
    quoted local parts and domains that cannot be on the internet are refused. No DNS
    look-up is made::

        >>> email("Ada.Lovelace@EXAMPLE.com")
        'Ada.Lovelace@example.com'
    """
    text = value.strip()
    if not text:
        raise InvalidValueError("email address is empty")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidValueError(str(exc)) from None


def email_key(value: str) -> str:
    """The key that search and duplicate detection compare: :func:`email`, case-folded
    whole (in practice no mail server treats ``Ada@`` and ``ada@`` as two people)::

        >>> email_key("Ada.Lovelace@EXAMPLE.com")
        'ada.lovelace@example.com'
    """
    return email(value).casefold()


# ------------------------------------------------------------------------------- websites

_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
# "mailto:x", "javascript:x" (a scheme with no "//"); "example.com:8080" is a host and port.
_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-]*:(?!\d)")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")


def _url_parts(text: str) -> SplitResult:
    if not _URL_SCHEME.match(text):
        if _OTHER_SCHEME.match(text):
            raise InvalidValueError("a website must be an http or https address")
        text = "https://" + text
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        raise InvalidValueError("not a valid web address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidValueError("a website must be an http or https address")
    if parts.username is not None or parts.password is not None:
        raise InvalidValueError("a website must not contain a user name or password")
    return parts


def _checked_host(host: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise InvalidValueError("the web address has no host name")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidValueError("not a valid host name in the web address") from None
    labels = ascii_host.split(".")
    valid = len(labels) >= 2 and all(_HOST_LABEL.fullmatch(label) for label in labels)
    if not valid or not _TOP_LABEL.fullmatch(labels[-1]):
        raise InvalidValueError("not a valid host name in the web address")
    return host


def website(value: str) -> str:
    """A web address with scheme: ``"example.com"`` becomes ``"https://example.com"``.

    http and https are kept as given (lower-cased), the host is lower-cased and must be a
    public-looking DNS name (two or more labels, an alphabetic top-level domain; IDN hosts
    stay in Unicode), a bare trailing ``/`` is dropped, path, query and fragment are kept
    as typed. Refused: blanks inside, other schemes (``ftp:``, ``mailto:``), a missing or
    malformed host, IP addresses, and credentials (``user:pw@``)::

        >>> website("Example.COM/About")
        'https://example.com/About'
    """
    text = value.strip()
    if not text:
        raise InvalidValueError("website is empty")
    if any(char.isspace() for char in text):
        raise InvalidValueError("a web address cannot contain spaces")
    parts = _url_parts(text)
    host = _checked_host(parts.hostname or "")
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    path = "" if parts.path == "/" and not parts.query and not parts.fragment else parts.path
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, parts.fragment))


# ------------------------------------------------------------------------------- tax ids


@dataclass(frozen=True, slots=True)
class TaxId:
    """A validated tax identifier.

    ``country`` is ISO alpha-2 (Greece is ``GR`` even though its VAT prefix is ``EL``),
    ``scheme`` the python-stdnum module that validated it (``"vat"``, ``"ein"``, ``"abn"``,
    ``"uid"``...), ``value`` stdnum's compact form; VAT numbers of EU states and the UK keep
    their prefix (``"DE136695976"``, ``"EL094259216"``), because that is how they are
    quoted on invoices and checked in VIES.
    """

    country: str
    scheme: str
    value: str


#: Countries whose VAT number is written with its country prefix.
_PREFIXED_VAT = frozenset(cc.upper() for cc in eu_vat.MEMBER_STATES if cc != "xi") | {"GB"}
#: The prefixes a VAT number may be typed with -> the one it is written with (the first one
#: when none is typed). Greece's VAT prefix is EL; XI marks Northern Ireland's numbers.
_VAT_PREFIXES = {"GR": {"EL": "EL", "GR": "EL"}, "GB": {"GB": "GB", "XI": "XI"}}
#: Business tax ids tried after the VAT number, per country (personal ids are left out).
_MORE_TAX_SCHEMES = {
    "AT": ("tin",),
    "AU": ("acn",),
    "CH": ("uid",),
    "DE": ("stnr",),
    "FR": ("siren", "siret"),
    "GB": ("utr",),
    "IN": ("pan",),
    "US": ("ein",),
}
_Validator = Callable[[str], str]

#: Most specific first: a checksum failure means the number had the scheme's shape.
_TAX_REASONS: tuple[tuple[type[stdnum_errors.ValidationError], str], ...] = (
    (stdnum_errors.InvalidChecksum, "checksum does not match"),
    (stdnum_errors.InvalidComponent, "contains an unknown part (region, office or kind)"),
    (stdnum_errors.InvalidFormat, "has the wrong format"),
    (stdnum_errors.InvalidLength, "has the wrong length"),
)


def _prefixed_vat(validate: _Validator, prefixes: Mapping[str, str], number: str) -> str:
    text = number.strip().upper()
    typed = text[:2] if text[:2] in prefixes else ""
    written = prefixes[typed] if typed else next(iter(prefixes.values()))
    return written + validate(text[len(typed) :])


def _module_name(module: object) -> str:
    """``"abn"`` for ``stdnum.au.abn``: the scheme a country's ``vat`` alias really is."""
    return str(getattr(module, "__name__", "vat")).rsplit(".", 1)[-1]


@cache
def _tax_schemes(cc: str) -> tuple[tuple[str, _Validator], ...]:
    schemes: list[tuple[str, _Validator]] = []
    vat = get_cc_module(cc, "vat")
    if vat is not None and cc in _PREFIXED_VAT:
        prefixes = _VAT_PREFIXES.get(cc, {cc: cc})
        schemes.append(("vat", partial(_prefixed_vat, vat.validate, prefixes)))
    elif vat is not None:
        schemes.append((_module_name(vat), vat.validate))
    for name in _MORE_TAX_SCHEMES.get(cc, ()):
        module = get_cc_module(cc, name)
        if module is not None:
            schemes.append((name, module.validate))
    return tuple(schemes)


def _reason(scheme: str, exc: stdnum_errors.ValidationError) -> tuple[int, str]:
    for rank, (kind, text) in enumerate(_TAX_REASONS):
        if isinstance(exc, kind):
            return rank, f"{scheme} {text}"
    return len(_TAX_REASONS), f"{scheme} is not valid"


def _validate_tax_id(cc: str, texts: tuple[str, ...]) -> TaxId:
    schemes = _tax_schemes(cc)
    if not schemes:
        raise InvalidValueError(f"no tax id validator for country {cc}")
    reasons: list[tuple[int, str]] = []
    for scheme, validate in schemes:
        for text in texts:
            try:
                return TaxId(country=cc, scheme=scheme, value=validate(text))
            except stdnum_errors.ValidationError as exc:
                reasons.append(_reason(scheme, exc))
    raise InvalidValueError(f"not a valid tax id for {cc}: {min(reasons)[1]}")


_LETTER_PREFIX = re.compile(r"\s*([A-Za-z]{2})")
_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


def _prefix_country(text: str) -> str:
    match = _LETTER_PREFIX.match(text)
    prefix = match.group(1).upper() if match else ""
    code = _PREFIX_COUNTRY.get(prefix) or (_country_code(prefix) if len(prefix) == 2 else None)
    if code is None:
        raise InvalidValueError(
            "tax id without a country: prefix it with its VAT country code (DE, FR, ...) "
            "or give the country"
        )
    return code


def tax_id(value: str, country: str | None = None) -> TaxId:
    """A tax identifier validated (check digits included) by python-stdnum.

    Without ``country`` the number must start with its country's letters, as VAT numbers
    do: ``"DE 136 695 976"``, ``"FR40303265045"``, ``"EL094259216"``, ``"GB980780684"``,
    ``"CHE-116.281.710"``. With ``country`` (any spelling :func:`country` accepts) the
    prefix is optional, and the country's VAT number is tried first, then its other common
    business tax ids: US EIN (``"04-2103594"``), AU ABN then ACN, CH MWST then UID, DE
    Steuernummer, GB UTR, FR SIREN/SIRET, AT Steuernummer, IN GSTIN then PAN::

        >>> tax_id("DE 136 695 976")
        TaxId(country='DE', scheme='vat', value='DE136695976')
        >>> tax_id("04-2103594", "US")
        TaxId(country='US', scheme='ein', value='042103594')

    No online check (VIES) is made. A country without a validator in stdnum is refused,
    naming the country.
    """
    text = value.strip()
    if not text:
        raise InvalidValueError("tax id is empty")
    if country is not None:
        cc = _country_code(country)
        if cc is None:
            raise InvalidValueError(f"unknown country {country.strip()!r} for a tax id")
        return _validate_tax_id(cc, (text,))
    cc = _prefix_country(text)
    # A prefixed VAT scheme strips the prefix itself; others may need it gone.
    rest = _LETTER_PREFIX.sub("", text, count=1)
    return _validate_tax_id(cc, (text,) if cc in _PREFIXED_VAT else (text, rest))


# ------------------------------------------------------------------------ bank accounts

_IBAN_SEPARATORS = re.compile(r"[\s.\-]+")
_IBAN_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (bank_errors.InvalidChecksumDigits, "IBAN checksum does not match"),
    (bank_errors.InvalidCountryCode, "IBAN starts with an unknown country code"),
    (bank_errors.InvalidLength, "IBAN has the wrong length for its country"),
    (bank_errors.InvalidStructure, "IBAN does not have its country's format"),
)


def _bank_reason(reasons: tuple[tuple[type[Exception], str], ...], exc: Exception) -> str:
    return next((text for kind, text in reasons if isinstance(exc, kind)), str(exc))


def iban(value: str) -> str:
    """An IBAN in compact upper case (``"DE89370400440532013000"``), checked by schwifty
    for country, length, format and the ISO 7064 check digits. Spaces, dots and dashes
    between groups are dropped. The bank-specific national check digits are not checked:
    schwifty does not know every bank's method, and a false refusal costs more than a
    mistyped account the bank itself will refuse::

        >>> iban("de89 3704 0044 0532 0130 00")
        'DE89370400440532013000'
    """
    text = _IBAN_SEPARATORS.sub("", value)
    if not text:
        raise InvalidValueError("IBAN is empty")
    if not text.isascii() or not text.isalnum():
        raise InvalidValueError("IBAN may contain only letters, digits and spaces")
    try:
        return IBAN(text).compact
    except bank_errors.SchwiftyException as exc:
        raise InvalidValueError(_bank_reason(_IBAN_REASONS, exc)) from None


_BIC_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (bank_errors.InvalidLength, "BIC must have 8 or 11 characters"),
    (bank_errors.InvalidCountryCode, "BIC has an unknown country code"),
    (bank_errors.InvalidStructure, "BIC does not have the BIC format"),
)


def bic(value: str) -> str:
    """A BIC (SWIFT code) in compact upper case, as typed in length: ``"DEUTDEFF"`` and
    ``"DEUTDEFFXXX"`` (the same head office) stay as given, because some payment formats
    insist on one or the other::

        >>> bic("deut de ff 500")
        'DEUTDEFF500'
    """
    text = "".join(value.split())
    if not text.isascii() or not text.isalnum():
        raise InvalidValueError("BIC may contain only letters and digits")
    try:
        return BIC(text).compact
    except bank_errors.SchwiftyException as exc:
        raise InvalidValueError(_bank_reason(_BIC_REASONS, exc)) from None


# ------------------------------------------------------------------------------ postcodes

#: Applied to the upper-cased code with blanks and dashes removed; the groups are joined
#: with the separator to give the usual spelling.
_POSTCODE_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    # Germany, France: five digits (France: department 01-98 first).
    "DE": (re.compile(r"(\d{5})"), ""),
    "FR": (re.compile(r"((?:0[1-9]|[1-8]\d|9[0-8])\d{3})"), ""),
    # Austria, Switzerland: four digits, no leading zero.
    "AT": (re.compile(r"([1-9]\d{3})"), ""),
    "CH": (re.compile(r"([1-9]\d{3})"), ""),
    # Netherlands: "1234 AB"; the letter pairs SA, SD and SS are not issued.
    "NL": (re.compile(r"([1-9]\d{3})((?!SA|SD|SS)[A-Z]{2})"), " "),
    # UK: outward code (area, district) + inward code (sector, unit), "SW1A 1AA", "GIR 0AA".
    "GB": (re.compile(r"([A-Z]{1,2}\d[A-Z\d]?|GIR)(\d[A-Z]{2})"), " "),
    # USA: ZIP or ZIP+4, "12345" / "12345-6789".
    "US": (re.compile(r"(\d{5})(\d{4})?"), "-"),
    # Canada: "K1A 0B1"; D, F, I, O, Q, U are never used, W and Z never first.
    "CA": (
        re.compile(r"([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])(\d[ABCEGHJ-NPRSTV-Z]\d)"),
        " ",
    ),
}
_BLANKS_AND_DASHES = re.compile(r"[\s\-]+")


def postcode(value: str, country: str) -> str:
    """A postal code in its country's usual spelling.

    Trimmed and upper-cased everywhere (inner blanks collapsed to one). For DE, AT, CH,
    FR, NL, GB, US and CA the format is checked and the usual separator restored
    (``"sw1a1aa"`` -> ``"SW1A 1AA"``, ``"1234ab"`` -> ``"1234 AB"``, ``"123456789"`` ->
    ``"12345-6789"``); country prefixes such as ``"D-10115"`` are refused there. Other
    countries' codes are only trimmed::

        >>> postcode(" k1a0b1 ", "CA")
        'K1A 0B1'
    """
    cc = _country_code(country)
    if cc is None:
        raise InvalidValueError(f"unknown country {country.strip()!r} for a postcode")
    text = " ".join(value.split()).upper()
    if not text:
        raise InvalidValueError("postcode is empty")
    rule = _POSTCODE_RULES.get(cc)
    if rule is None:
        return text
    pattern, separator = rule
    match = pattern.fullmatch(_BLANKS_AND_DASHES.sub("", text))
    if match is None:
        raise InvalidValueError(f"not a valid postcode for {cc}")
    return separator.join(group for group in match.groups() if group)
