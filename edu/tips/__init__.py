"""Periodic tips: the next feature to learn reaches each person on their channels.

`run` (the tip run), `policy` (when a tip is due), `pick` (which tip), `delivery` (the
ledger), `channels` (Apprise), `links` (lesson and unsubscribe links), `inbox`, and
`service` (settings and channels for the CLI and pages). The scheduler that runs them is
edu.jobs.
"""
