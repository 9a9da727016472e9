"""The page blueprints, one per area: setup, household, devices, lessons, tips, community, owner
tips, store demo, kiosk."""
