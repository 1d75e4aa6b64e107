"""Exports of a month of dossiers with known outcomes (see reports_helpers), on both storage
backends: the CSV parsed back (BOM, header, codes, dates, timeliness labels), the national
portal's DongBoHoSoMC records checked field by field, both written to the audit log."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import register_helpers
from litestar.testing import TestClient
from register_helpers import Spec
from reports_helpers import MARCH, NOW, RECEIVED_IN_MARCH, month_of_dossiers

from api.services import Services
from dossiers.exports import CSV_HEADER

Login = Callable[[str], dict[str, str]]
PORTAL_TIME = re.compile(r"^\d{14}$")
# provisional code -> (status code, end of processing, timeliness label), as of 20/03/2026
EXPECTED = {
    "A1": ("10", "2026-03-04 10:00", "Trước hạn"),
    "A2": ("9", "2026-03-05 16:00", "Đúng hạn"),
    "A3": ("9", "2026-03-09 10:00", "Quá hạn"),
    "A4": ("4", "", "Quá hạn"),
    "A5": ("1", "", "Chưa đến hạn"),
    "B1": ("3", "2026-03-10 14:00", "Trước hạn"),
    "B2": ("5", "2026-03-10 14:00", "Trước hạn"),
    "B3": ("4", "", "Quá hạn"),
}


@pytest.fixture
def specs(back_office: Services, synced: Callable[[Sequence[Spec]], None]) -> dict[str, Spec]:
    back_office.register.clock = lambda: NOW
    found = month_of_dossiers()
    synced(list(found.values()))
    return found


def _audited(client: TestClient[Any], login: Login, action: str) -> list[dict[str, Any]]:
    answer = client.get("/api/audit", params={"action": action}, headers=login("supervisor1"))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_csv_export_opens_in_excel_with_every_received_dossier(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    answer = back_office_client.get("/api/exports/dossiers.csv", params=MARCH,
                                    headers=logins("handler1"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="ho-so_2026-03-01_2026-03-31.csv"')
    assert answer.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert tuple(table[0]) == CSV_HEADER
    rows = {dict(zip(CSV_HEADER, line, strict=True))["Mã hồ sơ tạm"]:
            dict(zip(CSV_HEADER, line, strict=True)) for line in table[1:]}
    by_code = {specs[name].code: name for name in RECEIVED_IN_MARCH}
    assert set(rows) == set(by_code)  # not N1, S1 (never received) nor F1 (February)
    for code, row in rows.items():
        name = by_code[code]
        status, ended, timeliness = EXPECTED[name]
        assert (row["Mã trạng thái"], row["Ngày kết thúc xử lý"], row["Tình trạng hạn"]) == (
            status, ended, timeliness), name
    a1 = rows[specs["A1"].code]
    assert a1["Mã hồ sơ"] == "000.00.01.H22-260302-0001"
    assert a1["Tên thủ tục"] == "Đăng ký nhận cha, mẹ, con"
    assert a1["Trạng thái"] == "Đã trả kết quả"
    assert (a1["Ngày tiếp nhận"], a1["Ngày hẹn trả"]) == ("2026-03-02 09:05", "2026-03-05")
    assert a1["Chủ hồ sơ"] == "Nguyễn Thị Hường"
    assert rows[specs["B3"].code]["Ngày hẹn trả"] == "2026-03-25"  # after the extension
    [entry] = _audited(back_office_client, logins, "export.csv")
    assert entry["actor"] == "handler1"
    assert sorted(entry["dossier_ids"]) == sorted(specs[n].dossier_id for n in RECEIVED_IN_MARCH)


def test_dongbo_export_gives_the_portal_records(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    answer = back_office_client.get("/api/exports/dongbo", params=MARCH,
                                    headers=logins("supervisor1"))
    assert answer.status_code == 200, answer.text
    records = {r["ThongTinKhac"].removeprefix("Mã hồ sơ tạm: "): r for r in answer.json()}
    names = {specs[name].code: name for name in RECEIVED_IN_MARCH}
    assert set(records) == set(names)
    for code, record in records.items():
        status = int(EXPECTED[names[code]][0])
        assert record["TrangThaiHoSo"] == status and 1 <= status <= 10
        for field in ("NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy"):
            assert record[field] == "" or PORTAL_TIME.match(record[field]), (field, record)
        assert record["MaHoSo"].startswith("000.00.01.H22-2603")
    a1 = records[specs["A1"].code]
    assert (a1["MaHoSo"], a1["MaTTHC"], a1["TenTTHC"], a1["TenLinhVuc"]) == (
        "000.00.01.H22-260302-0001", "1.001022", "Đăng ký nhận cha, mẹ, con", "Hộ tịch")
    assert (a1["NgayTiepNhan"], a1["NgayHenTra"], a1["NgayKetThucXuLy"], a1["NgayTra"]) == (
        "20260302090500", "20260305235959", "20260304100000", "20260306100000")
    assert a1["ChuHoSo"] == "Nguyễn Thị Hường" and a1["LoaiDoiTuong"] == "1"
    b3 = records[specs["B3"].code]
    # The portal judges against the appointment before the extension; the note says the new one.
    assert b3["NgayHenTra"] == "20260318235959"
    assert "Gia hạn, hẹn trả mới 25/03/2026" in b3["GhiChu"]
    [request] = records[specs["B2"].code]["DanhSachHoSoBoSung"]
    assert (request["NoiDungBoSung"], request["NgayBoSung"], request["TrangThaiBoSung"]) == (
        "Giấy xác nhận cư trú", "20260310140000", 0)
    assert request["NgayHenTraTruoc"] == "20260318235959"
    [entry] = _audited(back_office_client, logins, "export.dongbo")
    assert entry["actor"] == "supervisor1" and len(entry["dossier_ids"]) == 8


def test_exports_refuse_other_roles_and_bad_ranges(
    back_office_client: TestClient[Any], logins: Login
) -> None:
    for path in ("/api/exports/dossiers.csv", "/api/exports/dongbo"):
        for username in ("officer1", "admin"):
            answer = back_office_client.get(path, params=MARCH, headers=logins(username))
            assert answer.status_code == 403, (path, username, answer.text)
        for query, named in (({"from": "2026-03-01"}, "«to»"),
                             ({"from": "2026-03-31", "to": "2026-03-01"}, "«from»"),
                             ({"from": "2026-01-01", "to": "2027-01-31"}, "366"),
                             ({"from": "01/03/2026", "to": "2026-03-31"}, "«from»")):
            answer = back_office_client.get(path, params=query, headers=logins("handler1"))
            assert answer.status_code == 400, (path, query, answer.text)
            assert named in answer.json()["detail"]
    assert _audited(back_office_client, logins, "export.csv") == []


def test_an_unreadable_dossier_is_counted_as_skipped_not_dropped_silently(
    back_office: Services, back_office_client: TestClient[Any], logins: Login
) -> None:
    back_office.register.clock = lambda: NOW
    good, bad = month_of_dossiers()["A1"], month_of_dossiers()["A2"]
    docs = [*register_helpers.documents(good), *register_helpers.documents(bad)]
    for doc in docs:
        if doc["_id"] == bad.dossier_id:
            del doc["fee"]  # written straight to storage, past the gateway's checks
    assert all("error" not in r for r in back_office.central.bulk_docs(docs))
    back_office.register.catch_up()
    answer = back_office_client.get("/api/exports/dongbo", params=MARCH,
                                    headers=logins("handler1"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["doorstep-skipped-dossiers"] == "1"
    assert [r["ThongTinKhac"] for r in answer.json()] == [f"Mã hồ sơ tạm: {good.code}"]
    [entry] = _audited(back_office_client, logins, "export.dongbo")
    assert entry["dossier_ids"] == [good.dossier_id]
    assert "skipped=1" in entry["detail"]
