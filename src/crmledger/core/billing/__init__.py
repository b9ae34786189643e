"""Billing: invoices, bills, payments, credit notes and their journal entries, as pure rules."""
