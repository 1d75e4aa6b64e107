"""`doorstep sign --dossier` on the dossier that syncs, through the installed command.

The real `doorstep` script in subprocesses: a district PKI, a device certificate, the
catalogue's example dossier with its checklist photos, a drawn citizen signature; then
`doorstep verify` must find the embedded JSON equal to the dossier, poppler must read the
Vietnamese text and call the signature valid. Secrets travel in files and the environment.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from signing import samples

DOORSTEP = str(Path(sys.executable).with_name("doorstep"))
PASSPHRASE = "mật khẩu khoá CA của quận"
DEVICE_PASSWORD = "mật khẩu thiết bị 01"
CODE = "1.000419"  # death registration at home: dates, a choice, an identity number


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} (poppler-utils) is required for this test"
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOORSTEP_")}
    env["DOORSTEP_PASSPHRASE"] = PASSPHRASE
    return subprocess.run([DOORSTEP, *args], capture_output=True, text=True, env=env,
                          check=False, timeout=300)


def _drawing() -> bytes:
    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 110), (90, 25), (210, 125), (390, 35)],
                               fill=(0, 0, 120, 255), width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@dataclass(frozen=True)
class Visit:
    root: Path
    pki: Path
    device: Path
    password_file: Path
    drawing: Path
    dossier: Path
    photos: Path

    def sign(self, dossier: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return _run("sign", "--dossier", str(dossier), "--device", str(self.device),
                    "--device-password-file", str(self.password_file),
                    "--citizen-drawing", str(self.drawing), "--out", str(out),
                    "--crl", str(self.pki / "crl-reference.json"), *extra)


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Visit:
    root = tmp_path_factory.mktemp("field-sign")
    pki_dir, device = root / "pki", root / "device.p12"
    done = _run("pki", "init", "--dir", str(pki_dir), "--name", "Quận Ba Đình")
    assert done.returncode == 0, done.stderr
    password_file = root / "device-password.txt"
    password_file.write_text(DEVICE_PASSWORD + "\n", encoding="utf-8")
    done = _run("pki", "issue-device", "--dir", str(pki_dir), "--officer", "o1",
                "--officer-name", "Trần Văn Đức", "--device", "DEMO01", "--out", str(device),
                "--p12-password-file", str(password_file))
    assert done.returncode == 0, done.stderr
    done = _run("catalogue", "example", CODE)
    assert done.returncode == 0, done.stderr
    dossier = root / "dossier.json"
    dossier.write_text(done.stdout, encoding="utf-8")
    photos = root / "photos"
    photos.mkdir()
    for seed, entry in enumerate(json.loads(done.stdout)["documents"], start=1):
        for name in entry["attachments"]:
            (photos / name).write_bytes(samples.sample_photo(seed, 25_000))
    drawing = root / "ky.png"
    drawing.write_bytes(_drawing())
    return Visit(root, pki_dir, device, password_file, drawing, dossier, photos)


@pytest.fixture(scope="module")
def signed(visit: Visit) -> Path:
    out = visit.root / "signed.pdf"
    done = visit.sign(visit.dossier, out, "--attachments-dir", str(visit.photos),
                      "--receipt-out", str(visit.root / "receipt.pdf"))
    assert done.returncode == 0, done.stderr
    assert "Đã ký hồ sơ" in done.stdout
    assert DEVICE_PASSWORD not in done.stdout + done.stderr
    return out


def test_verify_finds_the_embedded_json_equal_to_the_dossier(visit: Visit, signed: Path) -> None:
    done = _run("verify", str(signed), "--pki", str(visit.pki), "--dossier", str(visit.dossier),
                "--attachments-dir", str(visit.photos), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert report["drawn_signature"] is True
    assert report["signatures"][0]["signer"] == "Trần Văn Đức"
    embedded = {item["name"]: item for item in report["attachments"]}
    dossier_bytes = visit.dossier.read_bytes()
    assert embedded["dossier.json"]["sha256"] == hashlib.sha256(dossier_bytes).hexdigest()
    assert all(item["matches"] for item in embedded.values())
    photos = {p.name for p in visit.photos.iterdir()}
    assert set(embedded) == photos | {"dossier.json"}


def test_verify_notices_a_dossier_that_differs(visit: Visit, signed: Path) -> None:
    other = visit.root / "other"
    other.mkdir()
    document = json.loads(visit.dossier.read_text(encoding="utf-8"))
    document["form"]["noi_chet"] = "Bệnh viện huyện"
    (other / "dossier.json").write_text(json.dumps(document, ensure_ascii=False),
                                        encoding="utf-8")
    done = _run("verify", str(signed), "--pki", str(visit.pki), "--dossier",
                str(other / "dossier.json"), "--attachments-dir", str(visit.photos), "--json")
    assert done.returncode == 1
    assert "dossier_mismatch" in json.loads(done.stdout)["problems"]


def test_poppler_reads_the_vietnamese_declaration(visit: Visit, signed: Path) -> None:
    text = subprocess.run([_tool("pdftotext"), "-layout", str(signed), "-"],
                          capture_output=True, text=True, check=True).stdout
    document = json.loads(visit.dossier.read_text(encoding="utf-8"))
    assert document["applicant"]["full_name"] in text  # Nguyễn Văn An
    assert "Ngày chết" in text and "25/02/2026" in text
    assert "TỜ KHAI ĐĂNG KÝ KHAI TỬ" in text
    assert document["official_code"] in text
    pdfsig = subprocess.run([_tool("pdfsig"), "-nocert", "-no-ocsp", str(signed)],
                            capture_output=True, text=True, check=False).stdout
    verdicts = [line.split(":", 1)[1].strip() for line in pdfsig.splitlines()
                if line.strip().startswith("- Signature Validation:")]
    assert verdicts == ["Signature is Valid."]


def _broken(visit: Visit, name: str, change: str) -> Path:
    path = visit.root / name
    if change == "not_json":
        path.write_text("{ không phải JSON", encoding="utf-8")
        return path
    document = json.loads(visit.dossier.read_text(encoding="utf-8"))
    if change == "unknown_procedure":
        document["procedure_code"] = "9.999999"
    elif change == "invalid_field":
        document["form"]["ngay_chet"] = "25-02-2026"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "words"), [
    ("not_json", "không phải JSON"),
    ("unknown_procedure", "9.999999"),
    ("invalid_field", "Ngày chết"),
    ("missing_photos", "tp01-trang-1.jpg"),
])
def test_a_bad_dossier_is_a_message_and_exit_2(visit: Visit, change: str, words: str) -> None:
    dossier = (visit.dossier if change == "missing_photos"  # photos are not beside it
               else _broken(visit, f"{change}.json", change))
    out = visit.root / f"{change}.pdf"
    done = visit.sign(dossier, out)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Lỗi: ") and "Error" not in done.stderr
    assert "Traceback" not in done.stderr and words in done.stderr
    assert not out.exists()


def test_a_signing_failure_is_one_vietnamese_line_without_error_prefix(visit: Visit) -> None:
    out = visit.root / "no-device.pdf"
    done = _run("sign", "--dossier", str(visit.dossier), "--device", str(visit.root / "nope.p12"),
                "--device-password-file", str(visit.password_file), "--attachments-dir",
                str(visit.photos), "--out", str(out), "--pki", str(visit.pki))
    assert done.returncode == 1
    assert done.stderr.startswith("Lỗi: ") and "Error: " not in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
