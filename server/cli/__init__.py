"""The ``maca`` command: serving, migrations, toolkits, tokens, the event
trail, retention and demo data. ``main`` is in :mod:`server.cli.main`."""
