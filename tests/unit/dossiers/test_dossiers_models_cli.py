"""The synced documents' shape, and the `catalogue` / `calendar` commands."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from click.testing import CliRunner
from dossier_helpers import vn

from doorstep.cli import main
from dossiers.calendar import LOCAL_TZ
from dossiers.catalogue import Catalogue
from dossiers.models import Dossier, Event, Visit, decode, encode
from dossiers.validation import validate_dossier


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stdout, result.stderr


def test_catalogue_list() -> None:
    code, out, _ = run("catalogue", "list")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 10
    assert "2.000884\tChứng thực chữ ký trong các giấy tờ, văn bản" in lines
    assert any(line.startswith("2.000815\t") and "chỉ tại trụ sở" in line for line in lines)


def test_catalogue_show_flags_unverified_facts() -> None:
    code, out, _ = run("catalogue", "show", "1.001022")
    assert code == 0
    assert out.startswith("1.001022 — Đăng ký nhận cha, mẹ, con [CHƯA KIỂM CHỨNG")
    assert "3 ngày làm việc; thêm tối đa 5 ngày khi cần xác minh" in out
    assert "Người nhận và người được nhận là cha, mẹ, con phải cùng có mặt" in out
    _, copy, _ = run("catalogue", "show", "2.000815")
    assert "Thực hiện tại nhà: KHÔNG" in copy
    assert "1.000 đồng/trang từ trang thứ 3, tối đa 200.000 đồng/bản" in copy


def test_catalogue_example_is_a_valid_synced_dossier(catalogue: Catalogue) -> None:
    code, out, _ = run("catalogue", "example", "1.000419", "--received-at", "2026-03-02T09:30")
    assert code == 0
    dossier = decode(out)
    assert isinstance(dossier, Dossier)
    raw = json.loads(out)
    assert (raw["type"], raw["schema"]) == ("dossier", 1)
    assert raw["access"] == ["officer:o1", "ward:00004"]
    assert dossier.received_at == vn("2026-03-02 09:30")
    assert dossier.appointment_date == dt.date(2026, 3, 9)  # 5 working days
    validate_dossier(dossier, catalogue, today=dt.date(2026, 3, 2))


def test_catalogue_example_defaults_to_now() -> None:
    code, out, _ = run("catalogue", "example", "2.000884")
    assert code == 0
    received = decode(out).received_at  # type: ignore[union-attr]
    assert abs(received - dt.datetime.now(LOCAL_TZ)) < dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("2.000884", "2026-02-13T14:59"), "2026-02-13"),
        (("2.000884", "2026-02-13T15:00"), "2026-02-23"),
        (("2.000884", "2026-02-13T08:30:00+00:00"), "2026-02-23"),  # 15:30 in Vietnam
        (("1.001022", "2026-02-12T10:00"), "2026-02-24"),
        (("1.001022", "2026-02-12T10:00", "--verification"), "2026-03-03"),
        (("1.004859", "2026-03-02T10:00"), "2026-03-05"),
        (("1.004859", "2026-03-02T10:00", "--field", "loai_yeu_cau=bo_sung"), "2026-03-02"),
        (("2.000815", "2030-02-01T09:00"), "2030-02-07"),
        (("1.003583", "2030-01-30T09:00"), "2030-02-13"),
    ],
)
def test_calendar_due(args: tuple[str, ...], expected: str) -> None:
    code, out, _ = run("calendar", "due", *args)
    assert (code, out) == (0, expected + "\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calendar", "due", "9.999999", "2026-02-13T10:00"), "Không có thủ tục mã «9.999999»"),
        (("calendar", "due", "2.000884", "13/02/2026"), "không đúng dạng ISO 8601"),
        (("calendar", "due", "2.000884", "2026-02-30T10:00"), "không đúng dạng ISO 8601"),
        (("calendar", "due", "2.000884", "2020-01-01T10:00"), "chưa có hiệu lực"),
        (("calendar", "due", "1.004859", "2026-03-02T10:00", "--field", "x"), "TÊN=GIÁ_TRỊ"),
        (("catalogue", "show", "abc"), "Không có thủ tục mã «abc»"),
        (("catalogue", "example", "abc"), "Không có thủ tục mã «abc»"),
        (("catalogue", "example", "2.000884", "--received-at", "hôm qua"), "ISO 8601"),
        (("catalogue", "example", "2.000884", "--received-at", "2020-01-01T10:00"),
         "chưa có hiệu lực"),
    ],
)
def test_bad_input_gets_a_vietnamese_message_and_exit_2(
    args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("Lỗi: ") and message in err
    assert "Traceback" not in err


def test_documents_round_trip_with_their_type(catalogue: Catalogue) -> None:
    from dossiers.calendar import default_calendar
    from dossiers.examples import example_dossier

    dossier = example_dossier(catalogue, "2.000635", received_at=vn("2026-03-02 09:00"),
                              calendar=default_calendar())
    event = Event(access=("officer:o1",), id="e1", dossier=dossier.provisional_code,
                  kind="received", at=vn("2026-03-02 09:00"), actor="o1", role="officer")
    visit = Visit(access=("officer:o1", "ward:00004"), id="v1", citizen=dossier.applicant,
                  procedures=("2.000635",), priority_group="nguoi_cao_tuoi", officer_id="o1",
                  planned_date=dt.date(2026, 3, 2))
    for document in (dossier, event, visit):
        assert decode(encode(document)) == document
    assert json.loads(encode(visit))["type"] == "visit"
    with pytest.raises(msgspec.ValidationError):
        decode(b'{"type": "event", "schema": 1, "access": [], "id": "e", "dossier": "d",'
               b' "kind": "teleported", "at": "2026-03-02T09:00:00+07:00", "actor": "a",'
               b' "role": "officer"}')


def test_naive_times_do_not_decode() -> None:
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        decode(b'{"type": "event", "schema": 1, "access": [], "id": "e", "dossier": "d",'
               b' "kind": "received", "at": "2026-03-02T09:00:00", "actor": "a",'
               b' "role": "officer"}')
