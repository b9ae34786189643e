"""ISO 4217 currencies the book knows without a declaration, with their minor units.

A commodity that is not listed here (a stock ticker, ``$``) must be declared with its scale
before it is used, or inferred by an importer from the numbers in its file.
"""

from __future__ import annotations

from functools import cache

from crmledger.core.money import Commodity

_ISO_4217: dict[str, tuple[int, str]] = {
    "AED": (2, "UAE Dirham"),
    "ARS": (2, "Argentine Peso"),
    "AUD": (2, "Australian Dollar"),
    "BGN": (2, "Bulgarian Lev"),
    "BHD": (3, "Bahraini Dinar"),
    "BRL": (2, "Brazilian Real"),
    "CAD": (2, "Canadian Dollar"),
    "CHF": (2, "Swiss Franc"),
    "CLP": (0, "Chilean Peso"),
    "CNY": (2, "Yuan Renminbi"),
    "COP": (2, "Colombian Peso"),
    "CZK": (2, "Czech Koruna"),
    "DKK": (2, "Danish Krone"),
    "EGP": (2, "Egyptian Pound"),
    "EUR": (2, "Euro"),
    "GBP": (2, "Pound Sterling"),
    "HKD": (2, "Hong Kong Dollar"),
    "HUF": (2, "Forint"),
    "IDR": (2, "Rupiah"),
    "ILS": (2, "New Israeli Sheqel"),
    "INR": (2, "Indian Rupee"),
    "ISK": (0, "Iceland Krona"),
    "JOD": (3, "Jordanian Dinar"),
    "JPY": (0, "Yen"),
    "KRW": (0, "Won"),
    "KWD": (3, "Kuwaiti Dinar"),
    "MAD": (2, "Moroccan Dirham"),
    "MXN": (2, "Mexican Peso"),
    "MYR": (2, "Malaysian Ringgit"),
    "NGN": (2, "Naira"),
    "NOK": (2, "Norwegian Krone"),
    "NZD": (2, "New Zealand Dollar"),
    "OMR": (3, "Rial Omani"),
    "PEN": (2, "Sol"),
    "PHP": (2, "Philippine Peso"),
    "PKR": (2, "Pakistan Rupee"),
    "PLN": (2, "Zloty"),
    "QAR": (2, "Qatari Rial"),
    "RON": (2, "Romanian Leu"),
    "RSD": (2, "Serbian Dinar"),
    "SAR": (2, "Saudi Riyal"),
    "SEK": (2, "Swedish Krona"),
    "SGD": (2, "Singapore Dollar"),
    "THB": (2, "Baht"),
    "TND": (3, "Tunisian Dinar"),
    "TRY": (2, "Turkish Lira"),
    "TWD": (2, "New Taiwan Dollar"),
    "UAH": (2, "Hryvnia"),
    "USD": (2, "US Dollar"),
    "UYU": (2, "Peso Uruguayo"),
    "VND": (0, "Dong"),
    "XAF": (0, "CFA Franc BEAC"),
    "XOF": (0, "CFA Franc BCEAO"),
    "ZAR": (2, "Rand"),
}


@cache  # a few dozen codes, asked for once per amount in a long export or report
def iso_currency(code: str) -> Commodity | None:
    """The ISO 4217 currency ``code`` as a :class:`Commodity`, or ``None`` if not ISO."""
    found = _ISO_4217.get(code)
    return Commodity(code, found[0], found[1]) if found else None


def iso_codes() -> tuple[str, ...]:
    """Every ISO currency code known here, sorted."""
    return tuple(sorted(_ISO_4217))
