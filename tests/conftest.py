"""Shared fixtures. Keep small: each fixture lives in tests/support and is registered here."""

pytest_plugins = ["support.pouchdb_server"]
