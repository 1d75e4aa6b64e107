"""Signing benchmark: a three-page declaration with three embedded 300 KB photos.

Prints the median of N warm runs (after one warm-up) for: render, sign (citizen certificate +
officer device), validate (both signatures, revocation required, diff analysis, contents),
and add LTV + document timestamp. Targets on the reference machine: sign ≤ 150 ms,
validate ≤ 100 ms.

    .venv/bin/python bench/signing.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path and its own name would shadow
# the `signing` package: drop that entry before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

from signing import forms, ltv, pades, pki, samples, tsa  # noqa: E402
from signing.verify import verify_document  # noqa: E402

PASSPHRASE = b"benchmark passphrase"
TARGETS_MS = {"sign": 150.0, "validate": 100.0}


def _setup(directory: Path) -> dict[str, Any]:
    district = pki.init_pki(directory / "district", "Quận Ba Đình", PASSPHRASE)
    chain = [district.issuing_cert, district.root_cert]
    signers = {}
    for role, name in (("officer", "Trần Văn Đức"), ("citizen", "Nguyễn Thị Hoà")):
        issued = district.issue_device(PASSPHRASE, officer_id=role, officer_name=name,
                                       device_id=f"{role}-1")
        assert issued.key is not None
        p12 = pki.pkcs12_bundle(issued.certificate, issued.key, chain, b"pw")
        signers[role] = pades.load_pkcs12(p12, b"pw")
    return {
        "trust": district.trust(),
        "officer": signers["officer"],
        "citizen": signers["citizen"],
        "stamper": tsa.DistrictTimeStamper(tsa.TsaResponder.from_pki(district, PASSPHRASE)),
        "content": samples.sample_declaration(pages=3, photos=3, photo_size=300_000),
    }


def _time(
    action: Callable[[], object], runs: int, progress: Progress, label: str
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each warm run (CPU time is this process's own, so
    it shows what other work on a shared machine adds to the wall clock)."""
    action()  # warm-up: imports, caches, first-use costs
    task = progress.add_task(label, total=runs)
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        progress.advance(task)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        env = _setup(Path(tmp))
        content = env["content"]
        rendered = forms.render_declaration(content)
        signed = pades.sign_declaration(rendered, env["officer"], env["trust"],
                                        citizen=env["citizen"])
        report = verify_document(signed, env["trust"])
        assert report.ok, report
        lta = ltv.add_long_term_validation(signed, env["trust"], env["stamper"])
        assert verify_document(lta, env["trust"]).ok
        results: dict[str, tuple[list[float], list[float]]] = {}
        with Progress(console=console, transient=True) as progress:
            results["render"] = _time(lambda: forms.render_declaration(content), args.runs,
                                      progress, "render")
            results["sign"] = _time(
                lambda: pades.sign_declaration(rendered, env["officer"], env["trust"],
                                               citizen=env["citizen"]),
                args.runs, progress, "sign")
            results["validate"] = _time(lambda: verify_document(signed, env["trust"]),
                                        args.runs, progress, "validate")
            results["ltv+timestamp"] = _time(
                lambda: ltv.add_long_term_validation(signed, env["trust"], env["stamper"]),
                args.runs, progress, "ltv+timestamp")
    table = Table(title=f"signing — median of {args.runs} warm runs "
                        f"(3 pages, 3 × 300 KB photos, signed PDF {len(signed) / 1e6:.2f} MB)")
    for column in ("step", "median ms", "min ms", "max ms", "median CPU ms", "target ms"):
        table.add_column(column, justify="right" if column != "step" else "left")
    for step, (times, cpu) in results.items():
        target = TARGETS_MS.get(step)
        table.add_row(step, f"{statistics.median(times):.1f}", f"{min(times):.1f}",
                      f"{max(times):.1f}", f"{statistics.median(cpu):.1f}",
                      f"≤ {target:.0f}" if target else "—")
    console.print(table)


if __name__ == "__main__":
    main()
