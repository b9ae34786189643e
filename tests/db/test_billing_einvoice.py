"""A tax-inclusive invoice as Factur-X, on both databases: the embedded EN 16931 XML passes
the factur-x library's check and states net prices, so each line's quantity times its price
is its net amount and the lines add up to the document's net (BR-CO-10), while the printed
pages show the gross prices the customer was quoted, labelled as such."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from xml.etree import ElementTree as ET

import facturx
from lxml import etree as lxml_etree
from pypdf import PdfReader

from crmledger.bootstrap import App
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.db.test_billing import customer

D = Decimal
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
CENT = D("0.01")


def _line(price: str, quantity: str, discount: str = "0", category: str = "standard"):
    return DocumentLine(
        description=f"{quantity} at {price}",
        unit_price=D(price),
        quantity=D(quantity),
        discount=D(discount),
        tax_category=category,
    )


def _value(node: ET.Element, path: str) -> Decimal:
    found = node.find(path.replace("ram:", RAM))
    assert found is not None, path
    assert found.text, path
    return D(found.text)


def _lines(root: ET.Element) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """(net price, quantity, allowances, line net) of each line of the XML."""
    rows = []
    for item in root.iter(f"{RAM}IncludedSupplyChainTradeLineItem"):
        allowances = sum((D(a.text or "0") for a in item.iter(f"{RAM}ActualAmount")), start=D(0))
        rows.append(
            (
                _value(item, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount"),
                _value(item, ".//ram:BilledQuantity"),
                allowances,
                _value(
                    item,
                    ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                ),
            )
        )
    return rows


def test_a_tax_inclusive_invoice_states_net_prices_that_add_up(app: App) -> None:
    party = customer(app)
    new = NewDocument(
        party_id=party,
        currency="EUR",
        prices_include_tax=True,
        lines=[
            _line("11.90", "3"),  # net 30.00: 10 a piece
            _line("1.49", "3"),  # 4.47 / 1.19 = 3.756… → 3.76: 1.2533… a piece
            _line("1.00", "7", discount="10"),  # 6.30 / 1.19 = 5.294… → 5.29
            _line("2.99", "1.5", category="reduced"),  # 4.485 / 1.07 = 4.191… → 4.19
        ],
    )
    invoice = app.invoices.issue(app.invoices.create(new).id)
    assert [ln.net for ln in invoice.lines] == [D("30.00"), D("3.76"), D("5.29"), D("4.19")]
    assert invoice.net == D("43.24")

    pdf = app.printer.pdf(invoice.id, facturx=True)
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(lxml_etree.fromstring(xml)) == "en16931"
    root = ET.fromstring(xml)

    lines = _lines(root)
    assert [price for price, *_ in lines] == [D(10), D("1.253"), D("0.756"), D("2.793")]
    for price, quantity, allowances, net in lines:
        assert allowances == 0  # the discount is in the net price
        assert (price * quantity - allowances).quantize(CENT) == net
    assert [net for *_, net in lines] == [ln.net for ln in invoice.lines]
    header = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert sum(net for *_, net in lines) == _value(root, header + "LineTotalAmount")
    assert _value(root, header + "LineTotalAmount") == invoice.net
    assert _value(root, header + "TaxBasisTotalAmount") == invoice.net
    assert _value(root, header + "GrandTotalAmount") == invoice.gross

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Unit price incl. VAT" in text
    assert "1 3 at 11.90 3 €11.90 €30.00 19%" in text  # the gross price, the net amount
