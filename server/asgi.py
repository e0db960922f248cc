"""The ASGI entry point for servers started from the command line or by a
process manager: ``uvicorn --factory server.asgi:app_from_environment``."""

from __future__ import annotations

from litestar import Litestar

from server.app import create_app
from server.settings import load_settings


def app_from_environment() -> Litestar:
    return create_app(load_settings())
