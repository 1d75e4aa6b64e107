"""Several processes share a device's directory (the capture UI hands out provisional codes
while background sync records its outcome): no code is handed out twice, and no record
written by one undoes another's."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from field.device import Device

PER_PROCESS = 40


def _take_codes(directory: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    device = Device.open(Path(directory))
    out.put([device.next_provisional_code() for _ in range(PER_PROCESS)])


def _record_syncs(directory: str) -> None:
    device = Device.open(Path(directory))  # opened once: its in-memory record goes stale
    for n in range(PER_PROCESS):
        device.record_error(f"mất kết nối lần {n}")
        device.record_success(username="officer1", server="https://office.example")


def test_codes_are_unique_while_another_process_records_syncs(tmp_path: Path) -> None:
    device = Device.open(tmp_path / "phone")
    context = multiprocessing.get_context("spawn")
    codes: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    workers = [context.Process(target=_take_codes, args=(str(device.directory), codes))
               for _ in range(3)]
    workers.append(context.Process(target=_record_syncs, args=(str(device.directory),)))
    for worker in workers:
        worker.start()
    taken = [code for _ in range(3) for code in codes.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(set(taken)) == len(taken) == 3 * PER_PROCESS
    again = Device.open(tmp_path / "phone")
    assert again.state.counter == 3 * PER_PROCESS
    assert again.state.last_sync_at is not None and again.state.last_error is None
    assert again.next_provisional_code().endswith(f"-{3 * PER_PROCESS + 1:06d}")
