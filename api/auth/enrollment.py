"""Device enrollment: a logged-in officer's device sends a CSR and gets its certificate
from the district CA (`signing.pki`), recorded on the device's record.

The CA's passphrase comes from `DOORSTEP_PKI_PASSPHRASE` (or the demo's); without it, or
without a PKI in `<data>/pki`, enrollment answers 503 naming what is missing.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from api.auth.service import AuthService, Identity
from api.errors import ApiError, NotAllowed


class EnrollmentUnavailable(ApiError):
    status = 503
    code = "enrollment_unavailable"


def enroll(auth: AuthService, pki_dir: Path, passphrase: bytes | None, who: Identity,
           csr_pem: str) -> tuple[str, str]:
    """Issue the device certificate for `csr_pem`; answer (serial, certificate PEM)."""
    from signing.pki import DistrictPki

    if who.role != "officer":
        raise NotAllowed("Chỉ thiết bị của cán bộ tiếp nhận mới được cấp chứng thư.")
    if passphrase is None or not (pki_dir / "state.json").exists():
        raise EnrollmentUnavailable("Máy chủ chưa được cấu hình hạ tầng khoá công khai "
                                    "(thiếu thư mục pki hoặc DOORSTEP_PKI_PASSPHRASE).")
    found = auth.device(who.device_id)
    if found is None or found[0].revoked:
        raise NotAllowed("Thiết bị chưa đăng ký hoặc đã bị thu hồi.")
    user = auth.user(who.username)
    full_name = user[0].full_name if user else who.username
    pki = DistrictPki.open(pki_dir)
    issued = pki.issue_device(passphrase, officer_id=who.username, officer_name=full_name,
                              device_id=who.device_id, csr_pem=csr_pem.encode("ascii"))
    pem = issued.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    device, rev = found
    device.certificate_serial, device.certificate_pem = issued.serial_hex, pem
    auth.save_device(device, rev)
    return issued.serial_hex, pem
