"""The result of a resolved dossier is uploaded as a PDF, sealed with the district's seal
certificate and a TSA timestamp, and stored as `result:<dossier_id>`; pyHanko (against the
district's roots and CRLs only) and poppler's pdfsig call the seal valid. Uploads before
resolution, of the wrong type, too large, not a PDF or encrypted are refused; a result is
replaced only until it is marked ready."""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import handling_helpers
from auth_helpers import login
from handling_helpers import (
    ATTACHMENT_LIMIT,
    post_event,
    result_pdf,
    seal_status,
    store_received,
    upload_result,
)
from litestar.testing import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from api.services import Services

# The scenario's fixtures (a demo with its district PKI and seal), by name.
client = handling_helpers.client
embedded_client = handling_helpers.embedded_client
embedded_office = handling_helpers.embedded_office
office = handling_helpers.office


def _resolved(client: TestClient[Any], services: Services, n: int) -> tuple[str, dict[str, str]]:
    stored = store_received(services.central, n)
    handler = login(client, "handler1")
    for kind in ("accepted", "processing", "resolved"):
        answer = post_event(client, handler, stored.dossier_id, kind)
        assert answer.status_code == 201, answer.text
    return stored.dossier_id, handler


def _stored_pdf(services: Services, dossier_id: str) -> bytes:
    data: bytes = services.central.attachment(f"result:{dossier_id}", "result.pdf").read()
    return data


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _nss_trusting(directory: Path, pki_dir: Path | None) -> Path:
    """An NSS database for pdfsig: the district root trusted, its CRLs known (or, with no
    PKI given, empty: the control case)."""
    for tool in ("certutil", "crlutil"):
        assert shutil.which(tool), f"{tool} (libnss3-tools) is not installed"
    directory.mkdir()
    _run("certutil", "-N", "-d", f"sql:{directory}", "--empty-password")
    if pki_dir is not None:
        _run("certutil", "-A", "-d", f"sql:{directory}", "-n", "district-root", "-t", "C,C,C",
             "-a", "-i", str(pki_dir / "root.pem"))
        _run("certutil", "-A", "-d", f"sql:{directory}", "-n", "district-issuing", "-t", ",,",
             "-a", "-i", str(pki_dir / "issuing.pem"))
        for crl in ("root.crl", "issuing.crl"):
            _run("crlutil", "-I", "-B", "-d", f"sql:{directory}", "-i", str(pki_dir / crl))
    return directory


def _pdfsig(path: Path, nss: Path) -> str:
    assert shutil.which("pdfsig"), "poppler-utils (pdfsig) is not installed"
    # pdfsig exits 0 whatever it finds: its output is the verdict.
    return _run("pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(path))


def test_the_sealed_result_is_stored_and_validates(client: TestClient[Any], office: Services,
                                                   tmp_path: Path) -> None:
    dossier_id, handler = _resolved(client, office, 1)
    original = result_pdf()
    started = time.perf_counter()
    answer = upload_result(client, handler, dossier_id, original)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["result_id"] == f"result:{dossier_id}" and body["replaced"] is False
    assert body["seal_authority"] == "Ủy ban nhân dân Phường Demo"
    doc = office.central.get(f"result:{dossier_id}")
    assert doc["type"] == "result" and doc["dossier_id"] == dossier_id
    assert doc["dossier"] == dossier_id.removeprefix("dossier:")
    assert doc["official_code"] and doc["sealed_by"] == "handler1" and doc["sealed_at"]
    assert doc["access"] == ["officer:officer1", "ward:00004", "queue:procedure:1.001776"]
    sealed = _stored_pdf(office, dossier_id)
    assert hashlib.sha256(sealed).hexdigest() == body["sha256"]
    assert sealed.startswith(original)  # the uploaded bytes, plus the seal's update
    status = seal_status(sealed, office)
    assert status.bottom_line, status.pretty_print_details()
    assert status.trusted and status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    path = tmp_path / "result.pdf"
    path.write_bytes(sealed)
    pki_dir = office.settings.server.data_dir / "pki"
    verdict = _pdfsig(path, _nss_trusting(tmp_path / "nss", pki_dir))
    assert "Signer Certificate Common Name: Ủy ban nhân dân Phường Demo" in verdict
    assert "- Signature Validation: Signature is Valid." in verdict
    assert "- Certificate Validation: Certificate is Trusted." in verdict
    assert "- Total document signed" in verdict
    # The control: an NSS database without the district's root does not trust the seal.
    stranger = _pdfsig(path, _nss_trusting(tmp_path / "nss-empty", None))
    assert "- Signature Validation: Signature is Valid." in stranger
    assert "Certificate is Trusted" not in stranger
    print(f"upload + seal + store: {elapsed * 1000:.0f} ms for a {len(original)} byte PDF")


def test_the_result_waits_for_resolution_and_is_frozen_once_ready(
        embedded_client: TestClient[Any], embedded_office: Services) -> None:
    stored = store_received(embedded_office.central, 2)
    handler = login(embedded_client, "handler1")
    early = upload_result(embedded_client, handler, stored.dossier_id, result_pdf())
    assert early.status_code == 409, early.text
    assert "Chỉ tải lên kết quả khi hồ sơ đã xử lý xong" in early.json()["detail"]
    assert "«Mới tiếp nhận»" in early.json()["detail"]
    for kind in ("accepted", "processing", "resolved"):
        assert post_event(embedded_client, handler, stored.dossier_id, kind).status_code == 201
    first = upload_result(embedded_client, handler, stored.dossier_id, result_pdf())
    assert first.status_code == 201, first.text
    second = upload_result(embedded_client, handler, stored.dossier_id, result_pdf())
    assert second.status_code == 201 and second.json()["replaced"] is True
    assert second.json()["sha256"] != first.json()["sha256"]  # a new seal, a new timestamp
    stored_now = _stored_pdf(embedded_office, stored.dossier_id)
    assert hashlib.sha256(stored_now).hexdigest() == second.json()["sha256"]
    assert post_event(embedded_client, handler, stored.dossier_id,
                      "result_ready").status_code == 201
    late = upload_result(embedded_client, handler, stored.dossier_id, result_pdf())
    assert late.status_code == 409
    assert late.json()["detail"] == "Kết quả đã được ghi nhận sẵn sàng trả; không thể thay thế."
    assert _stored_pdf(embedded_office, stored.dossier_id) == stored_now  # nothing lost


def _encrypted(pdf: bytes) -> bytes:
    reader = PdfFileReader(io.BytesIO(pdf))
    writer = PdfFileWriter()
    writer.root["/Pages"] = writer.import_object(reader.root["/Pages"])
    writer.encrypt("owner-secret", "user-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_bad_uploads_are_refused_with_the_reason(embedded_client: TestClient[Any],
                                                 embedded_office: Services) -> None:
    dossier_id, handler = _resolved(embedded_client, embedded_office, 3)
    cases = [
        (result_pdf(), "application/json", 415, "application/pdf"),
        (result_pdf(), "text/plain", 415, "application/pdf"),
        (b"%PDF-1.7\n" + b"0" * (ATTACHMENT_LIMIT + 1), "application/pdf", 413, "giới hạn"),
        (b"Hello, I am not a PDF at all.", "application/pdf", 400, "không phải tệp PDF"),
        (base64.b64encode(result_pdf()), "application/pdf", 400, "không phải tệp PDF"),
        (b"%PDF-1.7\n broken beyond reading", "application/pdf", 400, "Không đọc được"),
        (_encrypted(result_pdf()), "application/pdf", 400, "mã hoá"),
        (b"", "application/pdf", 400, "trống"),
    ]
    for data, media, status, words in cases:
        answer = upload_result(embedded_client, handler, dossier_id, data, media)
        assert answer.status_code == status, (media, status, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert words in answer.json()["detail"], answer.json()
    # None of them stored anything; a good upload still works.
    assert upload_result(embedded_client, handler, dossier_id, result_pdf()).status_code == 201


def test_a_server_without_a_pki_says_so(embedded_client: TestClient[Any],
                                        embedded_office: Services) -> None:
    dossier_id, handler = _resolved(embedded_client, embedded_office, 4)
    embedded_office.pki_passphrase = None
    answer = upload_result(embedded_client, handler, dossier_id, result_pdf())
    assert answer.status_code == 503, answer.text
    assert "DOORSTEP_PKI_PASSPHRASE" in answer.json()["detail"]


def test_a_data_dir_from_before_the_seal_gets_one(embedded_client: TestClient[Any],
                                                  embedded_office: Services) -> None:
    pki_dir = embedded_office.settings.server.data_dir / "pki"
    (pki_dir / "seal.pem").unlink()
    (pki_dir / "seal.key").unlink()
    dossier_id, handler = _resolved(embedded_client, embedded_office, 5)
    answer = upload_result(embedded_client, handler, dossier_id, result_pdf())
    assert answer.status_code == 201, answer.text
    assert (pki_dir / "seal.pem").exists()
    assert seal_status(_stored_pdf(embedded_office, dossier_id), embedded_office).bottom_line
