"""Start the SIMD path workers (test_paths.py) when collection ends, if their tests were selected:
each compiles the kernels cold in its own process, which then overlaps the rest of the suite.
Under pytest-xdist every process collects every test, so there the tests start them instead."""

import os
import shutil
import tempfile
from pathlib import Path


def pytest_collection_finish(session):
    chosen = [item for item in session.items if item.name in getattr(item.module, "PATH_TESTS", ())]
    if chosen and "PYTEST_XDIST_WORKER" not in os.environ:
        cache = Path(tempfile.mkdtemp(prefix="vgrad-path-cache-"))
        session.config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
        chosen[0].module.start_workers(cache)
