"""`doorstep intake`: the intake worker alone (`doorstep serve` also runs it in a thread)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from api.errors import SettingsError

PASSPHRASE_ENV = "DOORSTEP_PKI_PASSPHRASE"  # noqa: S105 - a variable name, not a secret


def worker_for(central: Any, data_dir: Path, passphrase: bytes | None) -> Any:
    """The worker on the server's district PKI (`<data>/pki`), or None with no PKI to use."""
    from api.intake.worker import IntakeWorker

    pki_dir = data_dir / "pki"
    if passphrase is None or not pki_dir.is_dir():
        return None
    return IntakeWorker(central, pki_dir, passphrase)


@click.command("intake")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data directory of the embedded store (default: ./data).")
@click.option("--couchdb", "couchdb_url", default=None, help="Run on Apache CouchDB at URL.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="A TOML settings file (also DOORSTEP_CONFIG).")
@click.option("--once", is_flag=True, help="Process what is waiting, then exit.")
def intake(data_dir: Path | None, couchdb_url: str | None, config_file: Path | None,
           once: bool) -> None:
    """Receive submitted dossiers from the central changes feed (PKI passphrase in
    DOORSTEP_PKI_PASSPHRASE)."""
    from api.services import CENTRAL_DB, _open_storage
    from api.settings import load_settings

    try:
        settings = load_settings({"data_dir": data_dir, "couchdb_url": couchdb_url},
                                 config_file=config_file)
    except SettingsError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if not passphrase:
        raise click.ClickException(f"{PASSPHRASE_ENV} is not set: the TSA key needs it")
    if not (settings.server.data_dir / "pki").is_dir():
        raise click.ClickException(f"no district PKI in {settings.server.data_dir / 'pki'}")
    try:
        storage = _open_storage(settings)
        central = storage.open(settings.server.db_prefix + CENTRAL_DB, create=True)
    except Exception as exc:  # storage that cannot be opened: say which and why
        raise click.ClickException(f"cannot open storage: {type(exc).__name__}: {exc}") from None
    worker = worker_for(central, settings.server.data_dir, passphrase.encode())
    if once:
        try:
            while worker.run_once():
                pass
        except Exception as exc:  # a transient failure: the checkpoint stays before it
            raise click.ClickException(f"intake stopped at change "
                                       f"{worker.health.checkpoint_seq}: {exc}") from None
        click.echo(f"Đã xử lý đến thay đổi số {worker.health.checkpoint_seq}.")
        return
    worker.run()
