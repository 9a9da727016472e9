"""The household web page: one blueprint per area (no Flask import here)."""
