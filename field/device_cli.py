"""`doorstep field …`: the officer's device on the command line — sync, enroll, status.

Guarantees:
- The password comes from `DOORSTEP_FIELD_PASSWORD` or a hidden prompt, the PIN (which
  opens an encrypted store and the signing key) from `DOORSTEP_FIELD_PIN` or a prompt;
  neither is ever printed or written.
- Every failure is one Vietnamese line on stderr and an exit status, never a traceback:
  1 the sync failed (network, refusal; the device records it and resumes next time),
  2 some documents were refused by the server, 3 the server ordered a wipe and the device
  erased its data.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import click
from rich.console import Console

from field.device import STATE_FILE, Device, read_state
from field.errors import FieldAgentError, WipeOrdered
from field.retention import DEFAULT_KEEP_DAYS
from field.session import ServerSession
from field.sync import DeviceSync, SyncReport
from sync.cli import SyncProgressBar

EXIT_FAILED, EXIT_REFUSED, EXIT_WIPED = 1, 2, 3
PASSWORD_ENV = "DOORSTEP_FIELD_PASSWORD"  # noqa: S105 - a variable's name, not a secret
PIN_ENV = "DOORSTEP_FIELD_PIN"


def _secret(env: str, prompt: str, *, required: bool) -> str | None:
    value = os.environ.get(env)
    if value:
        return value
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True))
    if required:
        raise click.UsageError(f"cần {prompt.lower()}: đặt biến môi trường {env} "
                               "hoặc chạy trong một terminal để nhập.")
    return None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(code)


_SERVER = click.option("--server", required=True, help="The server's URL (https://…).")
_USERNAME = click.option("--username", required=True, help="The officer's user name.")
_DATA = click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
                     required=True, help="The device's data directory.")
_CA = click.option("--ca-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
                   default=None, help="CA certificates to trust for the server (PEM).")


@click.group("field")
def field_group() -> None:
    """The officer's device: sync with the server, enroll, show its state."""


def _open(data_dir: Path) -> Device:
    try:
        return Device.open(data_dir, pin=os.environ.get(PIN_ENV) or None)
    except FieldAgentError as exc:
        _fail(exc.message, EXIT_FAILED)


def _session(server: str, username: str, device: Device,
             ca_file: Path | None) -> ServerSession:
    host = urlsplit(server).hostname or ""
    if server.startswith("http://") and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo("Cảnh báo: kết nối không mã hoá (http://); hãy dùng https://.", err=True)
    password = _secret(PASSWORD_ENV, "Mật khẩu", required=True) or ""
    session = ServerSession(server, username, device.state.device_id, ca_file=ca_file)
    session.login(password)
    return session


def _print(report: SyncReport) -> None:
    click.echo(f"Đã đồng bộ: nhận {report.pulled} tài liệu, gửi {report.pushed}, "
               f"xoá khỏi thiết bị {len(report.purged) + len(report.forgotten)}, "
               f"{report.seconds:.1f} giây.")
    for doc_id, reason in report.refused:
        click.echo(f"  máy chủ từ chối {doc_id}: {reason}", err=True)


def _keep_syncing(sync: DeviceSync, every: int) -> None:
    stop = threading.Event()

    def lost(exc: FieldAgentError) -> None:
        click.echo(f"Lỗi: {exc.message}", err=True)

    try:
        sync.keep_syncing(every, stop, on_report=_print, on_lost=lost)
    except KeyboardInterrupt:
        stop.set()


@field_group.command("sync")
@_SERVER
@_USERNAME
@_DATA
@_CA
@click.option("--every", type=click.IntRange(5, 86_400), default=None, metavar="SECONDS",
              help="Keep syncing every SECONDS (background sync) until interrupted.")
@click.option("--keep-days", type=click.IntRange(0, 3650), default=DEFAULT_KEEP_DAYS,
              show_default=True,
              help="Days a dossier stays on the device after its result was delivered.")
def sync_command(server: str, username: str, data_dir: Path, ca_file: Path | None,
                 every: int | None, keep_days: int) -> None:
    """Pull from the server, drop what the server says to purge, push the device's work."""
    device = _open(data_dir)
    try:
        session = _session(server, username, device, ca_file)
        if every:
            _keep_syncing(DeviceSync(device, session, keep_days=keep_days), every)
            return
        console = Console(stderr=True)
        if console.is_terminal:
            with SyncProgressBar(console) as bar:
                report = DeviceSync(device, session, keep_days=keep_days,
                                    on_progress=bar).sync_once()
        else:
            report = DeviceSync(device, session, keep_days=keep_days).sync_once()
    except WipeOrdered as order:
        if device.state.wiped_at is None:  # refused at login: nothing has erased it yet
            device.wipe(order.message)
        _fail(f"máy chủ yêu cầu xoá dữ liệu: {order.message} Đã xoá dữ liệu trên thiết bị.",
              EXIT_WIPED)
    except FieldAgentError as exc:
        if device.state.wiped_at is None:
            device.record_error(exc.message)
        _fail(exc.message, EXIT_FAILED)
    finally:
        device.close()
    _print(report)
    if not report.ok:
        sys.exit(EXIT_REFUSED)


@field_group.command("enroll")
@_SERVER
@_USERNAME
@_DATA
@_CA
def enroll_command(server: str, username: str, data_dir: Path, ca_file: Path | None) -> None:
    """Sync once, then have the device's own key certified by the district CA."""
    from field.enrollment import enroll  # pyHanko's import cost only for this command

    device = _open(data_dir)
    try:
        session = _session(server, username, device, ca_file)
        DeviceSync(device, session).sync_once()  # the district chain arrives with the pull
        pin = _secret(PIN_ENV, "Mã PIN", required=True) or ""
        serial = enroll(device, session, pin)
    except WipeOrdered as order:
        if device.state.wiped_at is None:
            device.wipe(order.message)
        _fail(f"máy chủ yêu cầu xoá dữ liệu: {order.message}", EXIT_WIPED)
    except FieldAgentError as exc:
        _fail(exc.message, EXIT_FAILED)
    finally:
        device.close()
    click.echo(f"Đã cấp chứng thư số cho thiết bị {device.state.device_id}: số hiệu {serial}.")


@field_group.command("status")
@_DATA
def status_command(data_dir: Path) -> None:
    """The device's identity, last sync and last error."""
    path = data_dir / STATE_FILE
    if not path.exists():
        _fail(f"thư mục {data_dir} chưa phải dữ liệu của thiết bị nào.", EXIT_FAILED)
    try:
        state = read_state(path)
    except FieldAgentError as exc:
        _fail(exc.message, EXIT_FAILED)
    click.echo(f"Thiết bị: {state.device_id}")
    click.echo(f"Cán bộ: {state.username or '—'}  Máy chủ: {state.server or '—'}")
    click.echo(f"Chứng thư số: {state.certificate_serial or 'chưa cấp'}")
    click.echo(f"Đồng bộ lần cuối: {state.last_sync_at or 'chưa lần nào'}")
    if state.last_error:
        click.echo(f"Lỗi gần nhất ({state.last_error_at}): {state.last_error}")
    if state.wiped_at:
        click.echo(f"Dữ liệu đã bị xoá lúc {state.wiped_at}: {state.wipe_reason}")
