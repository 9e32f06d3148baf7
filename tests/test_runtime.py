"""The serving process's garbage-collector settings: what the ASGI entry point applies is what the benchmarks
measure with."""

import os
import subprocess
import sys
from pathlib import Path

from core.runtime import WORKER_GC_THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent


def test_the_asgi_worker_runs_with_the_shared_collector_thresholds_and_frozen_startup_objects():
    # A fresh interpreter: importing the entry point changes the process's collector for good.
    probe = "import gc, config.asgi; print(gc.get_threshold(), gc.get_freeze_count() > 0)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == f"{WORKER_GC_THRESHOLDS} True"
