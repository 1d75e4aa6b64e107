"""Independent validators agree: poppler's pdfsig calls every signature we make valid, and
`qpdf --check` finds no error in any file we produce (rendered, signed, timestamped).

pdfsig exits 0 whatever it finds, so its output is parsed. It does not evaluate DocMDP, the
DSS or trust in our roots (it is run with -nocert), and shows document timestamps as an
unknown type; those are left to `verify_document`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from signing_helpers import (
    PASSPHRASE,
    PkiFixture,
    content,
    drawing_png,
    pdfsig_verdicts,
    qpdf_check,
)

from signing import forms, ltv, pades, tsa
from signing.verify import verify_document


def test_tools_are_installed() -> None:
    # A missing tool must fail the suite, not skip it (CI installs them via `make test`).
    assert shutil.which("pdfsig"), "poppler-utils (pdfsig) is not installed"
    assert shutil.which("qpdf"), "qpdf is not installed"


@pytest.fixture(scope="module")
def produced(test_pki: PkiFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("produced")
    declaration = content()
    officer = test_pki.signer("officer")
    trust = test_pki.device_trust()
    rendered = forms.render_declaration(declaration)
    files = {
        "rendered": rendered.pdf,
        "receipt": forms.render_receipt(declaration).pdf,
        "signed_receipt": pades.sign_receipt(forms.render_receipt(declaration), officer, trust),
        "citizen_cert": pades.sign_declaration(rendered, officer, trust,
                                               citizen=test_pki.signer("citizen")),
        "drawing": pades.sign_declaration(rendered, officer, trust, drawing=drawing_png()),
    }
    stamper = tsa.DistrictTimeStamper(tsa.TsaResponder.from_pki(test_pki.district, PASSPHRASE))
    files["lta"] = ltv.add_long_term_validation(files["citizen_cert"],
                                                test_pki.district_trust(), stamper)
    files["lta_renewed"] = ltv.renew_archive_timestamp(files["lta"], test_pki.district_trust(),
                                                       stamper)
    paths = {}
    for name, data in files.items():
        paths[name] = out / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize("name", ["rendered", "receipt", "signed_receipt", "citizen_cert",
                                  "drawing", "lta", "lta_renewed"])
def test_qpdf_finds_no_errors(produced: dict[str, Path], name: str) -> None:
    result = qpdf_check(produced[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


@pytest.mark.parametrize(("name", "signatures"), [("signed_receipt", 1), ("citizen_cert", 2),
                                                  ("drawing", 1), ("lta", 2),
                                                  ("lta_renewed", 2)])
def test_pdfsig_calls_every_signature_valid(produced: dict[str, Path], name: str,
                                            signatures: int) -> None:
    verdicts = pdfsig_verdicts(produced[name])
    valid = [v for v in verdicts if v == "Signature is Valid."]
    assert len(valid) == signatures, verdicts
    # Document timestamps are an "unknown" type to pdfsig: never reported invalid.
    assert not [v for v in verdicts if "Mismatch" in v or "Invalid" in v], verdicts


def test_our_validator_agrees_on_long_term_files(test_pki: PkiFixture,
                                                 produced: dict[str, Path]) -> None:
    for name in ("lta", "lta_renewed"):
        report = verify_document(produced[name].read_bytes(), test_pki.district_trust())
        assert report.ok, report
        assert report.level == "PAdES-B-LTA"
    renewed = verify_document(produced["lta_renewed"].read_bytes(), test_pki.district_trust())
    assert [s.kind for s in renewed.signatures].count("timestamp") == 2


def test_drawing_is_the_citizen_field_appearance(test_pki: PkiFixture,
                                                 produced: dict[str, Path]) -> None:
    report = verify_document(produced["drawing"].read_bytes(), test_pki.district_trust())
    assert report.ok and report.drawn_signature
    assert [s.field for s in report.signatures] == [forms.OFFICER_FIELD]


def test_ceremony_and_validation_make_no_network_call(test_pki: PkiFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    signed = pades.sign_declaration(forms.render_declaration(content()),
                                    test_pki.signer("officer"), test_pki.device_trust(),
                                    citizen=test_pki.signer("citizen"))
    report = verify_document(signed, test_pki.district_trust())
    assert report.ok and report.level == "PAdES-B-B"
