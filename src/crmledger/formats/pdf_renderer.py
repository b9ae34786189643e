"""The ``DocumentRenderer`` port, loading WeasyPrint only when a document is rendered.

WeasyPrint takes over half a second to import; the CLI and the server should not pay that
on start-up for a feature most commands never use.
"""

from __future__ import annotations

from crmledger.core.billing.printable import Printable


class PdfRenderer:
    """PDF and Factur-X bytes of a printable document (``formats.billing_pdf``)."""

    def pdf(self, doc: Printable) -> bytes:
        """A plain PDF."""
        from crmledger.formats.billing_pdf import render_pdf  # noqa: PLC0415 - start-up time

        return render_pdf(doc)

    def facturx(self, doc: Printable) -> bytes:
        """A Factur-X EN 16931 PDF/A-3."""
        from crmledger.formats.billing_pdf import render_facturx  # noqa: PLC0415 - start-up time

        return render_facturx(doc)
