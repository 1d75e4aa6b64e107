"""Shared fixtures. Keep small: each fixture lives in tests/support and is registered here."""

import os

from hypothesis import settings

pytest_plugins = ["support.pouchdb_server"]

# CI runs every property test on the same examples, so a red run can be replayed exactly;
# local runs explore new ones. `--hypothesis-profile=thorough` explores harder.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("thorough", max_examples=3000, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
