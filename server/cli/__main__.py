"""``python -m server.cli`` is ``maca``."""

import sys

from server.cli.main import main

sys.exit(main())
