"""The ``crmledger`` command line."""
