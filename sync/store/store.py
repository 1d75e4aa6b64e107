"""A directory of databases, one SQLite file each.

Guarantees: database names follow CouchDB's rule (`^[a-z][a-z0-9_$()+/-]*$`, at most 238
characters) and map to file names one to one (`/` is stored as `%2F`); `create` is atomic
across processes (the file is created exclusively), so two creators cannot both succeed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sync.errors import BadRequest, FileExists, NotFound
from sync.store.database import Database
from sync.store.limits import Limits

_NAME = re.compile(r"^[a-z][a-z0-9_$()+/-]*$")
_SUFFIX = ".sqlite"
MAX_NAME = 238


def check_db_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > MAX_NAME:
        raise BadRequest(
            f"illegal database name {name!r}: use lowercase letters, digits and _$()+-/, "
            f"starting with a letter, at most {MAX_NAME} characters"
        )
    return name


class Store:
    """Opens, creates and deletes the databases in `data_dir`."""

    def __init__(self, data_dir: str | os.PathLike[str], *, limits: Limits | None = None):
        self.data_dir = Path(data_dir)
        self.limits = limits or Limits()

    def path_of(self, name: str) -> Path:
        return self.data_dir / (check_db_name(name).replace("/", "%2F") + _SUFFIX)

    def exists(self, name: str) -> bool:
        return self.path_of(name).exists()

    def create(self, name: str, key: bytes | None = None) -> Database:
        path = self.path_of(name)
        # Made here, not on construction: opening a missing database creates nothing.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            raise FileExists(f"database {name!r} already exists") from None
        os.close(fd)
        try:
            return Database(path, name, key=key, limits=self.limits)
        except BaseException:
            self._remove_files(path)
            raise

    def open(self, name: str, key: bytes | None = None, create: bool = False) -> Database:
        path = self.path_of(name)
        if not path.exists():
            if not create:
                raise NotFound(f"database {name!r} does not exist")
            try:
                return self.create(name, key)
            except FileExists:
                pass  # created meanwhile by someone else: open it
        return Database(path, name, key=key, limits=self.limits)

    def delete(self, name: str) -> None:
        path = self.path_of(name)
        if not path.exists():
            raise NotFound(f"database {name!r} does not exist")
        self._remove_files(path)

    @staticmethod
    def _remove_files(path: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def names(self) -> list[str]:
        return sorted(
            p.name[: -len(_SUFFIX)].replace("%2F", "/")
            for p in self.data_dir.glob(f"*{_SUFFIX}")
        )
