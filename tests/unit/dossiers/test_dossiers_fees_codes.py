"""Fees with their exemptions, and dossier codes (provisional and official)."""

from __future__ import annotations

import datetime as dt

import pytest

from dossiers.catalogue import Catalogue
from dossiers.codes import (
    next_official_code,
    parse_official,
    parse_provisional,
    provisional_code,
)
from dossiers.errors import InvalidCode, ValidationFailed
from dossiers.fees import assess_fee

RECEIVED = dt.date(2026, 3, 2)


@pytest.mark.parametrize(
    ("code", "form", "exemption", "rate", "amount", "on_time"),
    [
        ("2.000884", {}, None, None, 10_000, False),
        ("2.000635", {"so_ban": 3}, None, None, 24_000, False),
        ("2.000815", {"so_trang": 1, "so_ban": 3}, None, None, 6_000, False),
        ("2.000815", {"so_trang": 5, "so_ban": 1}, None, None, 7_000, False),  # 2×2000 + 3×1000
        ("2.000815", {"so_trang": 500, "so_ban": 2}, None, None, 400_000, False),  # capped
        ("1.001776", {}, None, None, 0, False),
        ("1.004859", {}, None, 15_000, 15_000, False),
        ("1.004859", {}, "ho_ngheo", 15_000, 0, False),
        ("1.001022", {}, "nguoi_khuyet_tat", 15_000, 0, False),
        ("1.000419", {"ngay_chet": "2026-02-15"}, None, 10_000, 0, True),   # 15 days: on time
        ("1.000419", {"ngay_chet": "2026-02-14"}, None, 10_000, 10_000, False),  # 16 days
        ("1.000419", {"ngay_chet": "2026-02-14"}, "nguoi_co_cong", 10_000, 0, False),
        ("1.003583", {"ngay_sinh_tre": "2026-01-01"}, None, 10_000, 0, True),
    ],
)
def test_fees(
    catalogue: Catalogue,
    code: str,
    form: dict[str, str | int],
    exemption: str | None,
    rate: int | None,
    amount: int,
    on_time: bool,
) -> None:
    version = catalogue.get(code).latest
    fee = assess_fee(
        version, dict(form), RECEIVED, exemption=exemption, provincial_rate=rate  # type: ignore[arg-type]
    )
    assert (fee.amount_vnd, fee.on_time_exempt) == (amount, on_time)
    assert fee.exemption == exemption


def test_exemption_not_in_the_rules_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailed, match="Lệ phí: không miễn cho «Người thuộc hộ nghèo»"):
        assess_fee(catalogue.get("2.000884").latest, {}, RECEIVED, exemption="ho_ngheo")


def test_provincial_fee_needs_the_rate(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationFailed, match="Hội đồng nhân dân cấp tỉnh"):
        assess_fee(catalogue.get("1.004859").latest, {}, RECEIVED)


def test_provisional_codes() -> None:
    code = provisional_code("TAB07", 42)
    assert code == "TT-TAB07-000042"
    assert parse_provisional(code) == ("TAB07", 42)
    assert parse_provisional("TT-TAB07-1234567") == ("TAB07", 1234567)
    codes = {provisional_code(device, n) for device in ("A1", "A11", "B2") for n in range(1, 200)}
    assert len(codes) == 3 * 199  # unique without coordination
    for bad_device, counter in (("tab 7", 1), ("", 1), ("Á", 1), ("TAB07", 0)):
        with pytest.raises(InvalidCode):
            provisional_code(bad_device, counter)
    with pytest.raises(InvalidCode, match="không đúng dạng"):
        parse_provisional("TAB07-42")


def test_official_codes() -> None:
    day = dt.date(2026, 2, 23)
    first = next_official_code("000.00.01.H22", day, [])
    assert str(first) == "000.00.01.H22-260223-0001"
    issued = [
        "000.00.01.H22-260223-0001",
        "000.00.01.H22-260223-0007",
        "000.00.01.H22-260220-0099",  # another day
        "H55.242-260223-0050",  # another agency
    ]
    assert str(next_official_code("000.00.01.H22", day, issued)) == "000.00.01.H22-260223-0008"
    assert parse_official("H55.242-260223-0050").agency == "H55.242"
    assert parse_official("H55.242-260223-0050").day == day


@pytest.mark.parametrize(
    "code",
    ["000.00.01.H22-260230-0001", "000.00.01.H22-2602230-0001", "000.00.01.H22-260223-0000",
     "h22-260223-0001", "000.00.01.H22260223-0001"],
)
def test_bad_official_codes(code: str) -> None:
    with pytest.raises(InvalidCode):
        parse_official(code)


def test_daily_sequence_runs_out() -> None:
    day = dt.date(2026, 3, 2)
    with pytest.raises(InvalidCode, match="hết 9999"):
        next_official_code("H55.242", day, ["H55.242-260302-9999"])
    with pytest.raises(InvalidCode, match="Mã cơ quan"):
        next_official_code("bad agency", day, [])
