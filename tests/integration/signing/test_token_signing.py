"""A citizen signs with a PKCS#11 token (SoftHSM2 from Debian), the officer locks the document,
and both our validator and pdfsig call the signatures valid."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from signing_helpers import PkiFixture, content, pdfsig_verdicts

from signing import forms, pades
from signing.errors import CredentialError
from signing.verify import verify_document

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "citizen-token"
USER_PIN = "246810"


@pytest.fixture(scope="module")
def token(test_pki: PkiFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert Path(SOFTHSM_MODULE).exists(), "softhsm2 is not installed (make test installs it)"
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    # SoftHSM2 reads this when the module is first initialised in this process.
    env = pytest.MonkeyPatch()
    env.setenv("SOFTHSM2_CONF", str(conf))
    run = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
           "--pin", USER_PIN, "--so-pin", "13579135"]
    subprocess.run(run, check=True, capture_output=True)
    issued = test_pki.issued["citizen"]
    assert issued.key is not None
    key_file = base / "key.pem"
    key_file.write_bytes(issued.key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    subprocess.run(["softhsm2-util", "--import", str(key_file), "--token", TOKEN_LABEL,
                    "--label", "citizen", "--id", "01", "--pin", USER_PIN],
                   check=True, capture_output=True)
    key_file.unlink()
    _store_certificate(issued.certificate.public_bytes(serialization.Encoding.DER),
                       issued.certificate.subject.public_bytes())
    yield TOKEN_LABEL
    env.undo()


def _store_certificate(der: bytes, subject: bytes) -> None:
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    lib = pkcs11.lib(SOFTHSM_MODULE)
    with lib.get_token(token_label=TOKEN_LABEL).open(rw=True, user_pin=USER_PIN) as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.LABEL: "citizen",
            Attribute.ID: b"\x01",
            Attribute.VALUE: der,
            # pyHanko finds certificates by subject; a token object without it is skipped.
            Attribute.SUBJECT: subject,
        })


def test_citizen_signs_with_token(test_pki: PkiFixture, token: str, tmp_path: Path) -> None:
    rendered = forms.render_declaration(content())
    with pades.open_token(SOFTHSM_MODULE, token, USER_PIN, key_label="citizen") as citizen:
        assert "Nguyễn Thị Hoà" in citizen.signing_cert.subject.human_friendly
        signed = pades.sign_declaration(rendered, test_pki.signer("officer"),
                                        test_pki.device_trust(), citizen=citizen)
    report = verify_document(signed, test_pki.district_trust())
    assert report.ok, report
    assert report.signatures[0].signer == "Nguyễn Thị Hoà"
    path = tmp_path / "token.pdf"
    path.write_bytes(signed)
    assert pdfsig_verdicts(path) == ["Signature is Valid.", "Signature is Valid."]


def test_wrong_pin_is_a_clear_error(token: str) -> None:
    with pytest.raises(CredentialError, match="cannot open PKCS#11 token"), \
            pades.open_token(SOFTHSM_MODULE, token, "000000", key_label="citizen"):
        pass


def test_sign_command_with_token(test_pki: PkiFixture, token: str, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from doorstep.cli import main
    from signing import samples

    declaration = samples.sample_declaration()
    spec = {
        "title": declaration.title, "procedure_name": declaration.procedure_name,
        "dossier_code": declaration.dossier_code, "agency": declaration.agency,
        "citizen": {"name": declaration.citizen.name}, "officer": {"name": "Trần Văn Đức"},
        "sections": [{"heading": s.heading, "rows": [list(r) for r in s.rows]}
                     for s in declaration.sections],
        "received_at": declaration.received_at.isoformat(),
        "appointment_date": declaration.appointment_date.isoformat(),
        "data": json.loads(declaration.dossier_json),
    }
    (tmp_path / "dossier.json").write_text(json.dumps(spec, ensure_ascii=False))
    (tmp_path / "device.p12").write_bytes(test_pki.p12["officer"])
    (tmp_path / "pin").write_text(USER_PIN)
    out = tmp_path / "signed.pdf"
    result = CliRunner().invoke(main, [
        "sign", "--dossier", str(tmp_path / "dossier.json"), "--device",
        str(tmp_path / "device.p12"), "--citizen-token", token, "--pkcs11-module",
        SOFTHSM_MODULE, "--citizen-key-label", "citizen", "--citizen-pin-file",
        str(tmp_path / "pin"), "--crl", str(test_pki.district.layout.reference), "--out", str(out),
    ], env={"DOORSTEP_P12_PASSWORD": "p12-password"})
    assert result.exit_code == 0, result.output
    report = verify_document(out.read_bytes(), test_pki.district_trust())
    assert report.ok, report
    assert [s.signer for s in report.signatures] == ["Nguyễn Thị Hoà", "Trần Văn Đức"]
