"""Routers of /api/v1, one per feature."""
