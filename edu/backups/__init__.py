"""Backups of an instance: a consistent archive taken online, and a checked restore of one."""
