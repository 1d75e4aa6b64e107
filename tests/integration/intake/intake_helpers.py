"""A district PKI, an officer's device and signed dossiers stored in the central database."""

from __future__ import annotations

import base64
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from dossiers.catalogue import load_catalogue
from signing import forms, pades, pki, samples

PASSPHRASE = b"intake test passphrase"
P12_PASSWORD = b"device password"
AGENCY = "000.00.01.H22"
PROCEDURE = "1.000419"


def drawing() -> bytes:
    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 110), (90, 25), (210, 125), (390, 35)],
                               fill=(0, 0, 120, 255), width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@dataclass
class District:
    directory: Path
    district: pki.DistrictPki
    device: pki.DeviceCertificate

    def signer(self) -> pades.Signer:
        assert self.device.key is not None
        chain = [self.district.issuing_cert, self.district.root_cert]
        bundle = pki.pkcs12_bundle(self.device.certificate, self.device.key, chain, P12_PASSWORD)
        return pades.load_pkcs12(bundle, P12_PASSWORD)


def make_district(directory: Path) -> District:
    district = pki.init_pki(directory, "Quận Ba Đình", PASSPHRASE)
    device = district.issue_device(PASSPHRASE, officer_id="o1", officer_name="Trần Văn Đức",
                                   device_id="DEV01")
    return District(directory, district, device)


def dossier_data(n: int, received_at: dt.datetime | None = None) -> dict[str, Any]:
    version = load_catalogue().get(PROCEDURE).versions[0].version
    at = received_at or dt.datetime.now(dt.UTC)
    return {"type": "dossier", "schema": 1, "access": ["officer:o1", "ward:00004"],
            "provisional_code": f"TT-DEV01-{n:06d}", "agency_code": AGENCY,
            "procedure_code": PROCEDURE, "procedure_version": version,
            "received_at": at.isoformat(), "form": {}, "officer_id": "o1"}


def signed_pdf(district: District, data: dict[str, Any], signer: pades.Signer) -> bytes:
    content = samples.sample_declaration(dossier=data, code=str(data["provisional_code"]))
    trust = district.district.trust()
    return pades.sign_declaration(forms.render_declaration(content), signer, trust,
                                  drawing=drawing())


def store_dossier(central: Any, dossier_id: str, data: dict[str, Any], pdf: bytes) -> None:
    doc = {"_id": dossier_id, **data, "_attachments": {"declaration.pdf": {
        "content_type": "application/pdf", "data": base64.b64encode(pdf).decode()}}}
    central.put(doc)


# --- many signed dossiers, cheaply: each process renders and signs its share -----------------

_POOL_SIGNER: tuple[pki.TrustAnchors, pades.Signer] | None = None


def _pool_start(directory: str, bundle: bytes) -> None:
    global _POOL_SIGNER
    trust = pki.DistrictPki.open(Path(directory)).trust()
    _POOL_SIGNER = (trust, pades.load_pkcs12(bundle, P12_PASSWORD))


def _pool_sign(data: dict[str, Any]) -> bytes:
    assert _POOL_SIGNER is not None
    trust, signer = _POOL_SIGNER
    content = samples.sample_declaration(dossier=data, code=str(data["provisional_code"]))
    return pades.sign_declaration(forms.render_declaration(content), signer, trust,
                                  drawing=drawing())


def sign_many(district: District, datas: list[dict[str, Any]],
              processes: int | None = None) -> list[bytes]:
    """Real declarations, each rendered and signed by the device, in a process pool (rendering
    dominates: about half a second each), in the order of `datas`."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    assert district.device.key is not None
    chain = [district.district.issuing_cert, district.district.root_cert]
    bundle = pki.pkcs12_bundle(district.device.certificate, district.device.key, chain,
                               P12_PASSWORD)
    workers = processes or os.cpu_count() or 1
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_pool_start,
                             initargs=(str(district.directory), bundle)) as pool:
        return list(pool.map(_pool_sign, datas, chunksize=8))
