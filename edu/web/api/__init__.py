"""The JSON API under /api/v1 (household and store demo) and its OpenAPI document."""
