"""Maca's server: HTTP API, web pages, authentication, PostgreSQL access, CLI."""
