"""The whole ceremony from the command line: pki init, issue-device, sign, verify, revoke.

Secrets come from files or the environment, never from arguments; bad input gives a message
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from signing_helpers import drawing_png, pdfsig_verdicts, qpdf_check

from doorstep.cli import main
from signing import samples

SECRET = "một mật khẩu rất dài"


def _run(args: list[str], env: dict[str, str | None] | None = None) -> tuple[int, str]:
    # None removes a variable the outer environment might hold.
    base: dict[str, str | None] = {name: None for name in
                                   ("DOORSTEP_PASSPHRASE", "DOORSTEP_P12_PASSWORD",
                                    "DOORSTEP_CITIZEN_PASSWORD")}
    result = CliRunner().invoke(main, args, env={**base, **(env or {})},
                                catch_exceptions=False)
    return result.exit_code, result.output


def _dossier_file(folder: Path, photo_seed: int = 1) -> Path:
    (folder / "anh-cccd.jpg").write_bytes(samples.sample_photo(photo_seed, 30_000))
    content = samples.sample_declaration(pages=1)
    spec = {
        "title": content.title,
        "procedure_name": content.procedure_name,
        "dossier_code": content.dossier_code,
        "agency": content.agency,
        "place": content.place,
        "processing_time": content.processing_time,
        "citizen": {"name": content.citizen.name, "id_number": content.citizen.id_number},
        "officer": {"name": "Trần Văn Đức"},
        "sections": [{"heading": s.heading, "rows": [list(r) for r in s.rows]}
                     for s in content.sections],
        "received_at": content.received_at.isoformat(),
        "appointment_date": content.appointment_date.isoformat(),
        "data": samples.sample_dossier(content.dossier_code),
        "attachments": [{"name": "anh-cccd.jpg", "path": "anh-cccd.jpg", "mime": "image/jpeg",
                         "description": "Ảnh căn cước công dân"}],
    }
    path = folder / "dossier.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    secret_file = root / "passphrase.txt"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    code, out = _run(["pki", "init", "--dir", str(root / "pki"), "--name", "Quận Ba Đình",
                      "--offline-days", "14", "--passphrase-file", str(secret_file)])
    assert code == 0, out
    return root


def test_issue_sign_verify_with_drawing(district: Path) -> None:
    pki_dir = district / "pki"
    device = district / "device.p12"
    env: dict[str, str | None] = {"DOORSTEP_PASSPHRASE": SECRET,
                                  "DOORSTEP_P12_PASSWORD": "thiết bị 01"}
    code, out = _run(["pki", "issue-device", "--dir", str(pki_dir), "--officer", "o12",
                      "--officer-name", "Trần Văn Đức", "--device", "dev-01",
                      "--out", str(device)], env)
    assert code == 0, out
    assert SECRET not in out
    (district / "ky.png").write_bytes(drawing_png())
    dossier = _dossier_file(district)
    signed = district / "signed.pdf"
    receipt = district / "receipt.pdf"
    code, out = _run(["sign", "--dossier", str(dossier), "--device", str(device),
                      "--citizen-drawing", str(district / "ky.png"), "--out", str(signed),
                      "--receipt-out", str(receipt),
                      "--crl", str(pki_dir / "crl-reference.json")], env)
    assert code == 0, out
    for path in (signed, receipt):
        assert qpdf_check(path).returncode == 0
        assert pdfsig_verdicts(path) == ["Signature is Valid."]
    code, out = _run(["verify", str(signed), "--pki", str(pki_dir), "--dossier", str(dossier)])
    assert code == 0, out
    assert "HỢP LỆ" in out and "ký tay" in out
    code, out = _run(["verify", str(signed), "--pki", str(pki_dir), "--json"])
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["signatures"][0]["signer"] == "Trần Văn Đức"

    # A different photo than the dossier claims: verify says so and exits non-zero.
    other = district / "other"
    other.mkdir()
    code, out = _run(["verify", str(signed), "--pki", str(pki_dir), "--dossier",
                      str(_dossier_file(other, photo_seed=2)), "--json"])
    assert code == 1
    assert "attachment_mismatch" in json.loads(out)["problems"]

    # Revoke the device: its earlier signature still stands, new CRL says so.
    serial = json.loads((pki_dir / "state.json").read_text())["issued"][-1]["serial"]
    code, out = _run(["pki", "revoke", "--dir", str(pki_dir), serial, "--reason",
                      "keyCompromise"], env)
    assert code == 0, out
    reference = json.loads((pki_dir / "crl-reference.json").read_text())
    assert reference["revoked"][0]["serial"] == serial
    # The device, now holding the new CRL, refuses to sign.
    code, out = _run(["sign", "--dossier", str(dossier), "--device", str(device),
                      "--out", str(district / "after.pdf"), "--pki", str(pki_dir)], env)
    assert code != 0 and "Lỗi" in out and "Traceback" not in out


@pytest.mark.parametrize("args", [
    ["pki", "init", "--dir", "{d}/pki", "--name", "Lần hai", "--passphrase-file", "{d}/pw"],
    ["pki", "revoke", "--dir", "{d}/pki", "not-hex", "--reason", "keyCompromise"],
    ["pki", "revoke", "--dir", "{d}/pki", "ABCDEF", "--reason", "keyCompromise"],
    ["pki", "issue-device", "--dir", "{d}/nowhere", "--officer", "o1", "--officer-name", "A",
     "--device", "d", "--out", "{d}/x.p12"],
    ["verify", "{d}/pw", "--pki", "{d}/pki"],
    ["sign", "--dossier", "{d}/pw", "--device", "{d}/pw", "--out", "{d}/x.pdf",
     "--pki", "{d}/pki"],
])
def test_bad_input_is_a_message_not_a_traceback(district: Path, args: list[str]) -> None:
    (district / "pw").write_text(SECRET, encoding="utf-8")
    env: dict[str, str | None] = {"DOORSTEP_PASSPHRASE": SECRET, "DOORSTEP_P12_PASSWORD": "x"}
    before = sorted(p.name for p in (district / "pki").iterdir())
    code, out = _run([a.format(d=district) for a in args], env)
    assert code != 0
    assert "Traceback" not in out
    assert "Lỗi" in out or "KHÔNG HỢP LỆ" in out
    assert sorted(p.name for p in (district / "pki").iterdir()) == before


def test_wrong_passphrase_is_refused(district: Path) -> None:
    code, out = _run(["pki", "crl", "--dir", str(district / "pki")],
                     {"DOORSTEP_PASSPHRASE": "sai mật khẩu"})
    assert code != 0 and "passphrase" in out


def test_no_secret_without_terminal(district: Path) -> None:
    code, out = _run(["pki", "crl", "--dir", str(district / "pki")], {})
    assert code != 0 and "DOORSTEP_PASSPHRASE" in out
