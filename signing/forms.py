"""Declarations (tờ khai) and receipts (giấy tiếp nhận hồ sơ và hẹn trả kết quả) as PDF.

Guarantees:
- Input is a small typed `DeclarationContent`; this module knows nothing of dossiers' storage.
- All text is NFC-normalised and set in DejaVu Sans (which covers every precomposed Vietnamese
  letter), A4, body at 13 pt and nothing below 12 pt, for readers with weak eyesight.
- The dossier's JSON, a manifest of SHA-256 digests and every attachment are embedded as PDF
  file attachments at render time, so any later signature covers them.
- The signature boxes are laid out here and returned as `FieldBox`es; `signing.pades` turns them
  into signature fields before the first signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import qrcode
from fpdf import FPDF

from signing.errors import RenderError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
BODY_PT = 13
SMALL_PT = 12  # the smallest size used anywhere
MANIFEST_NAME = "manifest.json"
DOSSIER_JSON_NAME = "dossier.json"
MANIFEST_SCHEMA = 1
CITIZEN_FIELD = "CitizenSignature"
OFFICER_FIELD = "OfficerSignature"

_MARGIN = 56.0  # points (~2 cm)
_SIG_W, _SIG_H = 220.0, 80.0


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str = ""
    title: str = ""  # e.g. "Công chức Tư pháp - Hộ tịch"


@dataclass(frozen=True)
class Section:
    heading: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Attachment:
    name: str  # a file name, e.g. "cccd-mat-truoc.jpg"
    data: bytes
    mime: str
    description: str = ""


@dataclass(frozen=True)
class DeclarationContent:
    """What a declaration and its receipt show; the device maps a dossier onto this."""

    title: str
    procedure_name: str
    dossier_code: str
    agency: str
    citizen: Person
    officer: Person
    sections: tuple[Section, ...]
    received_at: dt.datetime
    appointment_date: dt.date
    dossier_json: bytes  # the dossier's data exactly as synced; embedded verbatim
    attachments: tuple[Attachment, ...] = ()
    place: str = ""
    processing_time: str = ""  # e.g. "03 ngày làm việc"


@dataclass(frozen=True)
class FieldBox:
    """A signature field to create: page index and box in PDF points (origin bottom-left)."""

    name: str
    page: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    fields: tuple[FieldBox, ...] = field(default=())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_for(content: DeclarationContent) -> dict[str, Any]:
    """What the document claims about its embedded files: names, types, SHA-256 digests."""
    return {
        "schema": MANIFEST_SCHEMA,
        "dossier_code": content.dossier_code,
        "dossier_json_sha256": sha256_hex(content.dossier_json),
        "attachments": [
            {"name": a.name, "mime": a.mime, "size": len(a.data), "sha256": sha256_hex(a.data)}
            for a in content.attachments
        ],
    }


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _check(content: DeclarationContent) -> None:
    if not content.dossier_code.strip():
        raise RenderError("the dossier code is empty")
    if not content.citizen.name.strip() or not content.officer.name.strip():
        raise RenderError("the citizen's and the officer's names are required")
    try:
        json.loads(content.dossier_json)
    except ValueError as exc:
        raise RenderError(f"the dossier JSON is not valid JSON: {exc}") from exc
    names = [a.name for a in content.attachments]
    reserved = {MANIFEST_NAME, DOSSIER_JSON_NAME}
    if len(set(names)) != len(names) or reserved & set(names):
        raise RenderError("attachment names must be unique and not manifest.json/dossier.json")


class _Page(FPDF):
    """A4 in points with DejaVu Sans (regular and bold only: each font costs parsing and
    subsetting time on a phone-class CPU) and a page footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="pt", format="A4")
        self._footer_text = footer_text
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_MARGIN)
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_creator("Doorstep")

    def footer(self) -> None:
        self.set_y(-_MARGIN + 14)
        self.set_font("DejaVu", "", SMALL_PT)
        self.cell(0, 14, _nfc(f"{self._footer_text} — Trang {self.page_no()}/{{nb}}"), align="C")

    def text_line(self, text: str, size: int = BODY_PT, style: str = "", align: str = "L") -> None:
        self.set_font("DejaVu", style, size)
        self.multi_cell(0, size * 1.45, _nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")

    def national_header(self, agency: str) -> None:
        self.text_line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", BODY_PT, "B", "C")
        self.text_line("Độc lập - Tự do - Hạnh phúc", BODY_PT, "B", "C")
        self.ln(4)
        self.text_line(agency, BODY_PT, "", "C")
        self.ln(10)

    def rows(self, rows: tuple[tuple[str, str], ...]) -> None:
        label_w = (self.epw) * 0.38
        for label, value in rows:
            self.set_font("DejaVu", "", BODY_PT)
            line_h = BODY_PT * 1.45
            lines = max(
                self._line_count(label_w, line_h, label + ":"),
                self._line_count(self.epw - label_w, line_h, value or "—"),
            )
            if self.will_page_break(lines * line_h):
                self.add_page()
            y = self.get_y()
            self.multi_cell(label_w, line_h, _nfc(label + ":"), align="L", new_x="RIGHT",
                            new_y="TOP")
            self.set_font("DejaVu", "B", BODY_PT)
            self.multi_cell(self.epw - label_w, line_h, _nfc(value or "—"), align="L",
                            new_x="LMARGIN", new_y="NEXT")
            self.set_y(max(self.get_y(), y + lines * line_h) + 3)

    def _line_count(self, width: float, line_h: float, text: str) -> int:
        lines = self.multi_cell(width, line_h, _nfc(text), dry_run=True, output="LINES")
        return len(cast(list[str], lines))

    def signature_block(
        self, left: tuple[str, str, str] | None, right: tuple[str, str, str]
    ) -> list[FieldBox]:
        """Two columns: caption, signature box, printed name. Returns the boxes as fields."""
        block_h = _SIG_H + 3 * BODY_PT * 1.45 + 16
        if self.will_page_break(block_h):
            self.add_page()
        self.ln(8)
        top = self.get_y()
        col_w = self.epw / 2
        boxes: list[FieldBox] = []
        for index, column in enumerate((left, right)):
            if column is None:
                continue
            field_name, caption, name = column
            x = self.l_margin + index * col_w
            self.set_xy(x, top)
            self.set_font("DejaVu", "B", BODY_PT)
            self.cell(col_w, BODY_PT * 1.45, _nfc(caption), align="C", new_x="LEFT", new_y="NEXT")
            self.set_font("DejaVu", "", SMALL_PT)
            self.cell(col_w, SMALL_PT * 1.45, "(Ký, ghi rõ họ tên)", align="C", new_x="LEFT",
                      new_y="NEXT")
            box_x = x + (col_w - _SIG_W) / 2
            box_top = self.get_y() + 2
            self.set_draw_color(170, 170, 170)
            self.rect(box_x, box_top, _SIG_W, _SIG_H)
            self.set_xy(x, box_top + _SIG_H + 4)
            self.set_font("DejaVu", "B", BODY_PT)
            self.cell(col_w, BODY_PT * 1.45, _nfc(name), align="C")
            # pyHanko boxes are in PDF user space: origin bottom-left.
            page_h = self.h
            box = (int(box_x), int(page_h - box_top - _SIG_H), int(box_x + _SIG_W),
                   int(page_h - box_top))
            boxes.append(FieldBox(field_name, self.page - 1, box))
        self.set_y(top + block_h)
        return boxes

    def embed(self, content: DeclarationContent) -> None:
        manifest = json.dumps(manifest_for(content), ensure_ascii=False, indent=1).encode()
        when = content.received_at
        self.embed_file(bytes=content.dossier_json, basename=DOSSIER_JSON_NAME,
                        mime_type="application/json", desc="Dữ liệu hồ sơ",
                        modification_date=when, compress=True)
        self.embed_file(bytes=manifest, basename=MANIFEST_NAME, mime_type="application/json",
                        desc="Danh mục tệp đính kèm và mã băm SHA-256",
                        modification_date=when, compress=True)
        for item in content.attachments:
            # JPEG and PNG are already compressed: deflating them again only costs time.
            squeeze = not item.mime.startswith("image/")
            self.embed_file(bytes=item.data, basename=item.name, mime_type=item.mime,
                            desc=_nfc(item.description or item.name), modification_date=when,
                            compress=squeeze)

    def finish(self) -> bytes:
        return bytes(self.output())


def _date_words(day: dt.date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def render_declaration(content: DeclarationContent) -> RenderedDocument:
    """The declaration with all attachments embedded and both signature boxes laid out."""
    _check(content)
    pdf = _Page(f"Tờ khai — hồ sơ {content.dossier_code}")
    pdf.set_title(_nfc(content.title))
    pdf.set_subject(_nfc(content.procedure_name))
    pdf.add_page()
    pdf.national_header(content.agency)
    pdf.text_line(content.title, 17, "B", "C")
    pdf.text_line(f"Thủ tục: {content.procedure_name}", BODY_PT, "", "C")
    pdf.text_line(f"Mã hồ sơ: {content.dossier_code}", BODY_PT, "B", "C")
    pdf.ln(8)
    for section in content.sections:
        if pdf.will_page_break(BODY_PT * 5):
            pdf.add_page()
        pdf.text_line(section.heading, 14, "B")
        pdf.rows(section.rows)
        pdf.ln(6)
    if content.attachments:
        pdf.text_line("Giấy tờ kèm theo (đính kèm trong tệp PDF):", 14, "B")
        for item in content.attachments:
            pdf.text_line(f"• {item.description or item.name} ({item.name})")
    pdf.ln(6)
    pdf.text_line(
        "Tôi xin cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm "
        "trước pháp luật về lời khai của mình."
    )
    place = f"{content.place}, " if content.place else ""
    pdf.text_line(f"{place}{_date_words(content.received_at.date())}", BODY_PT, "", "R")
    fields = pdf.signature_block(
        (CITIZEN_FIELD, "NGƯỜI KHAI", content.citizen.name),
        (OFFICER_FIELD, "CÁN BỘ TIẾP NHẬN", content.officer.name),
    )
    pdf.embed(content)
    return RenderedDocument(pdf.finish(), tuple(fields))


def _qr_png(text: str) -> bytes:
    image = qrcode.make(text, border=2, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return buf.getvalue()


def render_receipt(content: DeclarationContent) -> RenderedDocument:
    """The receipt with the dossier code, the appointment date and a QR code of the code."""
    _check(content)
    pdf = _Page(f"Giấy tiếp nhận — hồ sơ {content.dossier_code}")
    pdf.set_title("Giấy tiếp nhận hồ sơ và hẹn trả kết quả")
    pdf.add_page()
    pdf.national_header(content.agency)
    pdf.text_line("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", 17, "B", "C")
    pdf.text_line(f"Mã hồ sơ: {content.dossier_code}", 15, "B", "C")
    qr_size = 85.0
    pdf.image(io.BytesIO(_qr_png(content.dossier_code)), x=(pdf.w - qr_size) / 2, w=qr_size,
              h=qr_size)
    pdf.ln(6)
    received = content.received_at
    rows: list[tuple[str, str]] = [
        ("Tiếp nhận hồ sơ của", content.citizen.name),
        ("Số định danh cá nhân", content.citizen.id_number),
        ("Nội dung yêu cầu giải quyết", content.procedure_name),
        ("Thời gian nhận hồ sơ",
         f"{received:%H} giờ {received:%M} phút, {_date_words(received.date())}"),
    ]
    if content.processing_time:
        rows.append(("Thời gian giải quyết theo quy định", content.processing_time))
    rows.append(("Thời gian trả kết quả", _date_words(content.appointment_date)))
    rows.append(("Cán bộ tiếp nhận", content.officer.name))
    pdf.rows(tuple(rows))
    if content.attachments:
        pdf.text_line("Thành phần hồ sơ đã nhận:", 14, "B")
        for number, item in enumerate(content.attachments, start=1):
            pdf.text_line(f"{number}. {item.description or item.name}")
    pdf.ln(4)
    pdf.text_line("Vui lòng mang theo giấy này khi nhận kết quả hoặc đọc mã hồ sơ cho cán bộ.",
                  BODY_PT, "")
    fields = pdf.signature_block(None, (OFFICER_FIELD, "NGƯỜI TIẾP NHẬN HỒ SƠ",
                                        content.officer.name))
    return RenderedDocument(pdf.finish(), tuple(fields))
