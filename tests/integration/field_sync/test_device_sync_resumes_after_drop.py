"""A field link that drops in the middle of a push: the sync fails with a Vietnamese error
recorded on the device, and the next sync resumes from its checkpoint — every dossier
arrives, none twice, and what was sent before the drop is not sent again."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from field_sync_helpers import Server, field_device, new_dossier
from support.fault_proxy import FaultProxy

from field.errors import ServerUnreachable
from field.sync import DeviceSync
from sync.peers import set_testing

DOSSIERS = 12


@pytest.fixture()
def no_backoff() -> Iterator[None]:
    set_testing(True)
    yield
    set_testing(False)


def test_push_cut_by_a_dropped_connection_resumes(
    server: Server, tmp_path: Path, no_backoff: None
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)))
    try:
        phone = field_device(proxy.url, tmp_path / "phone")
        phone.sync()
        for _ in range(DOSSIERS):
            dossier, photos = new_dossier(phone.device, "officer1")
            doc = {"_id": f"dossier:{dossier.provisional_code}",
                   **msgspec.to_builtins(dossier),
                   "_attachments": {name: {"content_type": "image/jpeg",
                                           "data": base64.b64encode(data).decode()}
                                    for name, data in photos.items()}}
            phone.device.db.put(doc)
        size = sum(len(p) for p in photos.values())
        # Carry about a third of the push, then drop every connection.
        proxy.faults.budget = proxy.carried + DOSSIERS * size // 3
        sync = DeviceSync(phone.device, phone.session, batch_size=2)
        with pytest.raises(ServerUnreachable, match="mất kết nối"):
            sync.sync_once()
        assert proxy.cuts >= 1
        assert phone.device.state.last_error is not None
        assert "mất kết nối" in phone.device.state.last_error
        central = server.central()
        mine = f"dossier:TT-{phone.device.state.device_id}-"
        ours = [r["id"] for r in central.all_docs(startkey=mine, endkey=mine + "\ufff0")[
            "rows"]]
        assert 0 < len(ours) < DOSSIERS, ours

        proxy.faults.budget = None  # the network is back
        report = sync.sync_once()
        assert report.pushed == DOSSIERS - len(ours)
        assert phone.device.state.last_error is None
        rows = central.all_docs(startkey=mine, endkey=mine + "\ufff0")["rows"]
        assert len(rows) == DOSSIERS
        assert all(r["value"]["rev"].startswith("1-") for r in rows)  # each written once
        assert sync.sync_once().pushed == 0
    finally:
        proxy.close()
