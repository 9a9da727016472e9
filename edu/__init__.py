"""Feature Coach application."""
