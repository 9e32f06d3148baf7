"""Settings of the test suite: the project's settings with the local defaults `make run` uses (DEBUG on,
so the local-only secret key; no HTTPS redirect)."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403
