"""Billing documents printed to PDF and Factur-X, read back with pypdf and the factur-x library."""

from __future__ import annotations

import base64
import dataclasses
import io
import socket
import struct
import zlib
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import facturx
import pytest
from babel.numbers import format_currency
from lxml import etree as lxml_etree
from pypdf import PdfReader

from crmledger.core.billing.printable import (
    Company,
    Customer,
    PostalAddress,
    Printable,
    PrintedLine,
    PrintedTax,
)
from crmledger.formats.billing_pdf import (
    ExternalResourceError,
    html_to_pdf,
    render_facturx,
    render_html,
    render_pdf,
)
from crmledger.formats.facturx_xml import (
    FacturXTotalsError,
    FacturXUnsupportedError,
    facturx_xml,
)

NBSP = "\xa0"
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
RSM = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}"


def _png() -> bytes:
    """A 1x1 red PNG, written by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


SELLER = Company(
    name="Acme Consulting GmbH",
    address=PostalAddress(("Hauptstraße 1",), "10115", "Berlin", "DE"),
    vat_id="DE123456789",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    email="billing@acme.example",
    logo_png=_png(),
)
BUYER = Customer(
    name="Brightside Trading Ltd",
    address=PostalAddress(("1 High Street", "Unit 4"), "EC1A 1BB", "London", "GB"),
    vat_id="GB123456789",
    reference="PO-4711",
)


def _invoice(**changes: Any) -> Printable:
    """EUR: 8 h consulting at 100.00 less 10 % (19 % VAT) and 4 books at 25.00 (7 % VAT)."""
    doc = Printable(
        kind="invoice",
        number="INV-2026-0001",
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 15),
        currency="EUR",
        currency_scale=2,
        language="en",
        seller=SELLER,
        buyer=BUYER,
        lines=(
            PrintedLine(
                "Consulting",
                Decimal(8),
                "h",
                Decimal("100.00"),
                Decimal(10),
                Decimal("720.00"),
                "standard",
                Decimal("0.19"),
            ),
            PrintedLine(
                "Handbook",
                Decimal(4),
                "pc",
                Decimal("25.00"),
                Decimal(0),
                Decimal("100.00"),
                "reduced",
                Decimal("0.07"),
            ),
        ),
        taxes=(
            PrintedTax("standard", Decimal("0.19"), Decimal("720.00"), Decimal("136.80")),
            PrintedTax("reduced", Decimal("0.07"), Decimal("100.00"), Decimal("7.00")),
        ),
        net=Decimal("820.00"),
        tax=Decimal("143.80"),
        gross=Decimal("963.80"),
        paid=Decimal("500.00"),
        due=Decimal("463.80"),
        payment_terms="Payable within 14 days without deduction.",
        note="Thank you for your business.",
    )
    return dataclasses.replace(doc, **changes)


def _single_line(currency: str, scale: int, price: str, tax: str) -> dict[str, Any]:
    """Changes for a one-line document at 19 % in another currency."""
    net, vat = Decimal(price), Decimal(tax)
    line = PrintedLine(
        "Licence", Decimal(1), "pc", net, Decimal(0), net, "standard", Decimal("0.19")
    )
    return {
        "currency": currency,
        "currency_scale": scale,
        "lines": (line,),
        "taxes": (PrintedTax("standard", Decimal("0.19"), net, vat),),
        "net": net,
        "tax": vat,
        "gross": net + vat,
        "paid": Decimal(0),
        "due": net + vat,
    }


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# -- the printed PDF -------------------------------------------------------------------------


def test_english_invoice_shows_number_parties_lines_and_totals() -> None:
    text = _text(render_pdf(_invoice()))

    assert "Invoice INV-2026-0001" in text
    assert "Brightside Trading Ltd" in text
    assert "GB123456789" in text
    assert "PO-4711" in text
    assert "Mar 1, 2026" in text
    assert "Mar 15, 2026" in text
    assert "1 Consulting 8 h €100.00 10% €720.00 19%" in text
    assert "2 Handbook 4 pc €25.00 €100.00 7%" in text
    assert "19% €720.00 €136.80" in text
    assert "7% €100.00 €7.00" in text
    assert "Total net €820.00" in text
    assert "Total VAT €143.80" in text
    assert "Total €963.80" in text
    assert "Paid €500.00" in text
    assert "Amount due €463.80" in text
    assert "Payable within 14 days without deduction." in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text


def test_amounts_are_what_babel_formats() -> None:
    text = _text(render_pdf(_invoice()))

    assert format_currency(Decimal("963.80"), "EUR", locale="en") == "€963.80"
    for amount in ("820.00", "143.80", "963.80", "463.80"):
        assert format_currency(Decimal(amount), "EUR", locale="en") in text


def test_german_invoice_has_german_labels_dates_and_numbers() -> None:
    text = _text(render_pdf(_invoice(language="de")))

    assert "Rechnung INV-2026-0001" in text
    assert "01.03.2026" in text
    assert "15.03.2026" in text
    assert f"1 Consulting 8 h 100,00{NBSP}€ 10{NBSP}% 720,00{NBSP}€ 19{NBSP}%" in text
    assert f"Summe netto 820,00{NBSP}€" in text
    assert f"Summe Umsatzsteuer 143,80{NBSP}€" in text
    assert f"Gesamtbetrag 963,80{NBSP}€" in text
    assert f"Bereits bezahlt 500,00{NBSP}€" in text
    assert f"Zu zahlender Betrag 463,80{NBSP}€" in text
    assert "Zahlungsbedingungen:" in text


@pytest.mark.parametrize(
    ("language", "total"),
    [("en", "Total €1,190.00"), ("de", f"Gesamtbetrag 1.190,00{NBSP}€")],
)
def test_thousands_are_grouped_per_locale(language: str, total: str) -> None:
    doc = _invoice(language=language, **_single_line("EUR", 2, "1000.00", "190.00"))
    text = _text(render_pdf(doc))

    assert total in text
    assert format_currency(Decimal("1190.00"), "EUR", locale=language) in text
    assert "Paid" not in text  # nothing paid, no line for it
    assert "Bereits bezahlt" not in text


def test_yen_has_no_decimals() -> None:
    doc = _invoice(**_single_line("JPY", 0, "120000", "22800"))
    text = _text(render_pdf(doc))

    assert "Total ¥142,800" in text
    assert "¥142,800.00" not in text
    assert format_currency(Decimal(142800), "JPY", locale="en") == "¥142,800"


def test_kuwaiti_dinar_has_three_decimals() -> None:
    doc = _invoice(**_single_line("KWD", 3, "1000.000", "190.000"))
    text = _text(render_pdf(doc))

    assert "Total KWD1,190.000" in text
    assert "Total VAT KWD190.000" in text
    assert format_currency(Decimal("1190.000"), "KWD", locale="en") == "KWD1,190.000"


def test_the_books_scale_wins_over_the_locales_idea_of_a_currency() -> None:
    # CLDR prints Hungarian forint with 2 decimals; a book that keeps it in whole forint
    # must not show ".00" it never recorded.
    doc = _invoice(**_single_line("HUF", 0, "10000", "1900"))
    assert "Total HUF11,900\n" in _text(render_pdf(doc)) + "\n"


def test_unknown_language_falls_back_to_english() -> None:
    text = _text(render_pdf(_invoice(language="xx")))
    assert "Invoice INV-2026-0001" in text
    assert "Total €963.80" in text


def test_credit_note_names_the_invoice_it_corrects() -> None:
    doc = _invoice(kind="credit_note", number="CN-2026-0003", refers_to="INV-2026-0001")
    text = _text(render_pdf(doc))

    assert "Credit note CN-2026-0003" in text
    assert "Credit note for invoice INV-2026-0001" in text
    assert "Invoice INV" not in text


def test_german_credit_note_title() -> None:
    doc = _invoice(kind="credit_note", number="GS-1", refers_to="INV-2026-0001", language="de")
    text = _text(render_pdf(doc))
    assert "Gutschrift GS-1" in text
    assert "Gutschrift zu Rechnung INV-2026-0001" in text


def test_dunning_letter_prints_its_note_as_the_letter() -> None:
    body = "Dear Sir or Madam,\nour invoice INV-2026-0001 is overdue.\nPlease pay by 31 March."
    doc = _invoice(kind="dunning_letter", number="DUN-7", refers_to="INV-2026-0001", note=body)
    text = _text(render_pdf(doc))

    assert "Payment reminder DUN-7" in text
    assert "Concerning invoice INV-2026-0001" in text
    for line in body.splitlines():
        assert line in text
    assert "Amount due €463.80" in text


def test_logo_is_embedded_as_an_image() -> None:
    assert "data:image/png;base64," in render_html(_invoice())
    with_logo = PdfReader(io.BytesIO(render_pdf(_invoice())))
    assert len(with_logo.pages[0].images) == 1

    no_logo = _invoice(seller=dataclasses.replace(SELLER, logo_png=None))
    assert len(PdfReader(io.BytesIO(render_pdf(no_logo))).pages[0].images) == 0


# -- nothing leaves the machine --------------------------------------------------------------


@pytest.fixture
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to resolve or connect, recorded (and refused)."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network is off in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "html",
    [
        '<img src="http://logo.example/logo.png">',
        '<link rel="stylesheet" href="https://cdn.example/print.css">',
        '<p style="background: url(http://tracker.example/pixel.gif)">x</p>',
        '<img src="file:///etc/hostname">',
    ],
)
def test_external_urls_are_refused_not_fetched(html: str, network_attempts: list[object]) -> None:
    with pytest.raises(ExternalResourceError):
        html_to_pdf(f"<!DOCTYPE html><html><body>{html}<p>Hello</p></body></html>")
    assert network_attempts == []


def test_data_uris_still_load(network_attempts: list[object]) -> None:
    html = f'<img src="data:image/png;base64,{base64.b64encode(_png()).decode()}">'
    pdf = html_to_pdf(html)
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1
    assert network_attempts == []


def test_markup_in_document_fields_is_printed_as_text(network_attempts: list[object]) -> None:
    name = '<img src="http://evil.example/x.png"> Evil Corp'
    doc = _invoice(buyer=dataclasses.replace(BUYER, name=name))
    assert name in " ".join(_text(render_pdf(doc)).split())
    assert network_attempts == []


# -- Factur-X --------------------------------------------------------------------------------


def _embedded_xml(pdf: bytes) -> ET.Element:
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(lxml_etree.fromstring(xml)) == "en16931"
    return ET.fromstring(xml)


def _find(root: ET.Element, path: str) -> str:
    node = root.find(path.replace("rsm:", RSM).replace("ram:", RAM))
    assert node is not None, path
    return node.text or ""


SUMMATION = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


def test_facturx_invoice_embeds_valid_en16931_xml_with_the_printed_totals() -> None:
    doc = _invoice()
    pdf = render_facturx(doc)
    root = _embedded_xml(pdf)

    assert _find(root, ".//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == (
        "urn:cen.eu:en16931:2017"
    )
    assert _find(root, "rsm:ExchangedDocument/ram:ID") == "INV-2026-0001"
    assert _find(root, "rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert Decimal(_find(root, SUMMATION + "GrandTotalAmount")) == doc.gross
    assert _find(root, SUMMATION + "GrandTotalAmount") == "963.80"
    assert _find(root, SUMMATION + "LineTotalAmount") == "820.00"
    assert _find(root, SUMMATION + "TaxTotalAmount") == "143.80"
    assert _find(root, SUMMATION + "TotalPrepaidAmount") == "500.00"
    assert _find(root, SUMMATION + "DuePayableAmount") == "463.80"
    assert _find(root, ".//ram:IBANID") == "DE89370400440532013000"
    assert _find(root, ".//ram:BuyerTradeParty/ram:Name") == "Brightside Trading Ltd"
    rates = [n.text for n in root.iter(f"{RAM}RateApplicablePercent")]
    assert rates == ["19", "7", "19", "7"]  # two lines, then the two-category breakdown


def test_facturx_is_pdfa3_and_still_reads_like_the_plain_pdf() -> None:
    pdf = render_facturx(_invoice())
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    metadata = xmp.stream.get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in metadata
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert "Amount due €463.80" in _text(pdf)


def test_facturx_line_discount_is_an_allowance_that_adds_up() -> None:
    root = ET.fromstring(facturx_xml(_invoice()))
    first = root.find(f".//{RAM}IncludedSupplyChainTradeLineItem")
    assert first is not None
    assert _find(first, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "100"
    assert _find(first, ".//ram:BilledQuantity") == "8"
    assert _find(first, ".//ram:SpecifiedTradeAllowanceCharge/ram:BasisAmount") == "800.00"
    assert _find(first, ".//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == "80.00"
    assert _find(first, ".//ram:LineTotalAmount") == "720.00"
    unit = first.find(f".//{RAM}BilledQuantity")
    assert unit is not None
    assert unit.get("unitCode") == "HUR"


RATE = Decimal("0.19")


def _inclusive() -> Printable:
    """3 shirts at 11.90 and 3 socks at 1.49, both including 19 % VAT."""
    lines = (
        PrintedLine(
            "Shirt", Decimal(3), "pc", Decimal("11.90"), Decimal(0), Decimal("30.00"), "S", RATE
        ),
        PrintedLine(
            "Socks", Decimal(3), "pc", Decimal("1.49"), Decimal(0), Decimal("3.76"), "S", RATE
        ),
    )
    net, tax = Decimal("33.76"), Decimal("6.41")
    return _invoice(
        lines=lines,
        taxes=(PrintedTax("S", RATE, net, tax),),
        net=net,
        tax=tax,
        gross=net + tax,
        paid=Decimal(0),
        due=net + tax,
        prices_include_tax=True,
    )


def test_facturx_of_gross_prices_states_the_net_price_of_each_line() -> None:
    root = _embedded_xml(render_facturx(_inclusive()))
    prices = [n.text for n in root.iter(f"{RAM}ChargeAmount")]
    totals = [n.text for n in root.iter(f"{RAM}LineTotalAmount")]
    assert prices == ["10", "1.253"]  # 3.76 / 3: 3 x 1.253 = 3.759, 3 x 1.25 = 3.75
    assert totals == ["30.00", "3.76", "33.76"]  # the lines, then the document


@pytest.mark.parametrize(("language", "label"), [("en", "Unit price incl. VAT"), ("de", "brutto")])
def test_a_pdf_of_gross_prices_says_so(language: str, label: str) -> None:
    inclusive = _text(render_pdf(dataclasses.replace(_inclusive(), language=language)))
    assert label in inclusive
    assert label not in _text(render_pdf(_invoice(language=language)))


def test_facturx_works_out_the_price_of_a_line_whose_net_is_not_price_times_quantity() -> None:
    # The rest of a line on a credit note: 1.5 of 3 x 0.35 after 1.5 were credited at 0.52.
    line = PrintedLine(
        "Rest", Decimal("1.5"), "pc", Decimal("0.35"), Decimal(0), Decimal("0.53"), "S", RATE
    )
    doc = _invoice(
        kind="credit_note",
        refers_to="INV-2026-0001",
        lines=(line,),
        taxes=(PrintedTax("S", RATE, Decimal("0.53"), Decimal("0.10")),),
        net=Decimal("0.53"),
        tax=Decimal("0.10"),
        gross=Decimal("0.63"),
        paid=Decimal(0),
        due=Decimal("0.63"),
    )
    root = _embedded_xml(render_facturx(doc))
    assert _find(root, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "0.353"
    assert _find(root, ".//ram:BilledQuantity") == "1.5"


def test_facturx_credit_note_is_type_381_and_references_the_invoice() -> None:
    doc = _invoice(kind="credit_note", number="CN-2026-0003", refers_to="INV-2026-0001")
    root = _embedded_xml(render_facturx(doc))

    assert _find(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert _find(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ("INV-2026-0001")
    assert Decimal(_find(root, SUMMATION + "GrandTotalAmount")) == doc.gross


def test_facturx_refuses_a_dunning_letter() -> None:
    with pytest.raises(FacturXUnsupportedError):
        render_facturx(_invoice(kind="dunning_letter"))


def test_facturx_refuses_three_decimal_amounts() -> None:
    with pytest.raises(FacturXUnsupportedError, match="KWD"):
        render_facturx(_invoice(**_single_line("KWD", 3, "1000.000", "190.000")))


def test_facturx_refuses_totals_that_do_not_add_up() -> None:
    with pytest.raises(FacturXTotalsError, match="BR-CO-15"):
        facturx_xml(_invoice(gross=Decimal("963.81"), due=Decimal("463.81")))
    with pytest.raises(FacturXTotalsError, match="BR-CO-10"):
        facturx_xml(_invoice(lines=_invoice().lines[:1]))


def test_facturx_zero_decimal_currency_validates() -> None:
    doc = _invoice(**_single_line("JPY", 0, "120000", "22800"))
    root = _embedded_xml(render_facturx(doc))
    assert _find(root, SUMMATION + "GrandTotalAmount") == "142800"
    assert _find(root, ".//ram:InvoiceCurrencyCode") == "JPY"
