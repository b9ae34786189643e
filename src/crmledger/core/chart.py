"""Charts of accounts a new book can start from.

``default`` is a compact chart for a small trading or services company; its codes follow a
common four-digit scheme (1xxx assets ... 8xxx other income and expenses).
"""

from __future__ import annotations

from crmledger.core.accounts import Account

_DEFAULT: tuple[tuple[str, str, str], ...] = (
    ("1000", "Assets:Cash", "Petty cash"),
    ("1010", "Assets:Bank:Checking", "Main operating bank account"),
    ("1020", "Assets:Bank:Savings", "Savings account"),
    ("1100", "Assets:Receivables:Customers", "Trade receivables"),
    ("1150", "Assets:Receivables:Other", "Other receivables"),
    ("1200", "Assets:Inventory", "Goods held for sale"),
    ("1300", "Assets:Prepaid", "Prepaid expenses"),
    ("1400", "Assets:Tax:Input", "Input VAT / sales tax receivable"),
    ("1500", "Assets:Fixed:Equipment", "Equipment"),
    ("1590", "Assets:Fixed:Depreciation", "Accumulated depreciation"),
    ("2000", "Liabilities:Payables:Vendors", "Trade payables"),
    ("2100", "Liabilities:Tax:Output", "Output VAT / sales tax payable"),
    ("2200", "Liabilities:Payroll", "Wages and payroll taxes payable"),
    ("2210", "Liabilities:Employees:Reimbursements", "Expense claims owed to employees"),
    ("2300", "Liabilities:CustomerCredit", "Customer prepayments and credit"),
    ("2500", "Liabilities:Loans", "Bank loans"),
    ("3000", "Equity:Capital", "Share capital"),
    ("3100", "Equity:RetainedEarnings", "Retained earnings"),
    ("3200", "Equity:Opening-Balances", "Opening balances"),
    ("4000", "Income:Sales:Products", "Product sales"),
    ("4100", "Income:Sales:Services", "Service revenue"),
    ("4900", "Income:Other", "Other income"),
    ("4950", "Income:FX:Gains", "Exchange rate gains"),
    ("5000", "Expenses:COGS", "Cost of goods sold"),
    ("6000", "Expenses:Salaries", "Salaries and wages"),
    ("6100", "Expenses:Rent", "Rent"),
    ("6200", "Expenses:Utilities", "Utilities"),
    ("6300", "Expenses:Software", "Software and subscriptions"),
    ("6400", "Expenses:Marketing", "Marketing"),
    ("6500", "Expenses:Travel", "Travel"),
    ("6600", "Expenses:Office", "Office supplies"),
    ("6700", "Expenses:Professional", "Accounting and legal"),
    ("6800", "Expenses:Depreciation", "Depreciation"),
    ("6900", "Expenses:Bank:Fees", "Bank charges"),
    ("6950", "Expenses:FX:Losses", "Exchange rate losses"),
    ("8000", "Expenses:Interest", "Interest expense"),
    ("8900", "Expenses:Tax:Income", "Income tax"),
)

CHARTS: dict[str, tuple[Account, ...]] = {
    "default": tuple(Account(name, code=code, description=d) for code, name, d in _DEFAULT),
    "minimal": tuple(
        Account(n)
        for n in ("Assets:Bank", "Liabilities:Payables", "Equity:Capital", "Income", "Expenses")
    ),
}


def chart(name: str) -> tuple[Account, ...]:
    """The accounts of the chart called ``name``; raise ``KeyError`` listing the choices."""
    try:
        return CHARTS[name]
    except KeyError:
        raise KeyError(f"unknown chart {name!r}; choose one of {', '.join(CHARTS)}") from None
