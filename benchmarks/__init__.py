"""Benchmarks: crmledger against ledger-cli, hledger and beancount on the same books."""
