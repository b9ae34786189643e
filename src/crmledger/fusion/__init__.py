"""Cleaning and matching customer data: the value normalisers every entry point shares
(phones, emails, tax ids, bank accounts, countries) and, later, the fusion pipeline.

Imports ``core`` and compute / validation libraries only; never a web framework, an ORM
or ``config``.
"""
