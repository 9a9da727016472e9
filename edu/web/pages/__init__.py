"""The page blueprints, one per area: setup, household, devices, lessons, tips, store demo, kiosk."""
