"""Device enrollment over the API: CSR in, a certificate from the district CA out."""

from __future__ import annotations

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from gateway_helpers import RunningServer


def _csr() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device")]))
           .sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def test_officer_device_enrolls_with_a_csr(demo_server: RunningServer) -> None:
    key, csr = _csr()
    headers = {"Authorization": f"Bearer {demo_server.token('officer2', 'tablet-7')}"}
    answer = httpx.post(f"{demo_server.url}/api/auth/enroll", json={"csr_pem": csr},
                        headers=headers)
    assert answer.status_code == 201, answer.text
    cert = x509.load_pem_x509_certificate(answer.json()["certificate_pem"].encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert "tablet-7" in cert.subject.rfc4514_string()
    devices = httpx.get(f"{demo_server.url}/api/admin/devices", headers={
        "Authorization": f"Bearer {demo_server.token('admin', 'admin-pc')}"}).json()
    mine = next(d for d in devices if d["device_id"] == "tablet-7")
    assert mine["certificate_serial"] == answer.json()["serial"]
    broken = httpx.post(f"{demo_server.url}/api/auth/enroll", json={"csr_pem": "garbage"},
                        headers=headers)
    assert broken.status_code == 400 and "CSR" in broken.json()["detail"]
    handler = {"Authorization": f"Bearer {demo_server.token('handler1', 'desk')}"}
    refused = httpx.post(f"{demo_server.url}/api/auth/enroll", json={"csr_pem": csr},
                         headers=handler)
    assert refused.status_code == 403
