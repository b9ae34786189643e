"""The customer half of the book as pure rules: parties, interactions, deals, products,
quotes / orders / contracts and satisfaction. Standard library only, like all of ``core``."""
