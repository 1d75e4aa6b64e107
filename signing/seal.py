"""The district's seal on a result: a PAdES signature by the district authority, timestamped.

Guarantees:
- `seal_result` answers the same PDF with one more incremental update: a visible signature
  (stamp naming the authority, drawn in DejaVu Sans, which has every Vietnamese letter) made
  with the district's seal certificate (`DistrictPki.seal`, created on first use), carrying
  a signature timestamp from the district TSA (PAdES B-T) and, in the same signed update,
  the chain and the district CRLs in the DSS (so it validates offline, PAdES B-LT). With
  `archival=True` a document timestamp follows (B-LTA).
- An unsigned result is certified (DocMDP: no changes but validation data and timestamps);
  a result that already carries signatures gets an approval signature, leaving theirs valid.
- Input that is not a PDF, is encrypted or has no page is refused with a `SealError` naming
  the problem before anything is signed; a seal certificate that the district's own CRLs call
  revoked or untrusted is refused with a `CredentialError`.
- No network I/O: the TSA is in-process unless the caller passes another pyHanko `TimeStamper`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import unicodedata
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import images
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import CredentialError, SignatureError
from signing.forms import FONT_DIR
from signing.ltv import add_long_term_validation
from signing.pki import DistrictPki, TrustAnchors, seal_authority
from signing.tsa import DistrictTimeStamper, TsaResponder
from signing.verify import validation_context

SEAL_FIELD = "DistrictSeal"
MD_ALGORITHM = "sha256"
# The stamp's place on the last page: bottom right, an inch above the edge, clear of a
# typical footer (points).
STAMP_WIDTH, STAMP_HEIGHT, STAMP_MARGIN = 230.0, 84.0, 72.0
_VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving in Viet Nam
# CMS beyond certificates, signature value and the timestamp token: attributes and structure
# (~450 bytes measured for a device signature); the timestamp token adds its own certificates.
_CMS_OVERHEAD = 1_200
_TOKEN_OVERHEAD = 900


class SealError(SignatureError):
    """The document cannot be sealed as given; `code` says why, for callers that translate."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # not_pdf | unreadable | encrypted | no_page | page_too_small


# ---------------------------------------------------------------------------------------------
# Input


def _reader(pdf: bytes) -> PdfFileReader:
    """Open `pdf` for sealing, or refuse it with the reason."""
    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:1024]):
        raise SealError("not_pdf", "the result is not a PDF file (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except Exception as exc:  # pyHanko raises several classes for a broken file
        raise SealError("unreadable", f"the result PDF cannot be read: {exc}") from exc
    if reader.encrypted:
        raise SealError("encrypted", "the result PDF is encrypted; upload it without a password")
    try:
        pages = int(reader.root["/Pages"]["/Count"])
    except Exception as exc:
        raise SealError("unreadable", f"the result PDF has no readable page tree: {exc}") from exc
    if pages < 1:
        raise SealError("no_page", "the result PDF has no page")
    return reader


def _media_box(page: Any) -> tuple[float, float, float, float]:
    """A page's media box, inherited from its ancestors when the page has none."""
    node, depth = page, 0
    while node is not None and depth < 64:
        if "/MediaBox" in node:
            x0, y0, x1, y1 = (float(v) for v in node["/MediaBox"])
            return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
        parent = node.get("/Parent")
        node, depth = (parent.get_object() if parent is not None else None), depth + 1
    raise SealError("unreadable", "the result's last page has no media box")


def _stamp_box(reader: PdfFileReader) -> tuple[int, tuple[int, int, int, int]]:
    """The last page and a box at its bottom right, inside its media box."""
    page_ix = int(reader.root["/Pages"]["/Count"]) - 1
    page_ref, _ = reader.find_page_for_modification(page_ix)  # type: ignore[no-untyped-call]
    x0, y0, x1, _y1 = _media_box(page_ref.get_object())
    width = min(STAMP_WIDTH, (x1 - x0) - 2 * STAMP_MARGIN)
    if width < 60:
        raise SealError("page_too_small",
                        "the result's last page is too small for the seal's stamp")
    height = width * STAMP_HEIGHT / STAMP_WIDTH
    right = x1 - STAMP_MARGIN
    bottom = y0 + STAMP_MARGIN
    return page_ix, (int(right - width), int(bottom), int(right), int(bottom + height))


# ---------------------------------------------------------------------------------------------
# Appearance


@functools.lru_cache(maxsize=4)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _fitted(draw: ImageDraw.ImageDraw, text: str, bold: bool, size: int, width: int
            ) -> ImageFont.FreeTypeFont:
    """The largest font not above `size` in which `text` fits `width` pixels."""
    while size > 10 and draw.textlength(text, font=_font(bold, size)) > width:
        size -= 1
    return _font(bold, size)


def seal_stamp(authority: str, when: dt.datetime) -> StaticStampStyle:
    """The visible seal: a red frame, the authority's name, "ĐÃ ĐÓNG DẤU ĐIỆN TỬ" and the time.

    Drawn as an image with DejaVu Sans, as the officer's stamp is (signing.pades): pyHanko's
    text stamps would need HarfBuzz, and its built-in font has no Vietnamese letters.
    """
    authority = unicodedata.normalize("NFC", authority)
    moment = when.astimezone(_VIETNAM)
    width, height = 690, 252
    red = (200, 16, 30)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((3, 3, width - 4, height - 4), radius=18, outline=red, width=6)
    lines = [
        (authority.upper(), True, 34, 24),
        ("ĐÃ ĐÓNG DẤU ĐIỆN TỬ", True, 30, 98),
        (f"{moment:%H:%M} ngày {moment:%d/%m/%Y}", False, 28, 168),
    ]
    for text, bold, size, top in lines:
        font = _fitted(draw, text, bold, size, width - 48)
        left = (width - draw.textlength(text, font=font)) / 2
        draw.text((left, top), text, font=font, fill=red)
    return StaticStampStyle(background=images.PdfImage(image), border_width=0)


# ---------------------------------------------------------------------------------------------
# The signer


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def seal_signer(pki: DistrictPki, passphrase: bytes) -> signers.SimpleSigner:
    """A pyHanko signer for the district's seal, with the issuing CA in its chain."""
    cert, key = pki.seal(passphrase)
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=_asn1_cert(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [_asn1_cert(pki.issuing_cert)]),
        embed_roots=False,  # validators hold the roots they trust
    )


def _check_seal_chain(signer: signers.SimpleSigner, trust: TrustAnchors) -> None:
    """Refuse to seal with a certificate the district's own CRLs call revoked or untrusted."""
    validator = CertificateValidator(
        signer.signing_cert, intermediate_certs=list(signer.cert_registry),
        validation_context=validation_context(trust, mode="hard-fail"),
    )
    try:
        asyncio.run(validator.async_validate_usage({"non_repudiation"}))  # type: ignore[no-untyped-call]
    except Exception as exc:
        if type(exc).__module__.startswith("pyhanko_certvalidator"):
            raise CredentialError(f"the district seal certificate is not usable: {exc}") from exc
        raise


def _reserve(signer: signers.SimpleSigner, tsa_certs: int) -> int:
    """Hex digits for the CMS with its timestamp token; generous, never a second dry run."""
    certs = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(c.dump()) for c in certs) + 2 * 72 + _CMS_OVERHEAD
    size += tsa_certs + _TOKEN_OVERHEAD
    return 2 * size


# ---------------------------------------------------------------------------------------------


def seal_result(
    pdf: bytes,
    pki: DistrictPki,
    passphrase: bytes,
    *,
    timestamper: TimeStamper | None = None,
    reason: str = "Đóng dấu kết quả giải quyết thủ tục hành chính",
    archival: bool = False,
    now: dt.datetime | None = None,
) -> bytes:
    """Seal a result PDF with the district's certificate: PAdES B-LT (B-LTA if `archival`)."""
    reader = _reader(bytes(pdf))
    already_signed = bool(reader.embedded_signatures)
    page_ix, box = _stamp_box(reader)
    signer = seal_signer(pki, passphrase)
    trust = pki.trust()
    _check_seal_chain(signer, trust)
    tsa_chain = (pki.tsa_cert, pki.issuing_cert)
    stamper = timestamper or DistrictTimeStamper(
        TsaResponder(pki.tsa_cert, pki.tsa_key(passphrase), chain=(pki.issuing_cert,)))
    authority = seal_authority(pki.state.name)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=pki.state.name,
        name=authority,
        certify=not already_signed,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=stamper,
        stamp_style=seal_stamp(authority, now or dt.datetime.now(dt.UTC)),
        new_field_spec=fields.SigFieldSpec(SEAL_FIELD, on_page=page_ix, box=box),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(bytes(pdf)), strict=False)
    # Chain and CRLs staged in the signed update itself: the seal covers the whole file.
    chain = [signer.signing_cert, *signer.cert_registry, *map(_asn1_cert, tsa_chain)]
    crls = [asn1_crl.CertificateList.load(der) for der in trust.crls]
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=chain, crls=crls)
    tsa_bytes = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in tsa_chain)
    try:
        out = pdf_signer.sign_pdf(writer, bytes_reserved=_reserve(signer, tsa_bytes))
    except PyHankoSigningError as exc:
        raise SignatureError(f"sealing failed: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("pyhanko", "pyhanko_certvalidator")):
            raise SignatureError(f"sealing refused: {exc}") from exc
        raise
    sealed = bytes(out.getbuffer())
    if archival:
        sealed = add_long_term_validation(sealed, trust, stamper)
    return sealed
