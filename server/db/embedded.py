"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset (development,
tests): the real engine from the ``pgserver`` package's binaries, with its
data kept under the data folder so a restart keeps what was entered."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A running embedded PostgreSQL; :meth:`stop` shuts it down cleanly."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI);
            # pgserver then falls back to /tmp, which is what we want.
            warnings.simplefilter("ignore")
            import pgserver

            data_dir.mkdir(parents=True, exist_ok=True)
            get_server: Any = getattr(pgserver, "get_server")  # noqa: B009 - pgserver does not re-export it
            self._server: Any = get_server(data_dir.resolve(), cleanup_mode="stop")
        self.data_dir = data_dir

    def url(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        """Stop the server if this process is its last user."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server.cleanup()


def start(data_dir: Path) -> EmbeddedPostgres:
    log.info("starting embedded PostgreSQL")
    return EmbeddedPostgres(data_dir / "pgdata")
