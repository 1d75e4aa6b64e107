"""Demonstration content: a realistic Vietnamese declaration for benchmarks, tests and demos.

Guarantees: deterministic output for the same arguments (photos are pseudo-random bytes from a
seeded generator wrapped as JPEG-looking payloads; they are attachments, never decoded).
"""

from __future__ import annotations

import datetime as dt
import json
import random

from signing.forms import Attachment, DeclarationContent, Person, Section

_ROWS: tuple[tuple[str, str], ...] = (
    ("Họ, chữ đệm và tên", "Nguyễn Thị Hoà"),
    ("Ngày, tháng, năm sinh", "12/03/1941"),
    ("Giới tính", "Nữ"),
    ("Dân tộc", "Kinh"),
    ("Số định danh cá nhân", "001141012345"),
    ("Nơi cư trú", "Số 18, ngõ 95 phố Đội Cấn, phường Ngọc Hà, thành phố Hà Nội"),
    ("Đối tượng", "Người cao tuổi, người có công với cách mạng"),
    ("Số điện thoại liên hệ", "0912 345 678"),
)


def sample_photo(seed: int, size: int = 300_000) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - reproducible filler bytes, not a secret
    body = rng.randbytes(size - 4)
    return b"\xff\xd8" + body + b"\xff\xd9"


def sample_dossier(code: str = "H26.12-260115-0001") -> dict[str, object]:
    return {
        "type": "dossier",
        "schema": 1,
        "code": code,
        "procedure": "2.000986",
        "fields": {label: value for label, value in _ROWS},
    }


def sample_declaration(
    *, pages: int = 1, photos: int = 0, photo_size: int = 300_000,
    code: str = "H26.12-260115-0001", dossier: dict[str, object] | None = None,
) -> DeclarationContent:
    """A declaration whose sections fill about `pages` pages, with `photos` attachments."""
    sections = [Section("I. THÔNG TIN NGƯỜI YÊU CẦU", _ROWS)]
    for number in range(2, 2 + max(0, pages - 1) * 2):
        rows = tuple(
            (f"Nội dung {number}.{i}", f"Trợ cấp hằng tháng đợt {i}: đã nhận đủ, không khiếu nại "
             f"(ghi chú của người khai số {number}{i})")
            for i in range(1, 6)
        )
        sections.append(Section(f"{_roman(number)}. THÔNG TIN BỔ SUNG", rows))
    attachments = tuple(
        Attachment(f"anh-giay-to-{i + 1}.jpg", sample_photo(i, photo_size), "image/jpeg",
                   f"Ảnh chụp giấy tờ số {i + 1}")
        for i in range(photos)
    )
    data = dossier if dossier is not None else sample_dossier(code)
    return DeclarationContent(
        title="TỜ KHAI ĐỀ NGHỊ HƯỞNG TRỢ CẤP XÃ HỘI HẰNG THÁNG",
        procedure_name="Trợ cấp xã hội hằng tháng đối với người cao tuổi",
        dossier_code=code,
        agency="ỦY BAN NHÂN DÂN PHƯỜNG NGỌC HÀ",
        citizen=Person("Nguyễn Thị Hoà", "001141012345"),
        officer=Person("Trần Văn Đức", title="Công chức Văn hoá - Xã hội"),
        sections=tuple(sections),
        received_at=dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
        appointment_date=dt.date(2026, 1, 22),
        dossier_json=json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8"),
        attachments=attachments,
        place="Hà Nội",
        processing_time="05 ngày làm việc",
    )


def _roman(number: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in numerals:
        while number >= value:
            out += letters
            number -= value
    return out
