"""Shared kernel: settings, the error tree, records, the query language and tiers.

Nothing here imports from brandpulse.services, brandpulse.cli, store or the shells above them.
"""
