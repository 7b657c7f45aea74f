"""Fuel's web API: a thin FastAPI layer over the same services as the CLI (docs/api.md)."""
