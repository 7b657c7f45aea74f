"""Fuel's domain: the rules of money as pure functions over plain values.

Modules read in the order money moves: money and periods, accounts, postings (journal
entries), balances, and the later stages built on them. Nothing in this package touches the
database, files or the network; ``ledger.shell`` is the fenced exception (services and CLI).
"""
