"""Loading the packaged procedure catalogue, and looking procedures up by code and date.

The catalogue is read once from `procedures.json` inside the package (importlib.resources,
so it works from a wheel or a zip) and checked against the types in `_model`. Field groups
shared by several procedures are expanded at load time. A lookup by an unknown code, or a
date before a procedure's first version, raises `UnknownProcedure` with a Vietnamese message.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from collections.abc import Iterator
from typing import Any

import msgspec

from dossiers.catalogue._model import Procedure, ProcedureVersion
from dossiers.errors import CatalogueInvalid, UnknownProcedure

_DATA_FILE = "procedures.json"


class Catalogue:
    """Every procedure, by national code, each with its versions by effective date."""

    def __init__(self, procedures: list[Procedure], sources: dict[str, str]) -> None:
        self._by_code: dict[str, Procedure] = {}
        for procedure in procedures:
            if procedure.code.value in self._by_code:
                raise CatalogueInvalid(f"Mã thủ tục {procedure.code.value} bị lặp trong danh mục.")
            self._by_code[procedure.code.value] = procedure
        self.sources = sources

    def __iter__(self) -> Iterator[Procedure]:
        return iter(sorted(self._by_code.values(), key=lambda p: p.code.value))

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Procedure:
        procedure = self._by_code.get(code.strip())
        if procedure is None:
            raise UnknownProcedure(
                f"Không có thủ tục mã «{code}» trong danh mục.", field="procedure_code"
            )
        return procedure

    def version(self, code: str, on: dt.date) -> ProcedureVersion:
        """The version of procedure `code` in force on `on`."""
        version = self.get(code).version_on(on)
        if version is None:
            raise UnknownProcedure(
                f"Thủ tục mã «{code}» chưa có hiệu lực vào ngày {on:%d/%m/%Y}.",
                field="procedure_code",
            )
        return version


def _expand_groups(raw: dict[str, Any]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = raw.get("field_groups", {})
    procedures: list[dict[str, Any]] = raw["procedures"]
    for procedure in procedures:
        for version in procedure["versions"]:
            form: list[dict[str, Any]] = []
            for item in version["form"]:
                if "group" in item:
                    if item["group"] not in groups:
                        raise CatalogueInvalid(f"Nhóm trường «{item['group']}» không tồn tại.")
                    form.extend(groups[item["group"]])
                else:
                    form.append(item)
            version["form"] = form
    return procedures


def parse_catalogue(text: bytes | str) -> Catalogue:
    """Build a catalogue from JSON text in the packaged file's format."""
    try:
        raw = msgspec.json.decode(text)
        procedures = msgspec.convert(_expand_groups(raw), list[Procedure])
    except (msgspec.ValidationError, msgspec.DecodeError, KeyError, TypeError) as exc:
        raise CatalogueInvalid(f"Danh mục thủ tục không hợp lệ: {exc}") from exc
    return Catalogue(procedures, dict(raw.get("sources", {})))


@functools.cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue (read once per process)."""
    data = importlib.resources.files("dossiers.catalogue").joinpath(_DATA_FILE).read_bytes()
    return parse_catalogue(data)
