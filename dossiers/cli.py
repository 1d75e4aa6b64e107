"""`doorstep catalogue …` and `doorstep calendar …`: the catalogue and deadlines at a prompt.

Bad input (an unknown procedure code, a time that is not ISO 8601) gets a Vietnamese
message on stderr and exit status 2, never a traceback. A time without an offset is read
as local time in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import click
import msgspec

from dossiers.calendar import LOCAL_TZ, default_calendar
from dossiers.catalogue import EXEMPTION_LABELS, Procedure, ProcedureVersion, load_catalogue
from dossiers.errors import DossierError
from dossiers.examples import example_dossier

_BAD_INPUT = 2
_TYPE_LABELS = {
    "text": "chữ",
    "date": "ngày",
    "datetime": "thời điểm",
    "integer": "số",
    "boolean": "có/không",
    "choice": "lựa chọn",
    "identity_number": "số định danh",
    "phone": "số điện thoại",
}


def _fail(message: str) -> NoReturn:
    click.echo(f"Lỗi: {message}", err=True)
    raise click.exceptions.Exit(_BAD_INPUT)


def _procedure(code: str) -> Procedure:
    try:
        return load_catalogue().get(code)
    except DossierError as exc:
        _fail(f"{exc.message} Xem danh sách bằng lệnh `doorstep catalogue list`.")


def _parse_time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(
            f"thời điểm «{text}» không đúng dạng ISO 8601 "
            "(ví dụ 2026-02-13T16:30 hoặc 2026-02-13T16:30:00+07:00)."
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


def _money(amount: int | None) -> str:
    return f"{amount or 0:,} đồng".replace(",", ".")


def _flag(verified: bool, source: str) -> str:
    return "" if verified else f" [CHƯA KIỂM CHỨNG — nguồn: {source}]"


@click.group("catalogue")
def catalogue() -> None:
    """Danh mục thủ tục hành chính thực hiện tại nhà."""


@catalogue.command("list")
def list_procedures() -> None:
    """Mã và tên các thủ tục."""
    for procedure in load_catalogue():
        version = procedure.latest
        home = "" if version.home_service.allowed else "  (chỉ tại trụ sở)"
        click.echo(f"{procedure.code.value}\t{version.name}{home}")


@catalogue.command("show")
@click.argument("code")
def show(code: str) -> None:
    """Chi tiết một thủ tục (phiên bản đang có hiệu lực)."""
    procedure = _procedure(code)
    version = procedure.version_on(dt.datetime.now(LOCAL_TZ).date()) or procedure.latest
    click.echo("\n".join(_describe(procedure, version)))


def _describe(procedure: Procedure, version: ProcedureVersion) -> list[str]:
    code = procedure.code
    limit = version.time_limit
    fee = version.fee
    if limit.kind == "same_day":
        cutoff = limit.cutoff or "15:00"
        when = f"trong ngày (tiếp nhận sau {cutoff} trả trong ngày làm việc tiếp theo)"
    else:
        when = f"{limit.working_days} ngày làm việc"
    if limit.extension_working_days:
        when += f"; thêm tối đa {limit.extension_working_days} ngày khi {limit.extension_when}"
    amount = f"{_money(fee.amount_vnd)}/{fee.unit}" if fee.amount_vnd else ""
    if fee.kind == "per_page_tiered":
        amount += (
            f" cho {fee.full_rate_pages} trang đầu, {_money(fee.next_pages_vnd)}/trang "
            f"từ trang thứ {(fee.full_rate_pages or 0) + 1}, "
            f"tối đa {_money(fee.max_per_copy_vnd)}/bản"
        )
    lines = [
        f"{code.value} — {version.name}{_flag(code.verified, code.source)}",
        f"Lĩnh vực: {procedure.area.name}",
        f"Phiên bản có hiệu lực từ: {version.effective_from:%d/%m/%Y}",
        "Thực hiện tại nhà: " + ("có" if version.home_service.allowed else "KHÔNG"),
        f"  {version.home_service.basis}",
        "Căn cứ pháp lý:",
        *(f"  - {f.text}{_flag(f.verified, f.source)}" for f in version.legal_basis),
        "Thành phần hồ sơ:",
        *(
            f"  - [{d.code}] {d.name}" + (" (bắt buộc)" if d.mandatory else " (nếu có)")
            for d in version.documents
        ),
        f"Thời hạn giải quyết: {when}{_flag(limit.verified, limit.source)}",
        f"Lệ phí: {amount or fee.set_by}{_flag(fee.verified, fee.source)}",
    ]
    if fee.exemptions:
        lines.append("Miễn: " + "; ".join(EXEMPTION_LABELS[e] for e in fee.exemptions))
    if fee.free_if_on_time:
        rule = fee.free_if_on_time
        lines.append(f"Miễn khi đăng ký đúng hạn: trong {rule.within_days} ngày")
    lines += [
        "Phải có mặt: " + "; ".join(version.presence),
        "Trả kết quả tại nhà: " + ("có" if version.result_home_delivery else "không"),
        "Tờ khai:",
        *(
            f"  - {f.name}: {f.label} ({_TYPE_LABELS[f.type]}{', bắt buộc' if f.required else ''})"
            for f in version.form
        ),
    ]
    return lines


@catalogue.command("example")
@click.argument("code")
@click.option("--received-at", help="Thời điểm tiếp nhận, ISO 8601 (mặc định: bây giờ).")
def example(code: str, received_at: str | None) -> None:
    """Một hồ sơ mẫu đầy đủ, hợp lệ cho thủ tục CODE, dạng JSON đồng bộ."""
    _procedure(code)
    moment = _parse_time(received_at) if received_at else dt.datetime.now(LOCAL_TZ)
    try:
        dossier = example_dossier(
            load_catalogue(), code, received_at=moment, calendar=default_calendar()
        )
    except DossierError as exc:
        _fail(exc.message)
    click.echo(msgspec.json.format(msgspec.json.encode(dossier).decode(), indent=2))


@click.group("calendar")
def calendar_group() -> None:
    """Lịch ngày làm việc và ngày hẹn trả kết quả."""


@calendar_group.command("due")
@click.argument("code")
@click.argument("received_at")
@click.option("--verification", is_flag=True, help="Cần xác minh: cộng thời gian gia hạn.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="TÊN=GIÁ_TRỊ",
    help="Trường tờ khai (khi thời hạn phụ thuộc vào tờ khai).",
)
def due(code: str, received_at: str, verification: bool, fields: tuple[str, ...]) -> None:
    """Ngày hẹn trả (YYYY-MM-DD) cho hồ sơ thủ tục CODE tiếp nhận lúc RECEIVED_AT."""
    procedure = _procedure(code)
    moment = _parse_time(received_at)
    form: dict[str, object] = {}
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"trường «{item}» phải có dạng TÊN=GIÁ_TRỊ.")
        form[name] = value
    version = procedure.version_on(moment.astimezone(LOCAL_TZ).date())
    if version is None:
        _fail(f"thủ tục {code} chưa có hiệu lực vào thời điểm đó.")
    limit = version.time_limit.for_form(form)
    day = default_calendar().due_date(moment, limit, verification=verification)
    click.echo(day.isoformat())
