"""Use cases. Each public method is one transaction, opened and committed here only."""
