"""The DongBoHoSoMC record and the CSV row of a dossier with its events."""

from __future__ import annotations

import csv
import io
import re

import pytest
from dossier_helpers import EventFactory, vn

from dossiers.calendar import WorkingCalendar
from dossiers.catalogue import Catalogue
from dossiers.deadlines import DeadlinePolicy
from dossiers.examples import example_dossier
from dossiers.exports import CSV_HEADER, csv_row, dongbo_hoso, to_csv
from dossiers.models import Dossier
from dossiers.workflow import DossierState, fold

DONGBO_FIELDS = {
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "ChuHoSo",
    "LoaiDoiTuong", "MaDoiTuong", "ThongTinKhac", "Email", "Fax", "SoDienThoai",
    "TrichYeuHoSo", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "NgayTra", "ThongTinTra",
    "NgayKetThucXuLy", "HinhThuc", "DonViXuLy", "GhiChu", "TaiLieuNop", "DanhSachLePhi",
    "DanhSachTepDinhKemKhac", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua",
}
PORTAL_TIME = re.compile(r"^\d{14}$")


@pytest.fixture
def dossier(catalogue: Catalogue, calendar: WorkingCalendar) -> Dossier:
    # Cải chính hộ tịch: 3 working days, received the Tuesday before Tết 2026.
    return example_dossier(
        catalogue, "1.004859", received_at=vn("2026-02-10 10:00"), calendar=calendar
    )


def _state(dossier: Dossier, event: EventFactory, catalogue: Catalogue,
           calendar: WorkingCalendar) -> DossierState:
    version = catalogue.get(dossier.procedure_code).latest
    policy = DeadlinePolicy(calendar, version.time_limit.for_form(dossier.form))
    return fold(
        [
            event("received", "2026-02-10 10:00", "officer"),
            event("supplement_requested", "2026-02-11 09:00", "officer",
                  missing=("Giấy khai sinh bản chính", "Giấy tờ làm căn cứ")),
            event("supplemented", "2026-02-13 14:00", "officer"),
            event("accepted", "2026-02-13 15:00", "handler"),
            event("processing", "2026-02-23 08:00", "handler"),
            event("resolved", "2026-02-24 16:05", "handler"),
            event("result_ready", "2026-02-25 08:00", "handler"),
            event("returned", "2026-02-26 09:30", "officer"),
        ],
        policy,
    )


def test_dongbo_record(dossier: Dossier, event: EventFactory, catalogue: Catalogue,
                       calendar: WorkingCalendar) -> None:
    assert dossier.appointment_date.isoformat() == "2026-02-13"
    state = _state(dossier, event, catalogue, calendar)
    record = dongbo_hoso(dossier, catalogue.get(dossier.procedure_code), state)
    assert set(record) == DONGBO_FIELDS
    assert record["MaHoSo"] == "000.00.01.H22-260210-0001"
    assert record["MaTTHC"] == "1.004859"
    assert record["ChuHoSo"] == "Nguyễn Văn An"
    assert record["MaDoiTuong"] == "001045012345"
    assert record["TrangThaiHoSo"] == 10
    assert record["NgayTiepNhan"] == "20260210100000"
    assert record["NgayHenTra"] == "20260225235959"  # restarted after the supplement
    assert record["NgayKetThucXuLy"] == "20260224160500"
    assert record["NgayTra"] == "20260226093000"
    for key in ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"):
        assert PORTAL_TIME.match(record[key])
    assert [a["MaThanhPhanHoSo"] for a in record["TaiLieuNop"]] == ["TP01", "TP02", "TP03"]
    assert record["DanhSachLePhi"][0]["Gia"] == dossier.fee.amount_vnd
    (supplement,) = record["DanhSachHoSoBoSung"]
    assert supplement["NoiDungBoSung"] == "Giấy khai sinh bản chính; Giấy tờ làm căn cứ"
    assert supplement["NgayBoSung"] == "20260211090000"
    assert supplement["NgayTiepNhanBoSung"] == "20260213140000"
    assert supplement["TrangThaiBoSung"] == 1
    assert supplement["NgayHenTraTruoc"] == "20260213235959"
    assert supplement["NgayHenTraMoi"] == "20260225235959"
    assert "Tiếp nhận tại nhà" in record["GhiChu"]


def test_open_supplement_in_the_record(dossier: Dossier, event: EventFactory,
                                       catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    version = catalogue.get(dossier.procedure_code).latest
    policy = DeadlinePolicy(calendar, version.time_limit)
    state = fold(
        [
            event("received", "2026-02-10 10:00", "officer"),
            event("supplement_requested", "2026-02-11 09:00", "officer", missing=("A",)),
        ],
        policy,
    )
    record = dongbo_hoso(dossier, catalogue.get(dossier.procedure_code), state)
    assert record["TrangThaiHoSo"] == 5
    assert record["NgayKetThucXuLy"] == "20260211090000"  # the clock stops at the request
    (supplement,) = record["DanhSachHoSoBoSung"]
    assert (supplement["TrangThaiBoSung"], supplement["NgayTiepNhanBoSung"]) == (0, "")


def test_csv_row(dossier: Dossier, event: EventFactory, catalogue: Catalogue,
                 calendar: WorkingCalendar) -> None:
    state = _state(dossier, event, catalogue, calendar)
    row = csv_row(dossier, catalogue.get(dossier.procedure_code), state,
                  as_of=vn("2026-03-31 12:00"))
    text = to_csv([row])
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == list(CSV_HEADER)
    values = dict(zip(CSV_HEADER, parsed[1], strict=True))
    assert values["Mã hồ sơ"] == "000.00.01.H22-260210-0001"
    assert values["Ngày tiếp nhận"] == "2026-02-10 10:00"
    assert values["Ngày hẹn trả"] == "2026-02-25"
    assert values["Mã trạng thái"] == "10"
    assert values["Tình trạng hạn"] == "Trước hạn"
    assert values["Nơi tiếp nhận"] == "Tại nhà"


def test_csv_cells_cannot_become_formulas(dossier: Dossier, event: EventFactory,
                                          catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    import msgspec

    applicant = msgspec.structs.replace(dossier.applicant, full_name="=HYPERLINK(\"x\")",
                                        phone="+84912345678")
    hostile = msgspec.structs.replace(dossier, applicant=applicant)
    state = _state(dossier, event, catalogue, calendar)
    row = csv_row(hostile, catalogue.get(dossier.procedure_code), state,
                  as_of=vn("2026-03-31 12:00"))
    values = dict(zip(CSV_HEADER, row, strict=True))
    assert values["Chủ hồ sơ"] == "'=HYPERLINK(\"x\")"
    assert values["Số điện thoại"] == "+84912345678"
