"""Dossiers in the national portal's sync shape (`DongBoHoSoMC`) and as CSV rows.

The record's field names and groups follow the Cổng DVCQG integration as used by working
client code (VietOpenCPS); times are `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh. An appointment
is a date; it is written as 23:59:59 of that day so that a timestamp comparison
"end ≤ appointment" gives the same answer as the date comparison the rule intends.
Code values whose meaning comes from inference, not a spec (HinhThuc, HinhThucThu,
LoaiPhiLePhi), are named constants below and marked as such.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from dossiers.calendar import local_time
from dossiers.catalogue import Procedure, ProcedureVersion
from dossiers.deadlines import TIMELINESS_LABELS, classify, end_of_processing
from dossiers.models import Dossier, Event
from dossiers.workflow import STATUS_LABELS, DossierState, Status, portal_status

LOAI_DOI_TUONG_CONG_DAN = "1"
HINH_THUC_TRUC_TIEP = "0"  # 0 direct / 1 postal: inferred from client code (unverified)
KENH_TRUC_TIEP = "1"  # index 766: 1 trực tiếp / 2 trực tuyến / 3 bưu chính
HINH_THUC_THU_TRUC_TIEP = "1"  # unverified meaning
LOAI_LE_PHI = "2"  # unverified meaning (1 phí / 2 lệ phí assumed)


def portal_time(moment: dt.datetime | None) -> str:
    return local_time(moment).strftime("%Y%m%d%H%M%S") if moment is not None else ""


def portal_day(day: dt.date | None) -> str:
    return f"{day:%Y%m%d}235959" if day is not None else ""


def _attachments(dossier: Dossier) -> list[dict[str, Any]]:
    return [
        {
            "TepDinhKemId": f"{dossier.provisional_code}/{entry.code}/{name}",
            "TenTepDinhKem": name,
            "IsDeleted": False,
            "MaThanhPhanHoSo": entry.code,
            "DuongDanTaiTepTin": f"{dossier.provisional_code}/{name}",
        }
        for entry in dossier.documents
        for name in entry.attachments
    ]


def _fees(dossier: Dossier, version: ProcedureVersion) -> list[dict[str, Any]]:
    name = f"Lệ phí {version.name}"
    if dossier.fee.note:
        name += f" ({dossier.fee.note})"
    return [
        {
            "TenPhiLePhi": name,
            "MaPhiLePhi": f"{dossier.procedure_code}-LP",
            "HinhThucThu": HINH_THUC_THU_TRUC_TIEP,
            "Gia": dossier.fee.amount_vnd,
            "LoaiPhiLePhi": LOAI_LE_PHI,
        }
    ]


def _supplements(state: DossierState) -> list[dict[str, Any]]:
    """One entry per supplement request, with the answer and the appointment before/after."""
    due_at = dict(state.due_changes)
    entries: list[dict[str, Any]] = []
    due: dt.date | None = None
    request: Event | None = None
    for event in state.applied:
        if request is not None and event.kind == "supplemented":
            entries[-1] = _supplement_entry(request, event, due, due_at.get(event.id))
            request = None
        elif event.kind == "supplement_requested":
            request = event
            entries.append(_supplement_entry(event, None, due, None))
        due = due_at.get(event.id, due)
    return entries


def _supplement_entry(
    request: Event, answer: Event | None, before: dt.date | None, after: dt.date | None
) -> dict[str, Any]:
    return {
        "HoSoBoSungId": request.id,
        "NguoiYeuCauBoSung": request.actor,
        "NoiDungBoSung": "; ".join(request.missing),
        "NgayBoSung": portal_time(request.at),
        "NguoiTiepNhanBoSung": answer.actor if answer else "",
        "ThongTinTiepNhan": (answer.reason or "") if answer else "",
        "NgayTiepNhanBoSung": portal_time(answer.at) if answer else "",
        "TrangThaiBoSung": 1 if answer else 0,
        "DanhSachGiayToBoSung": [],
        "DanhSachLePhiBoSung": [],
        "NgayHenTraTruoc": portal_day(before),
        "NgayHenTraMoi": portal_day(after),
    }


def dongbo_hoso(dossier: Dossier, procedure: Procedure, state: DossierState) -> dict[str, Any]:
    """A `DongBoHoSoMC` data record for this dossier and its folded events."""
    version = procedure.version_named(dossier.procedure_version) or procedure.latest
    notes = ["Tiếp nhận tại nhà"] if dossier.place == "home" else []
    if state.extended and state.due_date is not None:
        notes.append(f"Gia hạn, hẹn trả mới {state.due_date:%d/%m/%Y}")
    applicant = dossier.applicant
    return {
        "MaHoSo": dossier.official_code or dossier.provisional_code,
        "MaTTHC": procedure.code.value,
        "TenTTHC": version.name,
        "MaLinhVuc": procedure.area.code or "",
        "TenLinhVuc": procedure.area.name,
        "KenhThucHien": KENH_TRUC_TIEP,
        "ChuHoSo": applicant.full_name,
        "LoaiDoiTuong": LOAI_DOI_TUONG_CONG_DAN,
        "MaDoiTuong": applicant.identity_number,
        "ThongTinKhac": f"Mã hồ sơ tạm: {dossier.provisional_code}",
        "Email": "",
        "Fax": "",
        "SoDienThoai": applicant.phone or "",
        "TrichYeuHoSo": f"{version.name} — {applicant.full_name}",
        "NgayTiepNhan": portal_time(state.received_at or dossier.received_at),
        "NgayHenTra": portal_day(state.due_before_extension or dossier.appointment_date),
        "TrangThaiHoSo": portal_status(state),
        "NgayTra": portal_time(state.reached.get(Status.RETURNED.value)),
        "ThongTinTra": "",
        "NgayKetThucXuLy": portal_time(end_of_processing(state)),
        "HinhThuc": HINH_THUC_TRUC_TIEP,
        "DonViXuLy": dossier.agency_code,
        "GhiChu": "; ".join(notes),
        "TaiLieuNop": _attachments(dossier),
        "DanhSachLePhi": _fees(dossier, version),
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": _supplements(state),
        "DanhSachGiayToKetQua": [],
    }


CSV_HEADER: tuple[str, ...] = (
    "Mã hồ sơ",
    "Mã hồ sơ tạm",
    "Mã thủ tục",
    "Tên thủ tục",
    "Chủ hồ sơ",
    "Số định danh",
    "Số điện thoại",
    "Nơi tiếp nhận",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Mã trạng thái",
    "Trạng thái",
    "Ngày kết thúc xử lý",
    "Tình trạng hạn",
    "Lệ phí (đồng)",
)


def _cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = str(value)
    risky = text[:1] in ("=", "@") or (text[:1] in ("+", "-") and not text[1:2].isdigit())
    return f"'{text}" if risky else text


def csv_row(
    dossier: Dossier, procedure: Procedure, state: DossierState, *, as_of: dt.datetime
) -> list[str]:
    version = procedure.version_named(dossier.procedure_version) or procedure.latest
    end = end_of_processing(state)
    status_label = STATUS_LABELS[state.status] if state.status else ""
    row = [
        dossier.official_code or "",
        dossier.provisional_code,
        procedure.code.value,
        version.name,
        dossier.applicant.full_name,
        dossier.applicant.identity_number,
        dossier.applicant.phone or "",
        "Tại nhà" if dossier.place == "home" else "Tại trụ sở",
        local_time(dossier.received_at).strftime("%Y-%m-%d %H:%M"),
        (state.due_date or dossier.appointment_date).isoformat(),
        str(portal_status(state)),
        status_label,
        local_time(end).strftime("%Y-%m-%d %H:%M") if end else "",
        TIMELINESS_LABELS[classify(state, as_of)],
        str(dossier.fee.amount_vnd),
    ]
    return [_cell(v) for v in row]


def to_csv(rows: list[list[str]]) -> str:
    """The header and rows as CSV text (RFC 4180, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()
