"""Maca's server: HTTP API, web pages, authentication, PostgreSQL access, CLI."""

# The release (pyproject.toml's version): in the API document, the metrics'
# maca_build_info and the traces' service.version.
__version__ = "0.1.0"
