"""Shared helpers for the signing integration tests: documents, forgeries, external tools."""

from __future__ import annotations

import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from signing import forms, pades, pki, samples


def drawing_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 100), (100, 20), (200, 120), (390, 30)],
                               fill=(0, 0, 120, 255), width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def content(photos: int = 2) -> forms.DeclarationContent:
    return samples.sample_declaration(pages=1, photos=photos, photo_size=20_000)


def forge_citizen_signature(pdf: bytes, signer: pades.Signer) -> bytes:
    """Sign the citizen field with raw pyHanko, skipping our signer-side checks (an attacker's
    or another vendor's tool), so the verifier's own checks are what is tested."""
    meta = signers.PdfSignatureMetadata(
        field_name=forms.CITIZEN_FIELD, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = signers.PdfSigner(meta, signer).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), existing_fields_only=True
    )
    return bytes(out.getbuffer())


def pdfsig_verdicts(path: Path) -> list[str]:
    """The 'Signature Validation' line of every signed field (pdfsig exits 0 either way)."""
    result = subprocess.run(["pdfsig", "-nocert", "-no-ocsp", str(path)], capture_output=True,
                            text=True, check=False)
    return [
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith("- Signature Validation:")
    ]


def pdfsig_coverage(path: Path) -> list[bool]:
    """For each signed field, whether pdfsig says the signature covers the whole file."""
    result = subprocess.run(["pdfsig", "-nocert", "-no-ocsp", str(path)], capture_output=True,
                            text=True, check=False)
    lines = [line.strip() for line in result.stdout.splitlines()]
    return [line == "- Total document signed" for line in lines
            if line in {"- Total document signed", "- Not total document signed"}]


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True,
                          check=False)


# ---- the test PKI (built by conftest.test_pki) ----

PASSPHRASE = b"correct horse battery staple"
P12_PASSWORD = b"p12-password"

DESCRIPTION = {
    "district": "Quận Ba Đình",
    "national": "CA quốc gia thử nghiệm",
    "rogue": "CA lạ",
    "devices": {  # name -> (officer id, officer name, device id)
        "officer": ("o12", "Trần Văn Đức", "dev-01"),
        "revoked_officer": ("o13", "Lê Thị Mai", "dev-02"),
        "late_revoked_officer": ("o14", "Phạm Quốc Việt", "dev-03"),
    },
    "citizens": {  # name -> (id, name, valid_from offset days, validity days, nonRepudiation)
        "citizen": ("001141012345", "Nguyễn Thị Hoà", 0, 730, True),
        "expired_citizen": ("001141099999", "Đỗ Văn Hùng", -400, 30, True),
        "no_nonrep_citizen": ("001141088888", "Vũ Thị Lan", 0, 730, False),
    },
}


@dataclass
class PkiFixture:
    root: Path
    district: pki.DistrictPki
    national: pki.DistrictPki
    rogue: pki.DistrictPki
    p12: dict[str, bytes]
    issued: dict[str, pki.DeviceCertificate]
    trust_before_revocation: pki.TrustAnchors

    def signer(self, name: str) -> pades.Signer:
        return pades.load_pkcs12(self.p12[name], P12_PASSWORD)

    def district_trust(self) -> pki.TrustAnchors:
        return pki.DistrictPki.open(self.district.layout.directory).trust()

    def device_trust(self) -> pki.TrustAnchors:
        """What a device holds: the published reference document."""
        doc = json.loads(self.district.layout.reference.read_bytes())
        return pki.TrustAnchors.from_reference(doc)


def _bundle(owner: pki.DistrictPki, issued: pki.DeviceCertificate) -> bytes:
    assert issued.key is not None
    chain = [owner.issuing_cert, owner.root_cert]
    return pki.pkcs12_bundle(issued.certificate, issued.key, chain, P12_PASSWORD)


def _usage(nonrep: bool) -> x509.KeyUsage:
    return x509.KeyUsage(True, nonrep, False, False, False, False, False, False, False)


