"""Periodic tips: the next feature to learn reaches each person on their channels.

`run` (the tip run), `policy` (when a tip is due), `pick` (which tip), `delivery` (the
ledger), `channels` (Apprise), `links` (lesson and unsubscribe links), `service` (settings,
channels and inbox for the CLI and pages) and `scheduler` (the worker and its lease).
"""
