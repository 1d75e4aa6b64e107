"""A synced dossier mapped onto signing's declaration: every declared field under its label,
values as a person reads them, the checklist, fee, codes and files; bad dossiers refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import msgspec
import pytest

from dossiers.calendar import LOCAL_TZ, WorkingCalendar, default_calendar
from dossiers.catalogue import Catalogue, ProcedureVersion, load_catalogue
from dossiers.examples import example_dossier
from dossiers.models import Dossier
from field import ceremony
from field.errors import AttachmentMissing, DossierRefused
from signing import forms

RECEIVED = dt.datetime(2026, 3, 10, 9, 30, tzinfo=LOCAL_TZ)
TODAY = RECEIVED.date()
OFFICER = forms.Person("Trần Văn Đức")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return default_calendar()


def _example(catalogue: Catalogue, calendar: WorkingCalendar, code: str) -> bytes:
    dossier = example_dossier(catalogue, code, received_at=RECEIVED, calendar=calendar)
    return msgspec.json.encode(dossier)


def _photos(dossier: Dossier) -> dict[str, bytes]:
    return {name: f"ảnh {name}".encode() for name, _ in ceremony.photo_names(dossier)}


def _content(catalogue: Catalogue, calendar: WorkingCalendar,
             raw: bytes) -> tuple[Dossier, ProcedureVersion, forms.DeclarationContent]:
    dossier, version = ceremony.checked_dossier(raw, catalogue, today=TODAY, calendar=calendar)
    content = ceremony.declaration_content(dossier, version, dossier_json=raw,
                                           photos=_photos(dossier), officer=OFFICER)
    return dossier, version, content


def _section(content: forms.DeclarationContent, heading: str) -> dict[str, str]:
    section = next(s for s in content.sections if s.heading == heading)
    return dict(section.rows)


def _codes() -> list[str]:
    return [procedure.code.value for procedure in load_catalogue()]


@pytest.mark.parametrize("code", _codes())
def test_every_declared_field_appears_in_catalogue_order(
    catalogue: Catalogue, calendar: WorkingCalendar, code: str
) -> None:
    dossier, version, content = _content(catalogue, calendar, _example(catalogue, calendar, code))
    declared = next(s for s in content.sections if s.heading == "II. NỘI DUNG KHAI")
    assert [label for label, _ in declared.rows] == [spec.label for spec in version.form]
    for (_label, shown), spec in zip(declared.rows, version.form, strict=True):
        value = dossier.form[spec.name]
        assert shown, f"{spec.name} printed empty"
        if spec.type == "boolean":
            assert shown == ("Có" if value else "Không")
        elif spec.type == "choice":
            assert shown in {c.label for c in spec.choices} and shown != value
        elif spec.type == "date":
            assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", shown)
        elif spec.type == "integer":
            assert shown == str(value)
    assert content.title == f"TỜ KHAI {version.name.upper()}"
    assert content.procedure_name == version.name
    checklist = _section(content, "III. THÀNH PHẦN HỒ SƠ")
    assert list(checklist) == [d.name for d in version.documents]


def test_death_registration_values_read_as_a_person_would(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    _dossier, _version, content = _content(catalogue, calendar,
                                            _example(catalogue, calendar, "1.000419"))
    declared = _section(content, "II. NỘI DUNG KHAI")
    assert declared["Ngày sinh người chết"] == "20/05/1938"
    assert declared["Ngày chết"] == "25/02/2026"
    assert declared["Giới tính người chết"] == "Nữ"
    assert declared["Họ, chữ đệm và tên người chết"] == "Trần Thị Bình"


def test_will_certification_boolean_and_time(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    _dossier, _version, content = _content(catalogue, calendar,
                                            _example(catalogue, calendar, "2.001019"))
    declared = _section(content, "II. NỘI DUNG KHAI")
    sound_mind = ("Người lập di chúc minh mẫn, sáng suốt, không bị lừa dối, đe dọa "
                  "(người chứng thực xác nhận)")
    assert declared[sound_mind] == "Có"
    assert declared["Số trang của di chúc"] == "3"
    assert declared["Lý do chứng thực ngoài trụ sở"] == "Người cao tuổi"
    assert "09:30 ngày 10/03/2026" in declared.values()
    assert _section(content, "IV. LỆ PHÍ")["Lệ phí phải nộp"] == "50.000 đồng"


def test_applicant_reception_codes_and_files(catalogue: Catalogue,
                                             calendar: WorkingCalendar) -> None:
    raw = _example(catalogue, calendar, "1.001776")
    dossier, _version, content = _content(catalogue, calendar, raw)
    applicant = _section(content, "I. NGƯỜI YÊU CẦU")
    assert applicant["Họ, chữ đệm, tên"] == "Nguyễn Văn An"
    assert applicant["Ngày, tháng, năm sinh"] == "12/03/1945"
    assert applicant["Giới tính"] == "Nam"
    assert _section(content, "II. NỘI DUNG KHAI")["Hình thức nhận trợ cấp"] != "tai_nha"
    assert _section(content, "IV. LỆ PHÍ")["Lệ phí phải nộp"] == "Miễn lệ phí"
    reception = _section(content, "V. TIẾP NHẬN HỒ SƠ")
    assert dossier.official_code is not None
    assert content.dossier_code == dossier.official_code == reception["Mã hồ sơ"]
    assert reception["Mã hồ sơ tạm trên thiết bị"] == dossier.provisional_code
    assert reception["Ngày hẹn trả kết quả"] == f"{dossier.appointment_date:%d/%m/%Y}"
    assert reception["Cán bộ tiếp nhận"] == "Trần Văn Đức (mã cán bộ o1)"
    assert content.appointment_date == dossier.appointment_date
    assert content.citizen == forms.Person("Nguyễn Văn An", "001045012345")
    assert content.dossier_json == raw  # embedded byte for byte
    names = [a.name for a in content.attachments]
    assert names == [n for d in dossier.documents for n in d.attachments]
    assert all(a.mime == "image/jpeg" for a in content.attachments)
    assert content.attachments[0].description == dossier.documents[0].name
    # The mapping's output renders: signing accepts it as it is.
    rendered = forms.render_declaration(content)
    assert rendered.pdf.startswith(b"%PDF") and len(rendered.fields) == 2


def test_provisional_code_when_no_official_one(catalogue: Catalogue,
                                               calendar: WorkingCalendar) -> None:
    document = json.loads(_example(catalogue, calendar, "2.000884"))
    document["official_code"] = None
    raw = json.dumps(document, ensure_ascii=False).encode()
    dossier, _version, content = _content(catalogue, calendar, raw)
    assert content.dossier_code == dossier.provisional_code
    assert "Mã hồ sơ tạm trên thiết bị" not in _section(content, "V. TIẾP NHẬN HỒ SƠ")


def test_expected_dossier_is_the_data_and_the_file_digests(
    catalogue: Catalogue, calendar: WorkingCalendar
) -> None:
    raw = _example(catalogue, calendar, "2.000884")
    dossier = ceremony.decode_dossier(raw)
    photos = _photos(dossier)
    expected = ceremony.expected_dossier(dossier, dossier_json=raw, photos=photos)
    assert expected.data == json.loads(raw)
    assert expected.attachment_sha256 == {
        name: hashlib.sha256(data).hexdigest() for name, data in photos.items()
    }


def _mutated(catalogue: Catalogue, calendar: WorkingCalendar, change: str) -> bytes:
    document = json.loads(_example(catalogue, calendar, "2.000884"))
    if change == "unknown_procedure":
        document["procedure_code"] = "9.999999"
    elif change == "bad_count":
        document["form"]["so_ban"] = 0
    elif change == "missing_name":
        del document["applicant"]["full_name"]
    elif change == "bad_sex":
        document["applicant"]["sex"] = "x"
    elif change == "visit":
        document["type"] = "visit"
    elif change == "naive_time":
        document["received_at"] = "2026-03-10T09:30:00"
    return json.dumps(document, ensure_ascii=False).encode()


@pytest.mark.parametrize(("change", "field", "words"), [
    ("unknown_procedure", "procedure_code", "9.999999"),
    ("bad_count", "form.so_ban", "Số bản cần chứng thực"),
    ("missing_name", "applicant.full_name", "thiếu trường «applicant.full_name»"),
    ("bad_sex", "applicant.sex", "applicant.sex"),
    ("visit", "type", "không phải hồ sơ"),
    ("naive_time", "received_at", "received_at"),
])
def test_bad_dossiers_are_refused_naming_the_field(
    catalogue: Catalogue, calendar: WorkingCalendar, change: str, field: str, words: str
) -> None:
    with pytest.raises(DossierRefused) as caught:
        ceremony.checked_dossier(_mutated(catalogue, calendar, change), catalogue,
                                 today=TODAY, calendar=calendar)
    assert caught.value.field == field
    assert words in caught.value.message


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"title": "x"}'])
def test_not_a_dossier_at_all(catalogue: Catalogue, raw: bytes) -> None:
    with pytest.raises(DossierRefused):
        ceremony.checked_dossier(raw, catalogue, today=TODAY, calendar=None)


@pytest.mark.parametrize("name", ["../secret.jpg", "dossier.json", "a/b.jpg", ""])
def test_attachment_names_must_be_plain_file_names(catalogue: Catalogue,
                                                   calendar: WorkingCalendar, name: str) -> None:
    dossier = ceremony.decode_dossier(_example(catalogue, calendar, "2.000884"))
    entry = msgspec.structs.replace(dossier.documents[0], attachments=(name,))
    dossier = msgspec.structs.replace(dossier, documents=(entry, *dossier.documents[1:]))
    with pytest.raises(DossierRefused, match="không hợp lệ"):
        ceremony.photo_names(dossier)


def test_a_missing_file_is_named(catalogue: Catalogue, calendar: WorkingCalendar) -> None:
    raw = _example(catalogue, calendar, "2.000884")
    dossier, version = ceremony.checked_dossier(raw, catalogue, today=TODAY, calendar=calendar)
    photos = _photos(dossier)
    del photos["tp02-trang-1.jpg"]
    with pytest.raises(AttachmentMissing, match=re.escape("tp02-trang-1.jpg")):
        ceremony.declaration_content(dossier, version, dossier_json=raw, photos=photos,
                                     officer=OFFICER)


def test_format_value_prints_unparseable_input_as_given(catalogue: Catalogue) -> None:
    version = catalogue.get("1.000419").latest
    death_day = version.field("ngay_chet")
    assert death_day is not None
    assert ceremony.format_value(death_day, "2026-02-25") == "25/02/2026"
    assert ceremony.format_value(death_day, "25-02-2026") == "25-02-2026"
    assert ceremony.format_value(death_day, None) == ""
