"""The device's signing credential: a key made on the device, certified by the district CA.

Guarantees:
- The private key is generated on the device (ECDSA P-256, Circular 15/2025) and never
  leaves it: the server sees only a CSR (`/api/auth/enroll`, after the officer logs in).
- The key, its certificate and the district chain are kept in one PKCS#12 file protected by
  the officer's PIN (AES-256), written with owner-only permissions.
- The chain and CRLs come from the district reference document the device syncs
  (`reference:district-pki`), so the device can sign and check its own certificate offline.
"""

from __future__ import annotations

import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from field.device import Device
from field.errors import DeviceError
from field.session import ServerSession
from signing import pades
from signing.errors import SigningError
from signing.pki import REFERENCE_DOC_ID, TrustAnchors, pkcs12_bundle


def make_csr(key: ec.EllipticCurvePrivateKey, device_id: str, officer: str) -> str:
    """A PKCS#10 request for `key`; the CA writes the subject itself from the login."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, officer),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, device_id)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def device_trust(device: Device) -> TrustAnchors:
    """The district roots and CRLs as last synced (pull once before enrolling or signing)."""
    doc = device.get(REFERENCE_DOC_ID)
    if doc is None:
        raise DeviceError("thiết bị chưa có tài liệu hạ tầng khoá công khai của quận "
                          f"(«{REFERENCE_DOC_ID}»): hãy đồng bộ trước.")
    try:
        return TrustAnchors.from_reference(dict(doc))
    except SigningError as exc:
        raise DeviceError(f"tài liệu hạ tầng khoá công khai bị hỏng: {exc}") from exc


def enroll(device: Device, session: ServerSession, pin: str) -> str:
    """Make the device key, have it certified, keep it under the PIN; answer the serial."""
    if not pin:
        raise DeviceError("cần mã PIN để bảo vệ khoá ký của thiết bị.")
    trust = device_trust(device)
    key = ec.generate_private_key(ec.SECP256R1())
    issued = session.enroll(make_csr(key, device.state.device_id, session.username))
    cert = x509.load_pem_x509_certificate(issued.certificate_pem.encode("ascii"))
    chain = [x509.load_der_x509_certificate(der)
             for der in (*trust.intermediates, *trust.roots)]
    bundle = pkcs12_bundle(cert, key, chain, pin.encode("utf-8"),
                           friendly_name=device.state.device_id)
    path = device.credential_path
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(bundle)
    os.replace(temporary, path)
    with device.updating() as state:
        state.certificate_serial = issued.serial
    return issued.serial


def device_signer(device: Device, pin: str) -> pades.Signer:
    """The device's signer, opened with the officer's PIN."""
    try:
        bundle = device.credential_path.read_bytes()
    except FileNotFoundError as exc:
        raise DeviceError("thiết bị chưa được cấp chứng thư số: hãy đăng ký thiết bị "
                          "(doorstep field enroll).") from exc
    try:
        return pades.load_pkcs12(bundle, pin.encode("utf-8"))
    except SigningError as exc:
        raise DeviceError(f"không mở được khoá ký của thiết bị: {exc}") from exc

