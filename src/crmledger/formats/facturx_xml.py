"""An invoice or credit note as EN 16931 CII XML: the data half of a Factur-X / ZUGFeRD PDF.

Factur-X (ZUGFeRD 2 in Germany) is a PDF/A-3 whose pages are for people and whose embedded
``factur-x.xml`` is for the buyer's software. The XML is a UN/CEFACT Cross Industry Invoice
restricted to the European norm EN 16931: seller, buyer, lines, one tax breakdown per VAT
category and the totals, in a fixed element order the XSD checks::

    facturx_xml(doc)
    # b'<?xml ...?><rsm:CrossIndustryInvoice ...>
    #     <ram:GuidelineSpecifiedDocumentContextParameter>
    #       <ram:ID>urn:cen.eu:en16931:2017</ram:ID> ...
    #     <ram:GrandTotalAmount>1190.00</ram:GrandTotalAmount> ...'

The XML restates the printable's own figures and never recomputes them, so it says exactly
what the pages say; a printable whose totals do not add up the way the norm demands is refused
rather than sent as an e-invoice a buyer's system would reject.

EN 16931 prices are net: a line's amount is its quantity times its net unit price, less its
allowances. A line printed at a gross price (a document whose prices include tax), or whose
net is not its quantity times its price (the last part of a line on a credit note, which
takes what the line has left), states the net unit price its net gives: ``net / quantity``
with the currency's decimals or, where those do not multiply back to the net, a few more
(the norm limits the decimals of amounts, not of prices); its discount is then in that
price::

    3 x 11.90 incl. 19 %: net 30.00             -> NetPrice 10     (3 x 10 = 30.00)
    3 x 1.49 incl. 19 %: net 3.76 (4.47 / 1.19)  -> NetPrice 1.253  (3 x 1.253 = 3.759)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from crmledger.core.billing.printable import (
    Company,
    Customer,
    PostalAddress,
    Printable,
    PrintedLine,
)

GUIDELINE_EN16931 = "urn:cen.eu:en16931:2017"

_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
for _prefix, _uri in _NS.items():
    ET.register_namespace(_prefix, _uri)

#: UNTDID 1001 document type codes.
_TYPE_CODES = {"invoice": "380", "credit_note": "381"}

#: Our tax category names to UNCL 5305 VAT category codes; the codes themselves pass through.
_TAX_CATEGORIES = {"standard": "S", "reduced": "S", "zero": "Z", "exempt": "E"}
_UNCL5305 = frozenset({"S", "Z", "E", "AE", "K", "G", "O", "L", "M"})

#: Units as users write them to UN/ECE Recommendation 20 codes; "C62" (one) is the fallback.
_UNIT_CODES = {
    "pc": "C62", "pcs": "C62", "piece": "C62", "stk": "C62", "stück": "C62",
    "h": "HUR", "hr": "HUR", "hour": "HUR", "hours": "HUR", "std": "HUR", "min": "MIN",
    "d": "DAY", "day": "DAY", "days": "DAY", "tag": "DAY", "week": "WEE", "month": "MON",
    "year": "ANN", "kg": "KGM", "g": "GRM", "t": "TNE", "m": "MTR", "km": "KMT",
    "m2": "MTK", "m3": "MTQ", "l": "LTR", "kwh": "KWH",
}  # fmt: skip

#: EN 16931 allows at most two decimals in document amounts (rules BR-DEC-*).
_MAX_SCALE = 2
#: A net unit price worked out of a line's net takes at most this many decimals.
_PRICE_PLACES = 12


class FacturXUnsupportedError(ValueError):
    """Only invoices and credit notes in a currency with at most 2 decimals are e-invoices."""


class FacturXTotalsError(ValueError):
    """The printable's totals break an EN 16931 sum rule (BR-CO-10, -13, -14, -15, -16)."""


def facturx_xml(doc: Printable) -> bytes:
    """The EN 16931 CII XML of ``doc`` (UTF-8, with an XML declaration)."""
    _check(doc)
    root = _el("rsm:CrossIndustryInvoice")
    context = _sub(root, "rsm:ExchangedDocumentContext")
    guideline = _sub(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _sub(guideline, "ram:ID", GUIDELINE_EN16931)
    _header(root, doc)
    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for position, line in enumerate(doc.lines, start=1):
        _line(transaction, position, line, doc)
    _agreement(transaction, doc)
    _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, doc)
    xml: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml


def tax_category_code(category: str, rate: Decimal) -> str:
    """The UNCL 5305 code for a tax category name; an unknown name goes by its rate."""
    code = _TAX_CATEGORIES.get(category.lower(), category.upper())
    if code in _UNCL5305:
        return code
    return "S" if rate else "Z"


def net_unit_price(line: PrintedLine, scale: int) -> Decimal:
    """The net unit price of ``line``: ``net / quantity`` with the fewest decimals, no fewer
    than ``scale``, at which ``quantity x price`` comes within half a minor unit of ``net``
    (so it rounds to ``net`` whatever the rounding rule)."""
    exact = line.net / line.quantity
    half = Decimal(1).scaleb(-scale) / 2
    for places in range(scale, _PRICE_PLACES + 1):
        price = exact.quantize(Decimal(1).scaleb(-places))
        if abs(price * line.quantity - line.net) < half:
            return price
    return exact.quantize(Decimal(1).scaleb(-_PRICE_PLACES))


def unit_code(unit: str) -> str:
    """The UN/ECE Rec 20 code for a unit as users write it (``"h"`` -> ``"HUR"``)."""
    return _UNIT_CODES.get(unit.strip().lower(), "C62")


# -- checks ----------------------------------------------------------------------------------


def _check(doc: Printable) -> None:
    if doc.kind not in _TYPE_CODES:
        raise FacturXUnsupportedError(f"a {doc.kind} is not an invoice")
    if doc.currency_scale > _MAX_SCALE:
        raise FacturXUnsupportedError(
            f"{doc.currency} has {doc.currency_scale} decimals; EN 16931 allows {_MAX_SCALE}"
        )
    sums = {
        "BR-CO-10 line nets": (sum((li.net for li in doc.lines), Decimal(0)), doc.net),
        "BR-CO-13 tax bases": (sum((t.base for t in doc.taxes), Decimal(0)), doc.net),
        "BR-CO-14 tax amounts": (sum((t.tax for t in doc.taxes), Decimal(0)), doc.tax),
        "BR-CO-15 net + tax": (doc.net + doc.tax, doc.gross),
        "BR-CO-16 gross - paid": (doc.gross - doc.paid, doc.due),
    }
    for rule, (actual, stated) in sums.items():
        if actual != stated:
            raise FacturXTotalsError(f"{doc.number}: {rule} give {actual}, not {stated}")


# -- document parts --------------------------------------------------------------------------


def _header(root: ET.Element, doc: Printable) -> None:
    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", doc.number)
    _sub(header, "ram:TypeCode", _TYPE_CODES[doc.kind])
    _date(_sub(header, "ram:IssueDateTime"), doc.issued_on)
    if doc.note:
        _sub(_sub(header, "ram:IncludedNote"), "ram:Content", doc.note)


def _line(parent: ET.Element, position: int, line: PrintedLine, doc: Printable) -> None:
    item = _sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(position))
    _sub(_sub(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    worked_out = _worked_out_price(line, doc)
    price = _sub(agreement, "ram:NetPriceProductTradePrice")
    _sub(price, "ram:ChargeAmount", _number(line.unit_price if worked_out is None else worked_out))
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _sub(delivery, "ram:BilledQuantity", _number(line.quantity), unitCode=unit_code(line.unit))
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", tax_category_code(line.tax_category, line.tax_rate))
    _sub(tax, "ram:RateApplicablePercent", _percent(line.tax_rate))
    if line.discount and worked_out is None:
        _line_discount(settlement, line, doc.currency_scale)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(line.net, doc.currency_scale))


def _worked_out_price(line: PrintedLine, doc: Printable) -> Decimal | None:
    """The net unit price out of the line's net when its own price cannot be stated (it is
    gross, or does not multiply to the net); None when it can."""
    if doc.prices_include_tax:
        return net_unit_price(line, doc.currency_scale)
    basis = (line.quantity * line.unit_price).quantize(Decimal(1).scaleb(-doc.currency_scale))
    if line.discount or basis == line.net:
        return None
    return net_unit_price(line, doc.currency_scale)


def _line_discount(settlement: ET.Element, line: PrintedLine, scale: int) -> None:
    # A line allowance (BG-27) rather than a reduced net price: the allowance is the exact
    # difference to the printed line net, so quantity x price - allowance = net holds to the cent.
    basis = (line.quantity * line.unit_price).quantize(Decimal(1).scaleb(-scale))
    allowance = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
    _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
    _sub(allowance, "ram:CalculationPercent", _number(line.discount))
    _sub(allowance, "ram:BasisAmount", _amount(basis, scale))
    _sub(allowance, "ram:ActualAmount", _amount(basis - line.net, scale))
    _sub(allowance, "ram:ReasonCode", "95")  # UNTDID 5189: discount
    _sub(allowance, "ram:Reason", "Discount")


def _agreement(parent: ET.Element, doc: Printable) -> None:
    agreement = _sub(parent, "ram:ApplicableHeaderTradeAgreement")
    if doc.buyer.reference:
        _sub(agreement, "ram:BuyerReference", doc.buyer.reference)
    _party(agreement, "ram:SellerTradeParty", doc.seller)
    _party(agreement, "ram:BuyerTradeParty", doc.buyer)


def _party(parent: ET.Element, tag: str, party: Company | Customer) -> None:
    node = _sub(parent, tag)
    _sub(node, "ram:Name", party.name)
    _address(node, party.address)
    if isinstance(party, Company) and party.email:
        uri = _sub(node, "ram:URIUniversalCommunication")
        _sub(uri, "ram:URIID", party.email, schemeID="EM")
    if party.vat_id:
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def _address(parent: ET.Element, address: PostalAddress) -> None:
    if not address.country:
        return  # the country is mandatory inside an address, so no country means no address
    node = _sub(parent, "ram:PostalTradeAddress")
    if address.postcode:
        _sub(node, "ram:PostcodeCode", address.postcode)
    # CII has three street lines; a longer address keeps its tail on the third.
    lines = [*address.lines[:2], ", ".join(address.lines[2:])]
    for tag, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines, strict=False):
        if text:
            _sub(node, tag, text)
    if address.city:
        _sub(node, "ram:CityName", address.city)
    _sub(node, "ram:CountryID", address.country.upper())


def _settlement(parent: ET.Element, doc: Printable) -> None:
    settlement = _sub(parent, "ram:ApplicableHeaderTradeSettlement")
    _sub(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.kind == "invoice" and doc.seller.iban:
        _payment_means(settlement, doc)
    for tax in doc.taxes:
        node = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(node, "ram:CalculatedAmount", _amount(tax.tax, doc.currency_scale))
        _sub(node, "ram:TypeCode", "VAT")
        _sub(node, "ram:BasisAmount", _amount(tax.base, doc.currency_scale))
        _sub(node, "ram:CategoryCode", tax_category_code(tax.category, tax.rate))
        _sub(node, "ram:RateApplicablePercent", _percent(tax.rate))
    if doc.payment_terms or doc.due_on:
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        if doc.payment_terms:
            _sub(terms, "ram:Description", doc.payment_terms)
        if doc.due_on:
            _date(_sub(terms, "ram:DueDateDateTime"), doc.due_on)
    _summation(settlement, doc)
    if doc.refers_to:
        referenced = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(referenced, "ram:IssuerAssignedID", doc.refers_to)


def _payment_means(parent: ET.Element, doc: Printable) -> None:
    means = _sub(parent, "ram:SpecifiedTradeSettlementPaymentMeans")
    # UNTDID 4461: 58 is a SEPA credit transfer, 30 any other credit transfer.
    _sub(means, "ram:TypeCode", "58" if doc.currency == "EUR" else "30")
    account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
    _sub(account, "ram:IBANID", doc.seller.iban.replace(" ", ""))
    if doc.seller.bic:
        bank = _sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
        _sub(bank, "ram:BICID", doc.seller.bic)


def _summation(parent: ET.Element, doc: Printable) -> None:
    scale = doc.currency_scale
    node = _sub(parent, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(node, "ram:LineTotalAmount", _amount(doc.net, scale))
    _sub(node, "ram:TaxBasisTotalAmount", _amount(doc.net, scale))
    _sub(node, "ram:TaxTotalAmount", _amount(doc.tax, scale), currencyID=doc.currency)
    _sub(node, "ram:GrandTotalAmount", _amount(doc.gross, scale))
    if doc.paid:
        _sub(node, "ram:TotalPrepaidAmount", _amount(doc.paid, scale))
    _sub(node, "ram:DuePayableAmount", _amount(doc.due, scale))


# -- XML and number helpers ------------------------------------------------------------------


def _qname(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{_NS[prefix]}}}{local}"


def _el(tag: str) -> ET.Element:
    return ET.Element(_qname(tag))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, _qname(tag), attrs)
    node.text = text
    return node


def _date(parent: ET.Element, day: date) -> None:
    _sub(parent, "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal, scale: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-scale)):f}"


def _number(value: Decimal) -> str:
    # The "f" format because normalize() alone would print 100 as 1E+2.
    return f"{value.normalize():f}"


def _percent(rate: Decimal) -> str:
    return _number(rate * 100)
