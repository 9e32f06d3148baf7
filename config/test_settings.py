"""Settings of the test suite: the project's settings with the local defaults `make run` uses (DEBUG on,
so the local-only secret key; no HTTPS redirect), and webhook retries without a wait."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: F403

# A webhook retry is queued at once (the back-off itself is tested with its real value).
WEBHOOK_RETRY_SECONDS = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in the embedded setup, not SQLite's shared in-memory database: there a second thread
    # writing (webhook deliveries run in background threads) fails at once with "database table is locked"
    # instead of waiting out the busy timeout. One file per test process, in the temporary directory.
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"shopbee-test-{os.getpid()}.sqlite3")
    }
