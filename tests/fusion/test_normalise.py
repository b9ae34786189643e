"""The value normalisers: what each accepts, what it makes of it, and what it refuses.

Tables of typed values and their canonical forms, then properties Hypothesis checks over
many generated values: normalising twice changes nothing, and bad input only ever raises
``InvalidValueError``.
"""

from __future__ import annotations

import doctest
import sys
import unicodedata

import phonenumbers
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from crmledger.fusion import normalise
from crmledger.fusion.normalise import (
    InvalidValueError,
    TaxId,
    bic,
    country,
    currency,
    email,
    email_key,
    iban,
    language,
    phone,
    phone_candidates,
    postcode,
    search_key,
    tax_id,
    website,
)


def test_the_docstring_examples_hold() -> None:
    result = doctest.testmod(normalise)
    assert result.attempted >= 15
    assert result.failed == 0


# ----------------------------------------------------------------------------------- phone

#: "+" and digits to their full-width forms (U+FF0B, U+FF10...), as Japanese and Chinese
#: input methods type them.
_FULL_WIDTH = {ord(char): ord(char) + 0xFEE0 for char in "+0123456789"}


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        # Germany: trunk 0, slashes, "(0)" after the country code, 00 from another region
        ("030 1234567", "DE", "+49301234567"),
        ("030/123 45 67", "DE", "+49301234567"),
        ("+49 (0)30 1234567", None, "+49301234567"),
        ("+49 30 1234567", "US", "+49301234567"),  # a "+" wins over the region
        ("0151 23456789", "DE", "+4915123456789"),
        ("0049 151 23456789", "AT", "+4915123456789"),
        ("030 1234567", "Germany", "+49301234567"),  # the region in any country spelling
        ("030 1234567", "deu", "+49301234567"),
        # USA: brackets, dots, dashes, the US international prefix 011
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", None, "+14155552671"),
        ("011 44 20 7946 0958", "US", "+442079460958"),
        # tel: URIs
        ("tel:+1-415-555-2671", None, "+14155552671"),
        ("TEL:+49-30-1234567", None, "+49301234567"),
        ("tel:+44-20-7946-0958", "DE", "+442079460958"),
        # United Kingdom
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("07400 123456", "GB", "+447400123456"),
        # France
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("01.42.68.53.00", "FR", "+33142685300"),
        ("0033 1 42 68 53 00", "DE", "+33142685300"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        # Netherlands, Austria, Switzerland
        ("020-123 4567", "NL", "+31201234567"),
        ("06-12345678", "NL", "+31612345678"),
        ("01 5131234", "AT", "+4315131234"),
        ("0664 1234567", "AT", "+436641234567"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("+41 (0)44 668 18 00", None, "+41446681800"),
        # Italy keeps its leading 0 inside E.164
        ("06 1234 5678", "IT", "+390612345678"),
        ("+39 06 1234 5678", None, "+390612345678"),
        ("312 345 6789", "IT", "+393123456789"),
        # Spain, Sweden, Poland
        ("912 34 56 78", "ES", "+34912345678"),
        ("612 34 56 78", "ES", "+34612345678"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("22 123 45 67", "PL", "+48221234567"),
        # Australia, Japan, Brazil, India, Canada
        ("(02) 9374 4000", "AU", "+61293744000"),
        ("0412 345 678", "AU", "+61412345678"),
        ("03-1234-5678", "JP", "+81312345678"),
        ("090-1234-5678", "JP", "+819012345678"),
        ("(11) 2345-6789", "BR", "+551123456789"),
        ("(11) 96123-4567", "BR", "+5511961234567"),
        ("098765 43210", "IN", "+919876543210"),
        ("+91 98765 43210", None, "+919876543210"),
        ("(613) 555-0123", "CA", "+16135550123"),
        # full-width digits and plus, as some input methods type them
        ("+49 30 1234567".translate(_FULL_WIDTH), None, "+49301234567"),
        ("  +49 30 1234567  ", None, "+49301234567"),
    ],
)
def test_phones_are_read_in_any_common_format(
    typed: str, region: str | None, expected: str
) -> None:
    assert phone(typed, region) == expected


@pytest.mark.parametrize(
    ("typed", "region", "reason"),
    [
        ("030 1234567", None, "give it with a country code or set a default region"),
        ("0044 20 7946 0958", None, "give it with a country code or set a default region"),
        ("+49 30 12", None, "not a valid phone number for region DE"),  # too short
        ("12", "DE", "not a valid phone number for region DE"),
        ("+44 20 7946 095", None, "not a valid phone number for region GB"),
        ("+1 415 555 267", None, "not a valid phone number for region US"),
        ("00000000", "DE", "not a valid phone number for region DE"),
        ("030 1234567", "US", "not a valid phone number for region US"),  # wrong region
        ("(415) 555-2671", "GB", "not a valid phone number for region GB"),
        ("+999 1234567", None, "unknown country calling code"),
        ("abc", "DE", "not a phone number"),
        ("+1 800 FLOWERS", None, "letters are not allowed"),  # vanity numbers
        ("030 1234567 mobile", "DE", "letters are not allowed"),
        ("+49 30 1234567 ext. 12", None, "extensions are not stored"),
        ("+1 (415) 555-2671 x 99", None, "extensions are not stored"),
        ("tel:+1-415-555-2671;ext=12", None, "extensions are not stored"),
        ("", "DE", "phone number is empty"),
        ("   ", None, "phone number is empty"),
        ("030 1234567", "XX", "unknown phone region 'XX'"),
        ("030 1234567", "Narnia", "unknown phone region"),
    ],
)
def test_bad_phones_are_refused_with_a_reason(typed: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        phone(typed, region)


@pytest.mark.parametrize(
    ("query", "region", "expected"),
    [
        ("030 1234567", "DE", ["+49301234567"]),
        ("+49 30 1234567", None, ["+49301234567"]),
        ("+49 30 1234567", "US", ["+49301234567"]),
        ("4930 1234567", None, ["+49301234567"]),  # country code typed without the plus
        ("0049 30 1234567", None, ["+49301234567"]),  # 00 without a region
        ("0044 20 7946 0958", "DE", ["+442079460958"]),
        ("tel:+1-415-555-2671", None, ["+14155552671"]),
        ("44 20 7946 0958", "US", ["+442079460958"]),  # no US reading, a "+" one
        # read both ways, the region's reading first: a Potsdam number (0331 ...), or a
        # Paris number with its country code but no plus
        ("33 1 42 68 53 00", "DE", ["+4933142685300", "+33142685300"]),
    ],
)
def test_phone_candidates_are_the_numbers_a_query_may_mean(
    query: str, region: str | None, expected: list[str]
) -> None:
    assert phone_candidates(query, region) == expected


@pytest.mark.parametrize(
    ("query", "region"),
    [
        ("Müller", "DE"),
        ("ada@example.com", None),
        ("123", "DE"),  # too few digits to be a number
        ("", None),
        ("   ", "DE"),
        ("030 1234567", None),  # no country code, no region, no valid "+" reading
        ("+49 30 12", None),  # phone-like but not valid
        ("030 1234567 ext 5", "DE"),
        ("030 1234567", "XX"),  # an unknown region does not raise here
    ],
)
def test_phone_candidates_are_empty_for_what_is_no_number(query: str, region: str | None) -> None:
    assert phone_candidates(query, region) == []


_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]
_FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@st.composite
def typed_phones(draw: st.DrawFn) -> tuple[str, str]:
    """A number as a person might type it: a region's example number with its last digits
    varied, written in one of the usual formats."""
    region = draw(st.sampled_from(_REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(_TYPES)))
    assume(example is not None)
    assert example is not None
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=2, max_size=2))
    varied = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(national[:-2] + tail),
        italian_leading_zero=example.italian_leading_zero,
        number_of_leading_zeros=example.number_of_leading_zeros,
    )
    return phonenumbers.format_number(varied, draw(st.sampled_from(_FORMATS))), region


@given(typed_phones(), st.sampled_from(["DE", "US", "JP", None]))
def test_phone_is_idempotent_on_its_own_output(typed: tuple[str, str], other: str | None) -> None:
    text, region = typed
    try:
        first = phone(text, region)
    except InvalidValueError:
        reject()  # a varied example can land outside the allocated ranges
    assert first.startswith("+")
    assert first[1:].isdigit()
    assert phone(first) == first
    assert phone(first, other) == first  # E.164 carries its country: the region is moot
    assert first in phone_candidates(first, other)


# ----------------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("typed", "expected", "key"),
    [
        ("ada@example.com", "ada@example.com", "ada@example.com"),
        ("Ada.Lovelace@EXAMPLE.COM", "Ada.Lovelace@example.com", "ada.lovelace@example.com"),
        ("  bob@example.org\t", "bob@example.org", "bob@example.org"),
        (
            "first+tag@sub.example.co.uk",
            "first+tag@sub.example.co.uk",
            "first+tag@sub.example.co.uk",
        ),
        # email_validator keeps an internationalised domain in Unicode, lower-cased,
        # and turns the punycode spelling into it
        ("user@BÜCHER.de", "user@bücher.de", "user@bücher.de"),
        ("user@xn--bcher-kva.de", "user@bücher.de", "user@bücher.de"),
        # a Unicode local part keeps its case; the key folds it, "ß" included
        ("Straße@Example.com", "Straße@example.com", "strasse@example.com"),
        ("JÖRG@example.com", "JÖRG@example.com", "jörg@example.com"),
    ],
)
def test_emails_are_normalised_and_keyed(typed: str, expected: str, key: str) -> None:
    assert email(typed) == expected
    assert email_key(typed) == key


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "email address is empty"),
        ("   ", "email address is empty"),
        ("ada.example.com", "must have an @-sign"),
        ("ada@@example.com", "invalid characters"),
        ("ada@home@example.com", "invalid characters"),
        ("ada lovelace@example.com", "invalid characters"),
        ("ada@exa mple.com", "invalid characters"),
        ("Ada Lovelace <ada@example.com>", "display name"),
        ("<ada@example.com>", "display name|invalid characters"),
        ('"ada"@example.com', "Quoting"),
        ("ada@localhost", "period"),
        ("ada..lovelace@example.com", "two periods"),
        ("@example.com", "something before the @-sign"),
        ("ada@", "something after the @-sign"),
    ],
)
def test_bad_emails_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        email(typed)
    with pytest.raises(InvalidValueError):
        email_key(typed)


# --------------------------------------------------------------------------------- tax ids


@pytest.mark.parametrize(
    ("typed", "given", "expected"),
    [
        # EU VAT numbers with their prefix need no country (python-stdnum's examples)
        ("DE 136 695 976", None, TaxId("DE", "vat", "DE136695976")),
        ("de136,695 976", None, TaxId("DE", "vat", "DE136695976")),
        ("FR40303265045", None, TaxId("FR", "vat", "FR40303265045")),
        ("FR 61 954 506 077", None, TaxId("FR", "vat", "FR61954506077")),
        ("NL004495445B01", None, TaxId("NL", "vat", "NL004495445B01")),
        ("NL4495445B01", None, TaxId("NL", "vat", "NL004495445B01")),
        ("AT U13585627", None, TaxId("AT", "vat", "ATU13585627")),
        ("IT 00743110157", None, TaxId("IT", "vat", "IT00743110157")),
        ("ES B-58378431", None, TaxId("ES", "vat", "ESB58378431")),
        ("ESB64717838", None, TaxId("ES", "vat", "ESB64717838")),
        ("BE 428759497", None, TaxId("BE", "vat", "BE0428759497")),
        ("BE697449992", None, TaxId("BE", "vat", "BE0697449992")),
        ("EL 094259216", None, TaxId("GR", "vat", "EL094259216")),  # Greece is EL
        ("GR094259216", None, TaxId("GR", "vat", "EL094259216")),
        ("GB 980 7806 84", None, TaxId("GB", "vat", "GB980780684")),
        ("GB980780684", None, TaxId("GB", "vat", "GB980780684")),
        ("XI980780684", None, TaxId("GB", "vat", "XI980780684")),  # Northern Ireland
        ("CHE-116.281.710", None, TaxId("CH", "uid", "CHE116281710")),
        # the same numbers without prefix, with the country (any spelling)
        ("136695976", "DE", TaxId("DE", "vat", "DE136695976")),
        ("136 695 976", "Germany", TaxId("DE", "vat", "DE136695976")),
        ("DE136695976", "de", TaxId("DE", "vat", "DE136695976")),
        ("40303265045", "FR", TaxId("FR", "vat", "FR40303265045")),
        ("094259216", "GR", TaxId("GR", "vat", "EL094259216")),
        ("980780684", "GB", TaxId("GB", "vat", "GB980780684")),
        ("U13585627", "AT", TaxId("AT", "vat", "ATU13585627")),
        ("00743110157", "IT", TaxId("IT", "vat", "IT00743110157")),
        ("004495445B01", "NL", TaxId("NL", "vat", "NL004495445B01")),
        ("0428759497", "BE", TaxId("BE", "vat", "BE0428759497")),
        ("B64717838", "ES", TaxId("ES", "vat", "ESB64717838")),
        # other kinds of a country, tried after its VAT number
        ("04-2103594", "US", TaxId("US", "ein", "042103594")),
        ("91-1144442", "USA", TaxId("US", "ein", "911144442")),
        ("CHE-116.281.710", "CH", TaxId("CH", "uid", "CHE116281710")),
        ("100.155.212", "CH", TaxId("CH", "uid", "CHE100155212")),
        ("CHE-107.787.577 IVA", "CH", TaxId("CH", "vat", "CHE107787577IVA")),
        ("83 914 571 673", "AU", TaxId("AU", "abn", "83914571673")),
        ("51 824 753 556", "Australia", TaxId("AU", "abn", "51824753556")),
        ("004 085 616", "AU", TaxId("AU", "acn", "004085616")),
        (" 181/815/0815 5", "DE", TaxId("DE", "stnr", "18181508155")),
        ("1955839661", "GB", TaxId("GB", "utr", "1955839661")),
        ("404833048", "FR", TaxId("FR", "siren", "404833048")),
        ("73282932000074", "FR", TaxId("FR", "siret", "73282932000074")),
        ("59-119/9013", "AT", TaxId("AT", "tin", "591199013")),
        ("12302 6635", "CA", TaxId("CA", "bn", "123026635")),
        ("16.727.230/0001-97", "BR", TaxId("BR", "cnpj", "16727230000197")),
        ("BR16.727.230/0001-97", None, TaxId("BR", "cnpj", "16727230000197")),
    ],
)
def test_tax_ids_are_validated_and_compacted(
    typed: str, given: str | None, expected: TaxId
) -> None:
    assert tax_id(typed, given) == expected


@pytest.mark.parametrize(
    ("typed", "given", "reason"),
    [
        # a check digit changed
        ("DE136695977", None, "for DE: vat checksum does not match"),
        ("136695978", "DE", "for DE: vat checksum does not match"),
        ("FR41303265045", None, "for FR: vat checksum does not match"),
        ("GB802311781", None, "for GB: vat checksum does not match"),
        ("NL004495446B01", None, "for NL: vat checksum does not match"),
        ("ATU13585626", None, "for AT: vat checksum does not match"),
        ("IT00743110158", None, "for IT: vat checksum does not match"),
        ("ESB64717839", None, "for ES: vat checksum does not match"),
        ("BE431150351", None, "for BE: vat checksum does not match"),
        ("EL094259217", None, "for GR: vat checksum does not match"),
        ("CHE-116.281.711", None, "for CH: uid checksum does not match"),
        ("CHE-107.787.578 IVA", "CH", "for CH: vat checksum does not match"),
        ("99 999 999 999", "AU", "for AU: abn checksum does not match"),
        ("404833047", "FR", "for FR"),
        # a wrong length or shape, a prefix not valid for EIN
        ("FR 40 303", None, "for FR"),
        ("07-1144442", "US", "for US: ein contains an unknown part"),
        ("911-14-4442", "US", "for US: ein"),
        ("DE136695976", "FR", "for FR"),  # the number of another country
        # no way to tell the country
        ("136695976", None, "without a country"),
        ("04-2103594", None, "without a country"),
        ("QQ123456789", None, "without a country"),
        # a country that is unknown or has no validator
        ("12345", "Narnia", "unknown country 'Narnia'"),
        ("12345", "AQ", "no tax id validator for country AQ"),
        ("", "DE", "tax id is empty"),
    ],
)
def test_bad_tax_ids_are_refused_with_a_reason(typed: str, given: str | None, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        tax_id(typed, given)


# ------------------------------------------------------------------------------ IBAN, BIC


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89370400440532013000", "DE89370400440532013000"),
        ("  de89 3704 0044 0532 0130 00 ", "DE89370400440532013000"),
        ("DE89-3704-0044-0532-0130-00", "DE89370400440532013000"),
        ("GB29 NWBK 6016 1331 9268 19", "GB29NWBK60161331926819"),
        ("gb29nwbk60161331926819", "GB29NWBK60161331926819"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
        ("fr14 2004 1010 0505 0001 3m02 606", "FR1420041010050500013M02606"),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"),
        ("nl91abna0417164300", "NL91ABNA0417164300"),
    ],
)
def test_ibans_are_compacted(typed: str, expected: str) -> None:
    assert iban(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("DE88 3704 0044 0532 0130 00", "IBAN checksum does not match"),
        ("GB28 NWBK 6016 1331 9268 19", "IBAN checksum does not match"),
        ("NL91 ABNA 0417 1643 01", "IBAN checksum does not match"),
        ("FR14 2004 1010 0505 0001 3M02 607", "IBAN checksum does not match"),
        ("DE89 3704 0044 0532 0130 0", "wrong length"),
        ("XX89 3704 0044 0532 0130 00", "unknown country code"),
        ("GB29 NWBK 6016 1331 9268 1X", "format"),
        ("DE89_3704_0044", "only letters, digits and spaces"),
        ("", "IBAN is empty"),
    ],
)
def test_bad_ibans_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        iban(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DEUTDEFF", "DEUTDEFF"),
        ("deutdeff500", "DEUTDEFF500"),
        ("DEUT DE FF XXX", "DEUTDEFFXXX"),  # kept as given: not shortened to 8
        ("NWBKGB2L", "NWBKGB2L"),
        (" bnpafrpp ", "BNPAFRPP"),
    ],
)
def test_bics_are_compacted(typed: str, expected: str) -> None:
    assert bic(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("DEUTDEF", "8 or 11 characters"),
        ("DEUTDEFF5001", "8 or 11 characters"),
        ("DEUTXXFF", "unknown country code"),
        ("DEUT-DEFF", "only letters and digits"),
        ("", "only letters and digits"),
    ],
)
def test_bad_bics_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        bic(typed)


# ------------------------------------------------------------- country, currency, language


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("de", "DE"),
        ("DE", "DE"),
        (" De ", "DE"),
        ("DEU", "DE"),
        ("deu", "DE"),
        ("276", "DE"),
        ("Germany", "DE"),
        ("GERMANY", "DE"),
        ("Federal Republic of Germany", "DE"),  # official name
        ("united kingdom", "GB"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("UK", "GB"),  # everyday names ISO lacks
        ("England", "GB"),
        ("Russia", "RU"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("South Korea", "KR"),  # common name
        ("Korea, Republic of", "KR"),
        ("Bolivia", "BO"),
        ("Taiwan", "TW"),
        ("USA", "US"),
        ("840", "US"),
        ("76", "BR"),  # numeric codes with leading zeros optional
        ("076", "BR"),
    ],
)
def test_countries_are_read_from_codes_and_names(typed: str, expected: str) -> None:
    assert country(typed) == expected


@pytest.mark.parametrize("typed", ["Narnia", "XX", "XXX", "999", "", "  ", "EU", "Europe", "D"])
def test_unknown_countries_are_refused(typed: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown country"):
        country(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("eur", "EUR"),
        ("EUR", "EUR"),
        ("978", "EUR"),
        ("Euro", "EUR"),
        ("US Dollar", "USD"),
        ("us dollar", "USD"),
        ("Pound Sterling", "GBP"),
        ("British Pound", "GBP"),
        ("swiss franc", "CHF"),
        ("Yen", "JPY"),
        ("392", "JPY"),
        (" jpy ", "JPY"),
        ("chf", "CHF"),
    ],
)
def test_currencies_are_read_from_codes_and_names(typed: str, expected: str) -> None:
    assert currency(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["XYZ", "euros!", "$", "€", "Dollar", "", "Bolívar Soberano", "000"],  # ambiguous or unknown
)
def test_unknown_currencies_are_refused(typed: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown currency"):
        currency(typed)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("eng", "en"),
        ("English", "en"),
        ("german", "de"),
        ("deu", "de"),
        ("ger", "de"),  # ISO 639-2 bibliographic code
        ("de-AT", "de"),  # region subtags are dropped
        ("de_CH", "de"),
        ("pt-BR", "pt"),
        ("zh-Hant-TW", "zh"),  # so are script subtags
        ("en-US", "en"),
        ("Greek", "el"),  # ISO calls it "Modern Greek (1453-)"
        ("Norwegian Bokmål", "nb"),
        ("norwegian bokmal", "nb"),
        ("Malay", "ms"),  # "Malay (macrolanguage)"
        ("fra", "fr"),
    ],
)
def test_languages_are_read_from_codes_names_and_tags(typed: str, expected: str) -> None:
    assert language(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["yue", "Cantonese", "Klingon", "xx", "xx-YY", "", "ndebele", "e", "english-speaking person"],
)
def test_unknown_languages_are_refused(typed: str) -> None:
    with pytest.raises(InvalidValueError, match="unknown language"):
        language(typed)


# --------------------------------------------------------------------------------- website


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.com", "https://example.com"),
        ("www.example.com", "https://www.example.com"),
        ("Example.COM/About", "https://example.com/About"),
        ("http://example.com", "http://example.com"),
        ("HTTP://EXAMPLE.COM/", "http://example.com"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com/shop/?q=Tea#top", "https://example.com/shop/?q=Tea#top"),
        ("example.com:8080/x", "https://example.com:8080/x"),
        ("  www.example.co.uk. ", "https://www.example.co.uk"),
        ("https://bücher.de", "https://bücher.de"),
        ("https://xn--bcher-kva.de", "https://xn--bcher-kva.de"),
    ],
)
def test_websites_get_a_scheme_and_a_lower_case_host(typed: str, expected: str) -> None:
    assert website(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "website is empty"),
        ("exa mple.com", "spaces"),
        ("https://example.com/a b", "spaces"),
        ("ftp://example.com", "http or https"),
        ("mailto:ada@example.com", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("https://", "no host name"),
        ("https:///path", "no host name"),
        ("http://localhost", "not a valid host name"),
        ("https://192.168.0.1", "not a valid host name"),
        ("https://-bad.example.com", "not a valid host name"),
        ("https://example.c0m", "not a valid host name"),
        ("https://exa_mple.com", "not a valid host name"),
        ("https://user:secret@example.com", "user name or password"),
        ("https://example.com:99999", "not a valid web address"),
    ],
)
def test_bad_websites_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        website(typed)


# -------------------------------------------------------------------------------- postcode


@pytest.mark.parametrize(
    ("typed", "given", "expected"),
    [
        ("10115", "DE", "10115"),
        (" 01067 ", "Germany", "01067"),
        ("1010", "AT", "1010"),
        ("8001", "CH", "8001"),
        ("75001", "FR", "75001"),
        ("20000", "FR", "20000"),  # Corsica
        ("97400", "FR", "97400"),  # Réunion
        ("1234ab", "NL", "1234 AB"),
        ("1234  AB", "NL", "1234 AB"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("SW1A 1AA", "GB", "SW1A 1AA"),
        ("m1 1ae", "GB", "M1 1AE"),
        ("B33 8TH", "GB", "B33 8TH"),
        ("CR2 6XH", "GB", "CR2 6XH"),
        ("DN55 1PT", "GB", "DN55 1PT"),
        ("EC1A1BB", "GB", "EC1A 1BB"),
        ("gir 0aa", "GB", "GIR 0AA"),
        ("12345", "US", "12345"),
        ("12345-6789", "US", "12345-6789"),
        ("123456789", "US", "12345-6789"),
        ("12345 6789", "USA", "12345-6789"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("K1A 0B1", "CA", "K1A 0B1"),
        ("h2x-1y4", "CA", "H2X 1Y4"),
        # other countries: trimmed, blanks collapsed, upper-cased
        (" 00-950 ", "PL", "00-950"),
        ("100-0001", "JP", "100-0001"),
        ("  ab  12 ", "IE", "AB 12"),
    ],
)
def test_postcodes_are_spelled_as_their_country_does(typed: str, given: str, expected: str) -> None:
    assert postcode(typed, given) == expected


@pytest.mark.parametrize(
    ("typed", "given", "reason"),
    [
        ("1011", "DE", "not a valid postcode for DE"),
        ("101155", "DE", "not a valid postcode for DE"),
        ("D-10115", "DE", "not a valid postcode for DE"),
        ("0101", "AT", "not a valid postcode for AT"),
        ("80010", "CH", "not a valid postcode for CH"),
        ("00100", "FR", "not a valid postcode for FR"),
        ("0123 AB", "NL", "not a valid postcode for NL"),
        ("1234 SA", "NL", "not a valid postcode for NL"),
        ("1234", "NL", "not a valid postcode for NL"),
        ("SW1A", "GB", "not a valid postcode for GB"),
        ("12345", "GB", "not a valid postcode for GB"),
        ("1234", "US", "not a valid postcode for US"),
        ("12345-678", "US", "not a valid postcode for US"),
        ("D1A 0B1", "CA", "not a valid postcode for CA"),  # D is never used
        ("W1A 0B1", "CA", "not a valid postcode for CA"),  # W never comes first
        ("", "DE", "postcode is empty"),
        ("   ", "JP", "postcode is empty"),
        ("10115", "Narnia", "unknown country 'Narnia'"),
    ],
)
def test_bad_postcodes_are_refused_with_a_reason(typed: str, given: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason):
        postcode(typed, given)


# ------------------------------------------------------------------------------ search key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Müller-Lüdenscheidt GmbH ", "muller ludenscheidt gmbh"),
        ("MÜLLER", "muller"),
        ("Mueller & Co.", "mueller co"),
        ("Straße", "strasse"),
        ("STRAẞE", "strasse"),
        ("Ærøskøbing", "ærøskøbing"),  # letters, not letters with marks: kept
        ("Crème brûlée", "creme brulee"),
        ("\ufb01ne \uff37\uff49\uff44\uff45", "fine wide"),  # ligature, full-width
        ("İstanbul", "istanbul"),
        ("x²", "x2"),
        ("O'Brien_and-Sons", "o brien and sons"),
        ("\u210cello", "hello"),  # black-letter H: decomposes to a capital
        ("Ǆemal", "dzemal"),
        ("ΣΊΣΥΦΟΣ", "σισυφοσ"),
        ("東京 株式会社", "東京 株式会社"),
        ("---", ""),
        ("", ""),
    ],
)
def test_search_keys_fold_case_accents_and_punctuation(text: str, expected: str) -> None:
    assert search_key(text) == expected


def test_search_key_is_idempotent_for_every_character_it_changes() -> None:
    changed = [
        char
        for char in map(chr, range(sys.maxunicode + 1))
        if not 0xD800 <= ord(char) <= 0xDFFF  # lone surrogates are not text
        and (unicodedata.normalize("NFKD", char) != char or char.casefold() != char)
    ]
    assert len(changed) > 5_000
    not_stable = [char for char in changed if search_key(search_key(char)) != search_key(char)]
    assert not_stable == []


@given(st.text())
def test_search_key_is_idempotent(text: str) -> None:
    key = search_key(text)
    assert search_key(key) == key
    assert key == key.strip()
    assert "  " not in key


# ----------------------------------------------------------------------------- robustness

_NORMALISERS = {
    "phone": lambda text: phone(text, "DE"),
    "phone without region": phone,
    "email": email,
    "country": country,
    "currency": currency,
    "language": language,
    "website": website,
    "tax id": tax_id,
    "tax id for CH": lambda text: tax_id(text, "CH"),
    "iban": iban,
    "bic": bic,
    "postcode": lambda text: postcode(text, "GB"),
}
_TYPED = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 +-()./:ABCDEFxte@", max_size=30),
    st.from_regex(r"[A-Z]{2}[0-9A-Z .\-]{4,16}", fullmatch=True),
)


@pytest.mark.parametrize("name", sorted(_NORMALISERS))
@given(text=_TYPED)
def test_bad_input_only_ever_raises_invalid_value_error(name: str, text: str) -> None:
    try:
        outcome = _NORMALISERS[name](text)
    except InvalidValueError as exc:
        outcome = str(exc)
    assert outcome  # a canonical value, or a reason to show


@given(query=_TYPED, region=st.sampled_from(["DE", "US", "XX", None]))
def test_phone_candidates_never_raise(query: str, region: str | None) -> None:
    for number in phone_candidates(query, region):
        assert phone(number) == number
