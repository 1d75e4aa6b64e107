"""The offline signing ceremony: signature fields, citizen signature or drawing, officer lock.

Guarantees:
- Both signature fields exist before the first signature; the officer's field carries a field
  lock of every field and a DocMDP value of "no changes", so the officer's signature, which
  is always the last one, leaves the document locked.
- A citizen with a certificate signs first as an approval signature (PAdES, SHA-256); without
  one, their drawing (PNG) becomes the visible appearance of the citizen's field, and the
  officer's signature, then the first and only one, is a certification signature.
- The officer's signature embeds the CRLs the device holds (PAdES B-B with revocation data in
  the DSS). Nothing here opens a network connection: validation contexts never fetch.
- A signer whose certificate is expired, not yet valid, lacks nonRepudiation or falls outside
  the Circular 15/2025 profile is refused with a CredentialError before anything is signed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from pyhanko.pdf_utils import generic, images, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import CertificateValidator

from signing.errors import CredentialError, SignatureError
from signing.forms import CITIZEN_FIELD, FONT_DIR, OFFICER_FIELD, RenderedDocument
from signing.pki import TrustAnchors, certificate_profile_problems
from signing.verify import validation_context

# A reserve for the CMS computed from the signer's chain and key skips pyHanko's dry-run size
# estimate (which would sign everything twice); a tight one matters because validators parse
# the hex-encoded /Contents one character at a time. Measured: signed attributes and CMS
# structure take ~450 bytes besides certificates and signature value.
_CMS_FIXED_BYTES = 450
_MARGIN_HEX = 256
MD_ALGORITHM = "sha256"

Signer = signers.Signer
# pyHanko's PDF object constructor is untyped; give it a type once.
_dictionary: Callable[[dict[Any, Any]], Any] = generic.DictionaryObject


_VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving in Viet Nam


@functools.lru_cache(maxsize=2)
def _font(bold: bool) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), 22)


def signed_stamp(cert: asn1_x509.Certificate, when: dt.datetime | None = None) -> StaticStampStyle:
    """The visible appearance of a certificate signature: "ĐÃ KÝ SỐ", signer, time.

    Drawn as a small grayscale image with DejaVu Sans: pyHanko's own text stamps need
    HarfBuzz and a font subset per signature (over a second), its built-in font has no
    Vietnamese letters, and a 440×160 image costs about a millisecond.
    """
    names = x509.load_der_x509_certificate(cert.dump()).subject.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME
    )
    signer = unicodedata.normalize("NFC", str(names[0].value)) if names else ""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(_VIETNAM)
    image = Image.new("L", (440, 160), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((1, 1, 438, 158), outline=60, width=3)
    draw.text((16, 20), "ĐÃ KÝ SỐ", font=_font(True), fill=0)
    draw.text((16, 63), signer, font=_font(False), fill=0)
    draw.text((16, 106), f"{moment:%H:%M} ngày {moment:%d/%m/%Y}", font=_font(False), fill=0)
    return StaticStampStyle(background=images.PdfImage(image), border_width=0)


# ---------------------------------------------------------------------------------------------
# Credentials


def check_signer_certificate(cert: asn1_x509.Certificate, now: dt.datetime | None = None) -> None:
    """Refuse a signing certificate that a validator would reject anyway."""
    crypto_cert = x509.load_der_x509_certificate(cert.dump())
    now = now or dt.datetime.now(dt.UTC)
    if now > crypto_cert.not_valid_after_utc:
        expired = crypto_cert.not_valid_after_utc
        raise CredentialError(f"the certificate expired on {expired:%Y-%m-%d}")
    if now < crypto_cert.not_valid_before_utc:
        raise CredentialError("the certificate is not valid yet")
    try:
        usage = crypto_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.content_commitment:
        raise CredentialError("the certificate does not allow non-repudiation signatures")
    problems = certificate_profile_problems(crypto_cert)
    if problems:
        raise CredentialError("; ".join(problems))


def load_pkcs12(data: bytes, password: bytes) -> Signer:
    """A signer from a PKCS#12 file's bytes; RSA keys sign with PSS (Circular 15/2025)."""
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=password)
        signer.prefer_pss = True
        # Validators hold the roots they trust; a root inside the CMS only adds bytes.
        signer.embed_roots = False
    except (ValueError, TypeError) as exc:
        raise CredentialError(f"cannot open the PKCS#12 file: {exc}") from exc
    if signer is None or signer.signing_cert is None:
        raise CredentialError("cannot open the PKCS#12 file (wrong password?)")
    check_signer_certificate(signer.signing_cert)
    return signer  # type: ignore[no-any-return]


@contextmanager
def open_token(
    module: str, token_label: str, pin: str, *, key_label: str, cert_label: str | None = None
) -> Iterator[Signer]:
    """A signer backed by a PKCS#11 token (a citizen's USB token; SoftHSM2 in tests)."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    try:
        session = open_pkcs11_session(
            module, token_criteria=TokenCriteria(label=token_label), user_pin=pin
        )
    except Exception as exc:  # python-pkcs11 raises many unrelated classes
        raise CredentialError(f"cannot open PKCS#11 token {token_label!r}: {exc}") from exc
    try:
        # SoftHSM2 (and many tokens) only offer raw ECDSA: hash in software, sign on the token.
        signer = PKCS11Signer(
            session, cert_label=cert_label or key_label, key_label=key_label,
            use_raw_mechanism=True,
        )
        try:
            cert = signer.signing_cert
        except Exception as exc:
            raise CredentialError(f"no certificate {cert_label or key_label!r} on token") from exc
        check_signer_certificate(cert)
        yield signer
    finally:
        session.close()


# ---------------------------------------------------------------------------------------------
# Steps of the ceremony


def add_signature_fields(rendered: RenderedDocument) -> bytes:
    """Create every signature field laid out by forms.py, before any signature."""
    writer = IncrementalPdfFileWriter(io.BytesIO(rendered.pdf))
    for box in rendered.fields:
        locks_all = box.name == OFFICER_FIELD
        spec = fields.SigFieldSpec(
            box.name,
            on_page=box.page,
            box=box.box,
            field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.ALL) if locks_all else None,
            doc_mdp_update_value=fields.MDPPerm.NO_CHANGES if locks_all else None,
        )
        fields.append_signature_field(writer, spec)
    return _written(writer)


def apply_drawing(pdf: bytes, png: bytes, field_name: str = CITIZEN_FIELD) -> bytes:
    """Make a drawn signature (PNG) the visible appearance of an unsigned field."""
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise SignatureError(f"the drawn signature is not a readable image: {exc}") from exc
    if image.format != "PNG":
        raise SignatureError(f"the drawn signature must be a PNG image, not {image.format}")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    field_ref = _find_field(writer, field_name)
    field = field_ref.get_object()
    if "/V" in field:
        raise SignatureError(f"field {field_name} is already signed")
    x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
    box_w, box_h = x2 - x1, y2 - y1
    scale = min(box_w / image.width, box_h / image.height)
    img_w, img_h = image.width * scale, image.height * scale
    content = images.PdfImage(image, writer=writer, box=layout.BoxConstraints(img_w, img_h))
    # Centre the drawing in the box with a translation in an outer form XObject.
    inner = writer.add_object(content.as_form_xobject())
    dx, dy = (box_w - img_w) / 2, (box_h - img_h) / 2
    stream = f"q 1 0 0 1 {dx:.2f} {dy:.2f} cm /Drawing Do Q".encode()
    resources = _dictionary(
        {generic.pdf_name("/XObject"): _dictionary({generic.pdf_name("/Drawing"): inner})}
    )
    from pyhanko.pdf_utils.writer import init_xobject_dictionary

    appearance = writer.add_object(init_xobject_dictionary(stream, box_w, box_h, resources))
    field[generic.pdf_name("/AP")] = _dictionary({generic.pdf_name("/N"): appearance})
    writer.mark_update(field_ref)
    return _written(writer)


def sign_as_citizen(pdf: bytes, signer: Signer, *, name: str = "") -> bytes:
    """The citizen's approval signature (PAdES B-B) in the citizen's field."""
    meta = signers.PdfSignatureMetadata(
        field_name=CITIZEN_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Người khai ký tờ khai",
        name=name or None,
    )
    stamp = signed_stamp(signer.signing_cert)
    return _sign(pdf, signers.PdfSigner(meta, signer, stamp_style=stamp))


def check_device_chain(signer: Signer, trust: TrustAnchors) -> None:
    """Refuse to sign with a device certificate the device's own CRLs call revoked or untrusted."""
    vc = validation_context(trust, mode="hard-fail")
    validator = CertificateValidator(
        signer.signing_cert, intermediate_certs=list(signer.cert_registry), validation_context=vc
    )
    try:
        asyncio.run(validator.async_validate_usage({"non_repudiation"}))  # type: ignore[no-untyped-call]
    except Exception as exc:
        if type(exc).__module__.startswith("pyhanko_certvalidator"):
            raise CredentialError(f"the device certificate is not usable: {exc}") from exc
        raise


def _stage_revocation_data(
    writer: IncrementalPdfFileWriter, signer: Signer, trust: TrustAnchors
) -> None:
    """Stage the device's chain and CRLs in the DSS, in the officer's own signed update.

    pyHanko's `embed_validation_info` writes the DSS in a further update *after* the signature;
    staging it in the signing update means the officer's signature covers the whole file and
    validators have one revision fewer to analyse.
    """
    chain = [signer.signing_cert, *signer.cert_registry]
    crls = [asn1_crl.CertificateList.load(der) for der in trust.crls]
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=chain, crls=crls)


def sign_as_officer(
    pdf: bytes, signer: Signer, trust: TrustAnchors, *, certify: bool, location: str = ""
) -> bytes:
    """The officer's device signature: last, locking every field, with the device's CRLs."""
    check_signer_certificate(signer.signing_cert)
    check_device_chain(signer, trust)
    meta = signers.PdfSignatureMetadata(
        field_name=OFFICER_FIELD,
        md_algorithm=MD_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Cán bộ tiếp nhận hồ sơ",
        location=location or None,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(meta, signer, stamp_style=signed_stamp(signer.signing_cert))
    return _sign(pdf, pdf_signer, stage=lambda w: _stage_revocation_data(w, signer, trust))


def sign_declaration(
    rendered: RenderedDocument,
    officer: Signer,
    trust: TrustAnchors,
    *,
    citizen: Signer | None = None,
    drawing: bytes | None = None,
    location: str = "",
) -> bytes:
    """The whole offline ceremony on a rendered declaration; returns the signed PDF."""
    if citizen is not None and drawing is not None:
        raise SignatureError("give either the citizen's certificate or their drawing, not both")
    names = {box.name for box in rendered.fields}
    if OFFICER_FIELD not in names:
        raise SignatureError("the document has no officer signature field")
    pdf = add_signature_fields(rendered)
    if citizen is not None:
        pdf = sign_as_citizen(pdf, citizen)
    elif drawing is not None:
        pdf = apply_drawing(pdf, drawing)
    return sign_as_officer(pdf, officer, trust, certify=citizen is None, location=location)


def sign_receipt(rendered: RenderedDocument, officer: Signer, trust: TrustAnchors) -> bytes:
    """The receipt carries only the officer's certification signature."""
    return sign_as_officer(add_signature_fields(rendered), officer, trust, certify=True)


# ---------------------------------------------------------------------------------------------


def _find_field(writer: IncrementalPdfFileWriter, name: str) -> Any:
    for field_name, _value, ref in fields.enumerate_sig_fields(writer, filled_status=None):
        if field_name == name:
            return ref
    raise SignatureError(f"the document has no signature field {name}")


def _sign(
    pdf: bytes,
    pdf_signer: signers.PdfSigner,
    stage: Callable[[IncrementalPdfFileWriter], None] | None = None,
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if stage is not None:
        stage(writer)  # changes written in the same update the signature covers
    try:
        out = pdf_signer.sign_pdf(
            writer, existing_fields_only=True, bytes_reserved=_reserve(pdf_signer.signer)
        )
    except PyHankoSigningError as exc:
        raise SignatureError(f"signing failed: {exc}") from exc
    except Exception as exc:
        # pyHanko reports an unusable chain (e.g. revoked on the device's CRL) this way.
        if type(exc).__module__.startswith(("pyhanko", "pyhanko_certvalidator")):
            raise SignatureError(f"signing refused: {exc}") from exc
        raise
    return bytes(out.getbuffer())


def _reserve(signer: Signer) -> int:
    """Hex digits for the CMS: certificates, signature value and attributes, two per byte."""
    own = signer.signing_cert
    if own is None:
        raise CredentialError("the signer has no certificate")
    certs = [own, *signer.cert_registry]
    if not signer.embed_roots:
        certs = [c for c in certs if c.subject != c.issuer]
    key = x509.load_der_x509_certificate(own.dump()).public_key()
    key_bytes = (getattr(key, "key_size", 521) + 7) // 8
    # An ECDSA signature is a DER pair of integers (~2 × key size + 8); RSA is the key size.
    signature = key_bytes if isinstance(key, rsa.RSAPublicKey) else 2 * key_bytes + 9
    size = sum(len(c.dump()) for c in certs) + signature + _CMS_FIXED_BYTES
    return 2 * size + _MARGIN_HEX


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def reader_for(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf))
