"""Declarations and receipts render in memory: A4, DejaVu Sans, no text below 12 pt, NFC text,
every attachment embedded with a manifest of digests, signature boxes on the last page."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import unicodedata

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from signing import forms, samples
from signing.errors import RenderError
from signing.verify import embedded_files


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf))


def _font_sizes(reader: PdfFileReader) -> set[float]:
    sizes: set[float] = set()
    for index in range(reader.root["/Pages"]["/Count"]):
        page = reader.root["/Pages"]["/Kids"][index]
        contents = page["/Contents"]
        data = contents.data if hasattr(contents, "data") else b"".join(c.data for c in contents)
        sizes |= {float(m) for m in re.findall(rb"/F\d+ ([\d.]+) Tf", data)}
    return sizes


@pytest.fixture(scope="module")
def declaration() -> forms.DeclarationContent:
    return samples.sample_declaration(pages=3, photos=2, photo_size=10_000)


def test_declaration_is_a4_dejavu_and_large_print(declaration: forms.DeclarationContent) -> None:
    rendered = forms.render_declaration(declaration)
    reader = _reader(rendered.pdf)
    page = reader.root["/Pages"]["/Kids"][0]
    box = reader.root["/Pages"]["/MediaBox"]
    width, height = float(box[2]), float(box[3])
    assert (round(width), round(height)) == (595, 842)
    sizes = _font_sizes(reader)
    assert sizes and min(sizes) >= 12, sizes
    font_dict = page["/Resources"]["/Font"]
    fonts = {str(font_dict[name]["/BaseFont"]) for name in font_dict}
    assert all("DejaVuSans" in name for name in fonts), fonts
    assert reader.root["/Pages"]["/Count"] == 3


def test_attachments_and_manifest_are_embedded(declaration: forms.DeclarationContent) -> None:
    files = embedded_files(_reader(forms.render_declaration(declaration).pdf))
    assert files[forms.DOSSIER_JSON_NAME] == declaration.dossier_json
    manifest = json.loads(files[forms.MANIFEST_NAME])
    assert manifest["dossier_code"] == declaration.dossier_code
    for item in declaration.attachments:
        assert files[item.name] == item.data
        claimed = next(a for a in manifest["attachments"] if a["name"] == item.name)
        assert claimed["sha256"] == hashlib.sha256(item.data).hexdigest()


def test_signature_boxes_on_last_page(declaration: forms.DeclarationContent) -> None:
    rendered = forms.render_declaration(declaration)
    assert [f.name for f in rendered.fields] == [forms.CITIZEN_FIELD, forms.OFFICER_FIELD]
    assert {f.page for f in rendered.fields} == {2}
    left, right = rendered.fields
    assert left.box[2] < right.box[0]  # side by side, not overlapping


def test_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    content = dataclasses.replace(samples.sample_declaration(),
                                  citizen=forms.Person(decomposed))
    pdf = forms.render_declaration(content).pdf
    # Decomposed input would need combining-mark glyphs; NFC text uses precomposed ones only.
    assert forms._nfc(decomposed) == "Nguyễn Thị Hoà"
    assert pdf.startswith(b"%PDF")


def test_receipt_has_code_date_and_qr() -> None:
    content = samples.sample_declaration()
    rendered = forms.render_receipt(content)
    reader = _reader(rendered.pdf)
    page = reader.root["/Pages"]["/Kids"][0]
    xobjects = page["/Resources"]["/XObject"]
    assert any(xobjects[name]["/Subtype"] == "/Image" for name in xobjects)  # the QR code
    assert [f.name for f in rendered.fields] == [forms.OFFICER_FIELD]
    assert reader.root["/Pages"]["/Count"] == 1


@pytest.mark.parametrize("change", [
    {"dossier_code": "  "},
    {"dossier_json": b"{not json"},
    {"attachments": (forms.Attachment("manifest.json", b"x", "application/json"),)},
])
def test_bad_content_is_refused(change: dict[str, object]) -> None:
    content = dataclasses.replace(samples.sample_declaration(), **change)  # type: ignore[arg-type]
    with pytest.raises(RenderError):
        forms.render_declaration(content)
