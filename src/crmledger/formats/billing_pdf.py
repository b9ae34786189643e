"""Billing documents as PDF: invoices, credit notes and dunning letters on A4, and invoices as
Factur-X / ZUGFeRD (EN 16931) with their CII XML embedded in a PDF/A-3.

A renderer reads one :class:`~crmledger.core.billing.printable.Printable` and nothing else.
Labels come from a small table per language, numbers, dates and money from Babel in the
customer's locale, with exactly the document's currency decimals::

    render_pdf(invoice)       # pages reading "Invoice INV-2026-0001 ... Total €1,190.00"
    render_facturx(invoice)   # the same pages as PDF/A-3 plus factur-x.xml
    # a "de" customer reads "Rechnung ... Gesamtbetrag 1.190,00 €"

Rendering is offline. The stylesheet is inlined and the logo is a ``data:`` URI, and the URL
fetcher refuses every other scheme, so a stray ``http://`` in a template fails the render
(:class:`ExternalResourceError`) instead of reaching the network.
"""

from __future__ import annotations

import base64
import copy
from decimal import Decimal
from typing import Any

import facturx
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from crmledger.core.billing.printable import PostalAddress, Printable, PrintedLine
from crmledger.formats.facturx_xml import facturx_xml

# One row per label: English, German. A language without a column falls back to English.
_LABEL_ROWS: dict[str, tuple[str, str]] = {
    "invoice": ("Invoice", "Rechnung"),
    "credit_note": ("Credit note", "Gutschrift"),
    "dunning_letter": ("Payment reminder", "Zahlungserinnerung"),
    "refers_invoice": ("Refers to invoice", "Bezieht sich auf Rechnung"),
    "refers_credit_note": ("Credit note for invoice", "Gutschrift zu Rechnung"),
    "refers_dunning_letter": ("Concerning invoice", "Betrifft Rechnung"),
    "number": ("Number", "Nummer"),
    "issued_on": ("Date", "Datum"),
    "due_on": ("Due date", "Fällig am"),
    "customer_vat_id": ("Your VAT ID", "Ihre USt-IdNr."),
    "customer_reference": ("Your reference", "Ihr Zeichen"),
    "position": ("#", "Pos."),
    "description": ("Description", "Beschreibung"),
    "quantity": ("Qty", "Menge"),
    "unit": ("Unit", "Einheit"),
    "unit_price": ("Unit price", "Einzelpreis"),
    "unit_price_gross": ("Unit price incl. VAT", "Einzelpreis brutto"),
    "discount": ("Discount", "Rabatt"),
    "net": ("Net", "Netto"),
    "tax_rate": ("VAT", "USt."),
    "tax_summary": ("VAT breakdown", "Umsatzsteuer"),
    "tax_base": ("Taxable amount", "Bemessungsgrundlage"),
    "tax": ("VAT amount", "Steuerbetrag"),
    "total_net": ("Total net", "Summe netto"),
    "total_tax": ("Total VAT", "Summe Umsatzsteuer"),
    "total_gross": ("Total", "Gesamtbetrag"),
    "paid": ("Paid", "Bereits bezahlt"),
    "due": ("Amount due", "Zu zahlender Betrag"),
    "payment_terms": ("Payment terms", "Zahlungsbedingungen"),
    "bank": ("Bank details", "Bankverbindung"),
    "vat_id": ("VAT ID", "USt-IdNr."),
    "page": ("Page", "Seite"),
}
_LANGUAGES = ("en", "de")
_LABELS: dict[str, dict[str, str]] = {
    language: {key: row[column] for key, row in _LABEL_ROWS.items()}
    for column, language in enumerate(_LANGUAGES)
}

_TEMPLATES = Environment(
    loader=PackageLoader("crmledger.formats", "templates/billing"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


class ExternalResourceError(ValueError):
    """A template or document referred to a resource outside itself (only data: URIs load)."""


def render_pdf(doc: Printable) -> bytes:
    """``doc`` as an A4 PDF in the customer's language."""
    return html_to_pdf(render_html(doc))


def render_facturx(doc: Printable) -> bytes:
    """An invoice (type 380) or credit note (381) as a Factur-X EN 16931 PDF/A-3.

    The XML is checked against the Factur-X EN 16931 XSD before it is embedded; a dunning
    letter, or totals that break the norm's sum rules, raise (see :mod:`.facturx_xml`).
    """
    xml = facturx_xml(doc)
    pdf = html_to_pdf(render_html(doc), archival=True)
    result: bytes = facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, lang=doc.language
    )
    return result


def render_html(doc: Printable) -> str:
    """The HTML that :func:`render_pdf` prints: self-contained, no external references."""
    return _TEMPLATES.get_template("document.html").render(_context(doc))


def html_to_pdf(html: str, *, archival: bool = False) -> bytes:
    """Print ``html`` with WeasyPrint, loading nothing but ``data:`` URIs.

    ``archival`` writes PDF/A-3b (embedded fonts, colour profile), what Factur-X requires.
    """
    # fail_on_errors turns a refused URL into an error; by default WeasyPrint would only log
    # a warning and print the document with the image silently missing.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    options: dict[str, Any] = {"pdf_variant": "pdf/a-3b"} if archival else {}
    try:
        pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(**options)
    except FatalURLFetchingError as error:  # a BaseException: keep it from escaping as one
        raise ExternalResourceError(str(error)) from error
    return pdf


# -- what the template sees ------------------------------------------------------------------


def _document_locale(language: str) -> Locale:
    """The Babel locale for a customer language; English when we have no labels for it."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale("en")
    return locale if locale.language in _LABELS else Locale("en")


class _Formats:
    """Babel formatting in one locale and one currency at the document's decimals."""

    def __init__(self, locale: Locale, currency: str, scale: int) -> None:
        self.locale = locale
        self.currency = currency
        # The locale's currency pattern with the document's decimals: the book's scale wins
        # over CLDR's idea of the currency, so the print never rounds a booked amount.
        self._pattern = copy.copy(locale.currency_formats["standard"])
        self._pattern.frac_prec = (scale, scale)

    def money(self, amount: Decimal) -> str:
        return format_currency(
            amount, self.currency, format=self._pattern, locale=self.locale, currency_digits=False
        )

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, fraction: Decimal) -> str:
        return format_percent(fraction, locale=self.locale, decimal_quantization=False)


def _context(doc: Printable) -> dict[str, Any]:
    locale = _document_locale(doc.language)
    labels = _LABELS[str(locale.language)]
    fmt = _Formats(locale, doc.currency, doc.currency_scale)
    return {
        "doc": doc,
        "lang": str(locale.language),
        "t": labels,
        "title": labels[doc.kind],
        "refers_label": labels[f"refers_{doc.kind}"],
        # A tax-inclusive document prints the gross prices its customer was quoted, so
        # labelled; the line amounts stay net, as the norm and the tax breakdown count them.
        "unit_price_label": labels["unit_price_gross" if doc.prices_include_tax else "unit_price"],
        "logo": _data_uri(doc.seller.logo_png),
        "seller_address": _address_lines(doc.seller.address, locale),
        "buyer_address": _address_lines(doc.buyer.address, locale),
        "issued_on": format_date(doc.issued_on, "medium", locale=locale),
        "due_on": format_date(doc.due_on, "medium", locale=locale) if doc.due_on else "",
        "lines": [_line_row(line, fmt) for line in doc.lines],
        "taxes": [
            {"rate": fmt.percent(t.rate), "base": fmt.money(t.base), "tax": fmt.money(t.tax)}
            for t in doc.taxes
        ],
        "totals": _totals(doc, fmt, labels),
    }


def _line_row(line: PrintedLine, fmt: _Formats) -> dict[str, str]:
    return {
        "description": line.description,
        "quantity": fmt.number(line.quantity),
        "unit": line.unit,
        "unit_price": fmt.money(line.unit_price),
        # The discount is a percentage (10 means 10 %), as on sales documents.
        "discount": fmt.percent(line.discount / 100) if line.discount else "",
        "net": fmt.money(line.net),
        "tax_rate": fmt.percent(line.tax_rate),
    }


def _totals(doc: Printable, fmt: _Formats, labels: dict[str, str]) -> list[tuple[str, str]]:
    rows = [
        (labels["total_net"], fmt.money(doc.net)),
        (labels["total_tax"], fmt.money(doc.tax)),
        (labels["total_gross"], fmt.money(doc.gross)),
    ]
    if doc.paid:
        rows.append((labels["paid"], fmt.money(doc.paid)))
    rows.append((labels["due"], fmt.money(doc.due)))
    return rows


def _address_lines(address: PostalAddress, locale: Locale) -> list[str]:
    city = " ".join(part for part in (address.postcode, address.city) if part)
    country = locale.territories.get(address.country.upper(), address.country)
    return [line for line in (*address.lines, city, country) if line]


def _data_uri(png: bytes | None) -> str:
    if not png:
        return ""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
