from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.store import Database, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture
def db(store: Store) -> Iterator[Database]:
    database = store.create("test")
    yield database
    database.close()
