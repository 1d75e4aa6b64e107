"""The test PKI, built once per session in temporary directories from one description
(`signing_helpers.DESCRIPTION`).

The district PKI issues device certificates; a "national CA" (another PKI built with the same
code, its root and CRLs placed in the district's trust/ directory) issues citizens'
certificates; a rogue PKI stands for "a certificate from another CA".
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from signing_helpers import DESCRIPTION, PASSPHRASE, PkiFixture, _bundle, _usage

from signing import pki


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFixture:
    root = tmp_path_factory.mktemp("pki")
    district = pki.init_pki(root / "district", DESCRIPTION["district"], PASSPHRASE)
    national = pki.init_pki(root / "national", DESCRIPTION["national"], PASSPHRASE,
                            offline_days=365)
    rogue = pki.init_pki(root / "rogue", DESCRIPTION["rogue"], PASSPHRASE)
    p12: dict[str, bytes] = {}
    issued: dict[str, pki.DeviceCertificate] = {}
    for name, (officer_id, officer_name, device_id) in DESCRIPTION["devices"].items():
        issued[name] = district.issue_device(PASSPHRASE, officer_id=officer_id,
                                             officer_name=officer_name, device_id=device_id)
        p12[name] = _bundle(district, issued[name])
    issued["rogue_officer"] = rogue.issue_device(PASSPHRASE, officer_id="x1",
                                                 officer_name="Kẻ Giả Mạo", device_id="dev-x")
    p12["rogue_officer"] = _bundle(rogue, issued["rogue_officer"])
    now = dt.datetime.now(dt.UTC)
    for name, (id_number, person, offset, days, nonrep) in DESCRIPTION["citizens"].items():
        issued[name] = national.issue_device(
            PASSPHRASE, officer_id=id_number, officer_name=person, device_id="citizen",
            not_before=now + dt.timedelta(days=offset), validity=dt.timedelta(days=days),
            key_usage=_usage(nonrep),
        )
        p12[name] = _bundle(national, issued[name])
    # The district trusts the national CA for citizens' certificates.
    trust_dir = district.layout.trust
    trust_dir.mkdir()
    shutil.copy(national.layout.root_cert, trust_dir / "national-root.pem")
    shutil.copy(national.layout.root_crl, trust_dir / "national-root.crl")
    shutil.copy(national.layout.issuing_crl, trust_dir / "national-issuing.crl")
    # Not every token holds its issuer: the district keeps the national intermediate too.
    shutil.copy(national.layout.issuing_cert, trust_dir / "national-issuing.pem")
    before = district.trust()
    # One device is revoked now (before it signs); another only after it has signed (tests).
    district.revoke(PASSPHRASE, issued["revoked_officer"].certificate.serial_number,
                    "keyCompromise")
    return PkiFixture(root, district, national, rogue, p12, issued, before)
