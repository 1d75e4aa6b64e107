"""Long-term validity at intake: revocation data (PAdES B-LT), then document timestamps (B-LTA).

Guarantees:
- `add_long_term_validation` adds, in incremental updates that the field lock permits, the
  chains and the current district CRLs for every signature to the DSS, then a document
  timestamp from the district TSA; earlier signatures stay valid.
- `renew_archive_timestamp` adds fresh revocation data for the last timestamp and a new
  document timestamp over everything, extending the archive chain before algorithms or the
  TSA certificate weaken or expire.
- No network I/O: revocation data comes from the caller's `TrustAnchors`, tokens from the
  given pyHanko `TimeStamper` (the in-process district TSA unless the caller plugs in HTTP).
"""

from __future__ import annotations

import io

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.errors import SignatureError, TimestampError
from signing.pki import TrustAnchors
from signing.verify import validation_context

TIMESTAMP_BYTES_RESERVED = 8_192


def _supply_dss(pdf: bytes, trust: TrustAnchors, extra_certs: list[asn1_x509.Certificate]) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    certs = [*extra_certs, *(asn1_x509.Certificate.load(d) for d in trust.intermediates)]
    certs += [asn1_x509.Certificate.load(d) for d in trust.roots]
    crls = [asn1_crl.CertificateList.load(d) for d in trust.crls]
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certs, crls=crls)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _timestamp(pdf: bytes, trust: TrustAnchors, timestamper: TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        out = signers.PdfTimeStamper(timestamper).timestamp_pdf(
            writer,
            "sha256",
            validation_context=validation_context(trust, mode="hard-fail"),
            bytes_reserved=TIMESTAMP_BYTES_RESERVED,
        )
    except Exception as exc:
        if type(exc).__module__.startswith(("pyhanko", "pyhanko_certvalidator", "signing")):
            raise TimestampError(f"document timestamp failed: {exc}") from exc
        raise
    return bytes(out.getbuffer())


def add_long_term_validation(pdf: bytes, trust: TrustAnchors, timestamper: TimeStamper) -> bytes:
    """B-B → B-LT (chains and CRLs in the DSS) → B-LTA (a document timestamp)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signer_certs = [sig.signer_cert for sig in reader.embedded_signatures]
    except Exception as exc:
        raise SignatureError(f"cannot read the signatures: {exc}") from exc
    if not signer_certs:
        raise SignatureError("the document has no signature to protect")
    return _timestamp(_supply_dss(pdf, trust, signer_certs), trust, timestamper)


def renew_archive_timestamp(pdf: bytes, trust: TrustAnchors, timestamper: TimeStamper) -> bytes:
    """Fresh revocation data for the previous timestamp, then a new document timestamp."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    if not stamps:
        raise SignatureError("no document timestamp to renew; add long-term validation first")
    return _timestamp(_supply_dss(pdf, trust, [stamps[-1].signer_cert]), trust, timestamper)
