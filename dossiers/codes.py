"""Dossier codes: provisional codes a device makes offline, official codes made at intake.

- Provisional: `TT-<device id>-<counter>`, unique without coordination because each device
  id is unique and its counter only grows. Kept on the dossier for ever, beside the official
  code.
- Official: `<agency code>-YYMMDD-XXXX` (Circular 01/2018 Art 19): the receiving agency's
  identifier, the day of receipt (Asia/Ho_Chi_Minh) and a 4-digit daily sequence. Only the
  back office allocates it, from the codes already issued that day, so allocation is a pure
  function of what is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import msgspec

from dossiers.errors import InvalidCode

_DEVICE_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_PROVISIONAL = re.compile(r"^TT-(?P<device>[A-Za-z0-9]{1,32})-(?P<counter>\d{6,})$")
# QCVN 102:2016 identifiers: dot-separated groups of letters and digits (000.00.01.H22).
_AGENCY = re.compile(r"^[A-Z0-9]{1,6}(\.[A-Z0-9]{1,6}){0,5}$")
_OFFICIAL = re.compile(r"^(?P<agency>[A-Z0-9.]+)-(?P<day>\d{6})-(?P<seq>\d{4})$")
MAX_DAILY_SEQUENCE = 9999


class OfficialCode(msgspec.Struct, frozen=True):
    agency: str
    day: dt.date
    sequence: int

    def __str__(self) -> str:
        return f"{self.agency}-{self.day:%y%m%d}-{self.sequence:04d}"


def provisional_code(device_id: str, counter: int) -> str:
    if not _DEVICE_ID.match(device_id):
        raise InvalidCode(
            "Mã thiết bị chỉ gồm chữ cái không dấu và chữ số, tối đa 32 ký tự.", field="device_id"
        )
    if counter < 1:
        raise InvalidCode("Số thứ tự trên thiết bị phải từ 1 trở lên.", field="counter")
    return f"TT-{device_id}-{counter:06d}"


def parse_provisional(code: str) -> tuple[str, int]:
    match = _PROVISIONAL.match(code)
    if match is None:
        raise InvalidCode(f"Mã hồ sơ tạm «{code}» không đúng dạng TT-<thiết bị>-<số>.")
    return match["device"], int(match["counter"])


def check_agency_code(agency: str) -> str:
    if not _AGENCY.match(agency):
        raise InvalidCode(
            f"Mã cơ quan «{agency}» không đúng dạng (ví dụ 000.00.01.H22).", field="agency_code"
        )
    return agency


def parse_official(code: str) -> OfficialCode:
    match = _OFFICIAL.match(code)
    if match is None:
        raise InvalidCode(f"Mã hồ sơ «{code}» không đúng dạng <mã cơ quan>-YYMMDD-XXXX.")
    try:
        day = dt.datetime.strptime(match["day"], "%y%m%d").date()
    except ValueError as exc:
        raise InvalidCode(f"Mã hồ sơ «{code}» có ngày không hợp lệ.") from exc
    sequence = int(match["seq"])
    if sequence < 1:
        raise InvalidCode(f"Mã hồ sơ «{code}» có số thứ tự 0000.")
    return OfficialCode(check_agency_code(match["agency"]), day, sequence)


def next_official_code(agency: str, day: dt.date, issued: Iterable[str]) -> OfficialCode:
    """The next code for `agency` on `day`, after every code in `issued` for that pair."""
    check_agency_code(agency)
    used = [
        parsed.sequence
        for parsed in map(parse_official, issued)
        if parsed.agency == agency and parsed.day == day
    ]
    sequence = max(used, default=0) + 1
    if sequence > MAX_DAILY_SEQUENCE:
        raise InvalidCode(
            f"Cơ quan {agency} đã dùng hết {MAX_DAILY_SEQUENCE} số hồ sơ của ngày {day:%d/%m/%Y}."
        )
    return OfficialCode(agency, day, sequence)
