"""Identity numbers, phones, NFC and search keys, declarations, whole dossiers."""

from __future__ import annotations

import datetime as dt
import unicodedata

import msgspec
import pytest
from dossier_helpers import vn

from dossiers.calendar import WorkingCalendar
from dossiers.catalogue import Catalogue
from dossiers.errors import ValidationFailed
from dossiers.examples import example_dossier
from dossiers.models import Address, Citizen, DocumentEntry
from dossiers.validation import (
    citizen_problems,
    dossier_problems,
    form_problems,
    identity_problems,
    normalise,
    normalise_form,
    normalise_phone,
    parse_identity_number,
    search_key,
    validate_dossier,
)

TODAY = dt.date(2026, 3, 2)
D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("number", "birth", "sex", "problem"),
    [
        ("001045012345", "1945-03-12", "nam", None),
        ("079301000123", "2001-06-30", "nu", None),  # G=3: female born 2000–2099
        ("001138004567", "1938-05-20", "nu", None),
        ("125090001234", "1990-01-01", "nam", None),  # born abroad: country code 125
        ("00104501234", "1945-03-12", "nam", "phải gồm đúng 12 chữ số."),
        ("00104501234a", "1945-03-12", "nam", "phải gồm đúng 12 chữ số."),
        ("001 04501234", "1945-03-12", "nam", "phải gồm đúng 12 chữ số."),
        ("003045012345", "1945-03-12", "nam", "mã nơi đăng ký khai sinh «003»"),
        ("001045012345", "1946-03-12", "nam", "không khớp với ngày sinh đã nhập (12/03/1946)"),
        ("001045012345", "1945-03-12", "nu", "chữ số giới tính chỉ Nam"),
        ("001227012345", "2027-01-01", "nam", "năm sinh suy ra (2027) ở tương lai."),
        ("001145012345", "2045-03-12", "nu", "năm sinh suy ra (1945)"),  # G=1 is 1900s
    ],
)
def test_identity_numbers(number: str, birth: str, sex: str, problem: str | None) -> None:
    problems = identity_problems(number, birth_date=D(birth), sex=sex, today=TODAY)
    if problem is None:
        assert problems == []
    else:
        assert problems, number
        assert problems[0].message.startswith("Số định danh cá nhân: ")
        assert any(problem in p.message for p in problems)


def test_identity_number_fields() -> None:
    parsed = parse_identity_number("079301000123")
    assert (parsed.place_code, parsed.born_abroad, parsed.birth_year, parsed.sex) == (
        "079", False, 2001, "nu"
    )


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("0243 8251 234", "+842438251234"),  # Hà Nội landline (11 digits)
    ],
)
def test_valid_phones(text: str, e164: str) -> None:
    assert normalise_phone(text) == e164


@pytest.mark.parametrize("text", ["0123", "0012345678", "phone", "09123456789999"])
def test_invalid_phones_name_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalise_phone(text)
    assert info.value.errors[0].message.startswith("Số điện thoại: ")


def test_nfc_and_search_key() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Thu Hường")
    assert decomposed != "Nguyễn Thị Thu Hường"
    assert normalise(f"  {decomposed} ") == "Nguyễn Thị Thu Hường"
    assert search_key("Nguyễn Thị Thu Hường") == "nguyen thi thu huong"
    assert search_key(decomposed) == search_key("nguyen  THI thu huong")
    assert search_key("Đặng Văn Đức") == "dang van duc"
    form = normalise_form({"ho_ten": decomposed, "so_ban": 2})
    assert form == {"ho_ten": "Nguyễn Thị Thu Hường", "so_ban": 2}


def _citizen(**changes: object) -> Citizen:
    base = Citizen(
        full_name="Nguyễn Văn An",
        identity_number="001045012345",
        birth_date=D("1945-03-12"),
        sex="nam",
        address=Address(detail="Số 12 ngõ 5", commune_code="00004", province_code="01"),
        phone="0912345678",
    )
    return msgspec.structs.replace(base, **changes)


def test_citizen_problems_list_everything_at_once() -> None:
    assert citizen_problems(_citizen(), today=TODAY) == []
    bad = _citizen(
        full_name=" ",
        phone="12",
        birth_date=D("2027-01-01"),
        address=Address(detail="", commune_code="4", province_code="02"),
    )
    fields = {p.field for p in citizen_problems(bad, today=TODAY)}
    assert fields == {
        "applicant.full_name",
        "applicant.birth_date",
        "applicant.identity_number",
        "applicant.phone",
        "applicant.address.province_code",
        "applicant.address.commune_code",
        "applicant.address.detail",
    }


def test_declaration_problems(catalogue: Catalogue) -> None:
    version = catalogue.get("1.000419").latest
    form = {
        "ho_ten_nguoi_chet": "x" * 101,
        "ngay_sinh_nguoi_chet": "20/05/1938",
        "gioi_tinh_nguoi_chet": "khac",
        "so_dinh_danh_nguoi_chet": "001038004567",  # male digit, but the form says female
        "ngay_chet": "2026-03-05",
        "noi_chet": "",
        "quan_he_voi_nguoi_chet": "Con",
        "ghi_chu": "?",
    }
    messages = {p.field: p.message for p in form_problems(version, form, today=TODAY)}
    assert messages == {
        "form.ghi_chu": "ghi_chu: không có trong tờ khai của thủ tục.",
        "form.ho_ten_nguoi_chet": "Họ, chữ đệm và tên người chết: không được dài quá 100 ký tự.",
        "form.ngay_sinh_nguoi_chet": "Ngày sinh người chết: phải là ngày dạng YYYY-MM-DD.",
        "form.gioi_tinh_nguoi_chet": "Giới tính người chết: phải là một trong: Nam, Nữ.",
        "form.ngay_chet": "Ngày chết: không được sau ngày hôm nay.",
        "form.noi_chet": "Nơi chết: bắt buộc phải nhập.",
    }
    form.update(
        ho_ten_nguoi_chet="Trần Thị Bình", ngay_sinh_nguoi_chet="1938-05-20",
        gioi_tinh_nguoi_chet="nu", ngay_chet="2026-02-25", noi_chet="Tại nhà",
    )
    del form["ghi_chu"]
    problems = form_problems(version, form, today=TODAY)
    assert [p.message for p in problems] == [
        "Số định danh cá nhân của người chết: chữ số giới tính chỉ Nam, "
        "nhưng giới tính đã nhập là Nữ."
    ]


def test_integer_boolean_and_datetime_fields(catalogue: Catalogue) -> None:
    version = catalogue.get("2.001019").latest
    form = {
        "nguoi_lap_minh_man": False,
        "so_trang": 0,
        "ly_do_ngoai_tru_so": "cao_tuoi",
        "dia_diem_chung_thuc": "Nhà riêng",
        "thoi_diem_chung_thuc": "2026-03-02T09:30",  # no offset
    }
    messages = sorted(p.message for p in form_problems(version, form, today=TODAY))
    assert messages == [
        "Người lập di chúc minh mẫn, sáng suốt, không bị lừa dối, đe dọa (người chứng thực "
        "xác nhận): phải được xác nhận.",
        "Số trang của di chúc: phải từ 1 đến 200.",
        "Thời điểm chứng thực (giờ, phút, ngày): phải là thời điểm dạng YYYY-MM-DDTHH:MM "
        "kèm múi giờ.",
    ]


@pytest.mark.parametrize(
    "code",
    ["2.000884", "2.001035", "2.001019", "1.000419", "1.003583", "2.000635", "1.004859",
     "1.001022", "1.001776", "2.000815"],
)
@pytest.mark.parametrize("received", ["2026-03-02 09:30", "2030-02-07 16:00"])
def test_every_example_dossier_is_valid(
    catalogue: Catalogue, calendar: WorkingCalendar, code: str, received: str
) -> None:
    dossier = example_dossier(catalogue, code, received_at=vn(received), calendar=calendar)
    validate_dossier(dossier, catalogue, today=vn(received).date(), calendar=calendar)


def test_starting_a_certified_copy_at_home_is_refused(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    dossier = example_dossier(catalogue, "2.000815", received_at=vn("2026-03-02 09:30"),
                              calendar=calendar)
    at_home = msgspec.structs.replace(dossier, place="home")
    problems = dossier_problems(at_home, catalogue, today=TODAY)
    assert [p.field for p in problems] == ["place"]
    assert problems[0].message.startswith("Nơi tiếp nhận: không được thực hiện tại nhà.")
    assert "Điều 10" in problems[0].message


def test_checklist_problems(catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    dossier = example_dossier(catalogue, "1.000419", received_at=vn("2026-03-02 09:30"),
                              calendar=calendar)
    docs = list(dossier.documents)
    docs[0] = msgspec.structs.replace(docs[0], provided=False)
    docs[1] = msgspec.structs.replace(docs[1], attachments=())
    docs.append(DocumentEntry(code="TP99", name="Khác", mandatory=False, provided=True))
    broken = msgspec.structs.replace(dossier, documents=tuple(docs))
    with pytest.raises(ValidationFailed) as info:
        validate_dossier(broken, catalogue, today=TODAY)
    assert [p.message for p in info.value.errors] == [
        "TP99: không có trong thành phần hồ sơ.",
        "Tờ khai đăng ký khai tử: còn thiếu.",
        "Giấy báo tử hoặc giấy tờ thay thế Giấy báo tử: chưa có tệp đính kèm.",
    ]


def test_unknown_procedure_in_a_dossier(catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    dossier = example_dossier(catalogue, "2.000884", received_at=vn("2026-03-02 09:30"),
                              calendar=calendar)
    problems = dossier_problems(
        msgspec.structs.replace(dossier, procedure_code="1.234567"), catalogue, today=TODAY
    )
    assert [p.message for p in problems] == [
        "Mã thủ tục: Không có thủ tục mã «1.234567» trong danh mục."
    ]


def test_fee_and_appointment_must_match_the_rules(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    # Chứng thực chữ ký received Friday 13/02/2026 after 15:00: due after Tết, 10,000 đồng.
    dossier = example_dossier(catalogue, "2.000884", received_at=vn("2026-02-13 15:30"),
                              calendar=calendar)
    assert (dossier.appointment_date, dossier.fee.amount_vnd) == (D("2026-02-23"), 10_000)
    wrong = msgspec.structs.replace(
        dossier,
        appointment_date=D("2026-02-13"),
        fee=msgspec.structs.replace(dossier.fee, amount_vnd=5_000),
    )
    messages = [p.message for p in dossier_problems(wrong, catalogue, today=TODAY,
                                                    calendar=calendar)]
    assert messages == [
        "Lệ phí: phải là 10000 đồng, đang ghi 5000 đồng.",
        "Ngày hẹn trả: theo thời hạn của thủ tục phải là 23/02/2026, đang ghi 13/02/2026.",
    ]
    exempt = msgspec.structs.replace(
        dossier, fee=msgspec.structs.replace(dossier.fee, amount_vnd=0, exemption="ho_ngheo")
    )
    assert [p.message for p in dossier_problems(exempt, catalogue, today=TODAY)] == [
        "Lệ phí: không miễn cho «Người thuộc hộ nghèo» ở thủ tục này."
    ]


def test_verification_is_part_of_the_appointment(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    dossier = example_dossier(catalogue, "1.001022", received_at=vn("2026-02-12 10:00"),
                              calendar=calendar)
    assert dossier.appointment_date == D("2026-02-24")
    verifying = msgspec.structs.replace(dossier, needs_verification=True)
    problems = dossier_problems(verifying, catalogue, today=TODAY, calendar=calendar)
    assert [p.field for p in problems] == ["appointment_date"]
    fixed = msgspec.structs.replace(verifying, appointment_date=D("2026-03-03"))
    assert dossier_problems(fixed, catalogue, today=TODAY, calendar=calendar) == []


def test_visits_refuse_office_only_procedures_with_the_legal_reason(
    catalogue: Catalogue,
) -> None:
    from dossiers.models import Visit
    from dossiers.validation import visit_problems

    visit = Visit(
        access=("officer:o1", "ward:00004"),
        id="v1",
        citizen=_citizen(),
        procedures=("2.000884", "1.001776"),
        priority_group="nguoi_cao_tuoi",
        officer_id="o1",
        planned_date=D("2026-03-03"),
    )
    assert visit_problems(visit, catalogue, today=TODAY) == []
    copies = msgspec.structs.replace(visit, procedures=("2.000884", "2.000815", "0.000000"))
    messages = [p.message for p in visit_problems(copies, catalogue, today=TODAY)]
    assert len(messages) == 2
    assert messages[0].startswith(
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản: không được thực hiện tại nhà. "
        "Nghị định 23/2015/NĐ-CP, Điều 10 chỉ cho phép chứng thực ngoài trụ sở đối với di chúc"
    )
    assert messages[1] == "Thủ tục: Không có thủ tục mã «0.000000» trong danh mục."
    past = msgspec.structs.replace(visit, planned_date=D("2026-03-01"), procedures=())
    assert {p.field for p in visit_problems(past, catalogue, today=TODAY)} == {
        "procedures", "planned_date"
    }
