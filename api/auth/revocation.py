"""Revoking a lost device reaches every device: the device record, its certificate, and
the CRL that devices sync.

Guarantees: `revoke_device` marks the device revoked (its next contact wipes it), revokes
its certificate in the district PKI when the server holds the PKI and its passphrase (a
signature it makes afterwards fails validation at intake), and publishes the new CRLs as
the central `reference:district-pki` document, so devices learn of it at their next sync
and can validate offline. `publish_reference` writes that document only when the PKI's
CRL is newer than the stored one; it is also called by the intake worker whenever the
PKI's files change (e.g. after `doorstep pki revoke`).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from api.auth.service import AuthService
from api.auth.users import DeviceRecord
from sync.errors import Conflict, NotFound

log = logging.getLogger("doorstep.api")


def publish_reference(central: Any, pki: Any) -> bool:
    """Store the PKI's reference document in `central` if its CRL is newer; answer
    whether it was written."""
    fresh: dict[str, Any] = pki.reference_document()
    for _ in range(3):  # another writer may publish at the same time: read again
        try:
            stored = central.get(fresh["_id"])
        except NotFound:
            stored = None
        if stored is not None:
            if int(stored.get("crl_number", -1)) >= int(fresh["crl_number"]):
                return False
            fresh["_rev"] = stored["_rev"]
        try:
            central.put(fresh)
            return True
        except Conflict:
            fresh.pop("_rev", None)
    return False


def revoke_device(auth: AuthService, central: Any, pki_dir: Path, passphrase: bytes | None,
                  device_id: str) -> DeviceRecord:
    """Revoke the device, and its certificate and published CRL where the server can."""
    device = auth.revoke_device(device_id)
    if not device.certificate_serial or passphrase is None or not (pki_dir / "state.json").exists():
        return device
    from signing.errors import PkiError
    from signing.pki import DistrictPki, parse_serial

    pki = DistrictPki.open(pki_dir)
    issued = pki.find_issued(parse_serial(device.certificate_serial))
    if issued is not None and all(item.serial != issued.serial for item in pki.state.revoked):
        with contextlib.suppress(PkiError):  # revoked meanwhile by another path
            pki.revoke(passphrase, parse_serial(issued.serial), "keyCompromise")
    publish_reference(central, DistrictPki.open(pki_dir))
    log.info("device %s revoked with certificate %s", device_id, device.certificate_serial)
    return device
