"""The pure report arithmetic over register rows: groups, counts, exact rates, working days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.register.rows import RegisterRow
from api.reports import aggregate as agg
from api.reports.schemas import Grouping
from dossiers.calendar import default_calendar

ICT = dt.timezone(dt.timedelta(hours=7))
CAL = default_calendar()
LABELS = agg.Labels(officers={"o1": "Nguyễn Văn An", "o2": "Trần Thị Bình"})


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=ICT)


def row(n: int, **fields: Any) -> RegisterRow:
    values: dict[str, Any] = {
        "dossier_id": f"dossier:D{n:03d}", "provisional_code": f"D{n:03d}",
        "official_code": f"H22-260302-{n:04d}", "procedure_code": "2.000815",
        "procedure_name": "Chứng thực bản sao từ bản chính", "officer_id": "o1",
        "ward": "26734", "applicant_name": "Lê Văn Cường", "identity_number": "001090000001",
        "status": "processing", "portal_status": 4, "received_at": at("2026-03-02"),
        "due_date": dt.date(2026, 3, 5), "due_before_extension": dt.date(2026, 3, 5),
        "ended_at": None, "timeliness": "pending", "supplement_requests": 0,
    }
    values.update(fields)
    return RegisterRow(**values)


def finished(n: int, timeliness: str, ended: str, **fields: Any) -> RegisterRow:
    values: dict[str, Any] = {"status": "returned", "portal_status": 10,
                              "timeliness": timeliness, "ended_at": at(ended, 14)}
    return row(n, **{**values, **fields})


def test_timeliness_counts_and_exact_rates_per_procedure() -> None:
    other = {"procedure_code": "1.000656", "procedure_name": "Đăng ký khai tử"}
    rows = [
        finished(1, "early", "2026-03-04"),
        finished(2, "on_time", "2026-03-05"),
        finished(3, "on_time", "2026-03-05"),
        finished(4, "late", "2026-03-06"),
        row(5, timeliness="late"),  # unfinished, past due: overdue, not in the rates
        row(6, timeliness="pending"),
        row(7, status="needs_attention", received_at=None, due_date=None, timeliness="pending"),
        row(8, status="submitted", received_at=None, due_date=None, timeliness="pending"),
        finished(9, "late", "2026-03-09", status="rejected", **other),
        row(10, status="supplement_requested", timeliness="early", **other),
    ]
    lines, total = agg.timeliness(rows, "procedure", LABELS)
    by_key = {line.key: line for line in lines}
    assert [line.key for line in lines] == ["1.000656", "2.000815"]
    cert = by_key["2.000815"]
    assert cert.label == "Chứng thực bản sao từ bản chính"
    assert (cert.dossiers, cert.early, cert.on_time, cert.late, cert.overdue, cert.pending) == (
        6, 1, 2, 1, 1, 1)
    assert cert.finished == 4
    assert (cert.early_rate.numerator, cert.early_rate.denominator, cert.early_rate.percent) == (
        1, 4, 25.0)
    assert cert.on_time_rate.percent == 50.0
    assert cert.late_rate.percent == 25.0
    assert (cert.timely_rate.numerator, cert.timely_rate.percent) == (3, 75.0)
    death = by_key["1.000656"]
    # A waiting-for-supplement dossier judged "early" so far is still unfinished: pending.
    assert (death.finished, death.late, death.pending, death.late_rate.percent) == (1, 1, 1, 100.0)
    assert total.key == agg.TOTAL_KEY and total.label == "Tổng cộng"
    assert (total.dossiers, total.finished, total.early, total.on_time, total.late) == (
        8, 5, 1, 2, 2)
    assert (total.timely_rate.numerator, total.timely_rate.denominator) == (3, 5)
    assert total.timely_rate.percent == 60.0


def test_a_group_with_nothing_finished_has_no_rate_rather_than_zero() -> None:
    lines, _ = agg.timeliness([row(1), row(2, timeliness="late")], "officer", LABELS)
    [line] = lines
    assert line.label == "Nguyễn Văn An"
    assert line.finished == 0
    assert line.early_rate.percent is None and line.early_rate.denominator == 0


@pytest.mark.parametrize(("numerator", "denominator", "percent"), [
    (1, 3, 33.33), (2, 3, 66.67), (1, 160, 0.63), (3, 160, 1.88), (7, 7, 100.0), (0, 9, 0.0),
])
def test_percentages_round_half_up_to_two_decimals(
    numerator: int, denominator: int, percent: float
) -> None:
    found = agg.rate(numerator, denominator)
    assert (found.numerator, found.denominator, found.percent) == (numerator, denominator,
                                                                  percent)


def test_month_is_the_local_month_of_receipt() -> None:
    # 20:00 UTC on 31 March is 03:00 on 1 April in Hà Nội.
    late_night = row(1, received_at=dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC))
    march = row(2, received_at=at("2026-03-31", 16))
    lines, _ = agg.volumes([late_night, march], "month", LABELS)
    assert [(line.key, line.label, line.received) for line in lines] == [
        ("2026-03", "Tháng 03/2026", 1), ("2026-04", "Tháng 04/2026", 1)]


def test_officers_and_wards_are_labelled_in_vietnamese() -> None:
    rows = [row(1, officer_id="o2", ward=None), row(2, officer_id="ghost")]
    officers, _ = agg.volumes(rows, "officer", LABELS)
    assert [(line.key, line.label) for line in officers] == [
        ("ghost", "ghost"), ("o2", "Trần Thị Bình")]
    wards, _ = agg.volumes(rows, "ward", LABELS)
    assert [(line.key, line.label) for line in wards] == [
        ("", "Không rõ xã/phường"), ("26734", "Xã/phường 26734")]


def test_volumes_split_every_received_dossier_into_one_bucket() -> None:
    rows = [
        finished(1, "early", "2026-03-04"),
        finished(2, "late", "2026-03-09", status="withdrawn"),
        row(3), row(4, status="supplement_requested"), row(5, status="received"),
        row(6, status="needs_attention"), row(7, status="submitted", received_at=None),
    ]
    lines, total = agg.volumes(rows, "ward", LABELS)
    [line] = lines
    assert (line.key, line.label) == ("26734", "Xã/phường 26734")
    assert msgspec.structs.replace(line, key=total.key, label=total.label) == total
    assert (total.received, total.finished, total.in_progress, total.needs_attention,
            total.awaiting_intake) == (7, 2, 3, 1, 1)


def test_overdue_lists_unfinished_dossiers_past_their_current_appointment_oldest_first() -> None:
    today = dt.date(2026, 4, 29)
    rows = [
        # due Fri 24/04; Mon 27/04 is the Giỗ Tổ substitute day: overdue by 28 and 29 only
        row(1, due_date=dt.date(2026, 4, 24), due_before_extension=dt.date(2026, 4, 24)),
        row(2, due_date=dt.date(2026, 4, 20), due_before_extension=dt.date(2026, 4, 20),
            officer_id="o2"),
        row(3, due_date=dt.date(2026, 4, 29)),  # due today: not overdue yet
        row(4, due_date=dt.date(2026, 5, 4), due_before_extension=dt.date(2026, 4, 22)),
        row(5, status="supplement_requested", due_date=dt.date(2026, 4, 1)),  # clock stopped
        finished(6, "late", "2026-04-28", due_date=dt.date(2026, 4, 1)),
        row(7, status="needs_attention", due_date=dt.date(2026, 4, 1)),
        row(8, status="accepted", due_date=dt.date(2026, 4, 28),
            due_before_extension=dt.date(2026, 4, 23)),
    ]
    items = agg.overdue(rows, today, LABELS, CAL)
    assert [(i.provisional_code, i.due_date, i.working_days_overdue) for i in items] == [
        ("D002", dt.date(2026, 4, 20), 6),  # 21–24, 28, 29
        ("D001", dt.date(2026, 4, 24), 2),
        ("D008", dt.date(2026, 4, 28), 1),
    ]
    first = items[0]
    assert (first.officer_name, first.status_label, first.extended) == (
        "Trần Thị Bình", "Đang xử lý", False)
    assert items[2].extended is True
    assert items[2].status_label == "Được tiếp nhận"


def test_resolution_time_counts_working_days_of_resolved_dossiers_only() -> None:
    rows = [
        finished(1, "early", "2026-03-05"),  # Mon 02/03 -> Thu 05/03: 3 working days
        # Fri 24/04 -> Mon 04/05 over the Giỗ Tổ substitute day, 30/04 and 01/05: 3 days
        finished(2, "late", "2026-05-04", received_at=at("2026-04-24"), officer_id="o2"),
        finished(3, "on_time", "2026-03-02", received_at=at("2026-03-02", 8)),  # same day: 0
        finished(4, "late", "2026-03-20", status="rejected"),  # not resolved
        row(5),  # unfinished
        row(6, status="result_ready", timeliness="on_time", ended_at=at("2026-03-04")),  # 2
    ]
    lines, total = agg.resolution_time(rows, "officer", LABELS, CAL)
    assert [(line.key, line.resolved) for line in lines] == [("o1", 3), ("o2", 1)]
    o1 = lines[0]
    assert (o1.average_working_days.total, o1.average_working_days.count) == (5, 3)
    assert o1.average_working_days.value == 1.67
    assert (o1.min_working_days, o1.max_working_days) == (0, 3)
    assert lines[1].average_working_days.value == 3.0
    assert (total.resolved, total.average_working_days.total, total.average_working_days.value
            ) == (4, 8, 2.0)


def test_an_empty_register_gives_an_empty_report_with_a_zero_total() -> None:
    lines, total = agg.resolution_time([], "month", LABELS, CAL)
    assert lines == []
    assert total.resolved == 0 and total.average_working_days.value is None
    assert total.min_working_days is None


_STATUSES = ("submitted", "needs_attention", "received", "accepted", "processing",
             "supplement_requested", "supplemented", "resolved", "result_ready", "returned",
             "rejected", "withdrawn", "stopped")


@st.composite
def _rows(draw: st.DrawFn) -> list[RegisterRow]:
    found = []
    for n in range(draw(st.integers(0, 25))):
        status = draw(st.sampled_from(_STATUSES))
        received_at = at("2026-01-05") + dt.timedelta(hours=draw(st.integers(0, 24 * 300)))
        ended = status in agg.FINISHED
        found.append(row(
            n, status=status, received_at=received_at,
            procedure_code=draw(st.sampled_from(("1.001022", "1.001776", "2.000815"))),
            officer_id=draw(st.sampled_from(("o1", "o2", "o3"))),
            ward=draw(st.sampled_from(("26734", "00004", None))),
            due_date=received_at.date() + dt.timedelta(days=draw(st.integers(0, 20))),
            ended_at=received_at + dt.timedelta(hours=draw(st.integers(0, 500))) if ended else None,
            timeliness=draw(st.sampled_from(("early", "on_time", "late", "pending")))))
    return found


@settings(max_examples=60)
@given(rows=_rows(), by=st.sampled_from(("procedure", "officer", "ward", "month")))
def test_every_grouping_partitions_the_rows_and_the_total_adds_up(
    rows: list[RegisterRow], by: Grouping
) -> None:
    counted = ("dossiers", "early", "on_time", "late", "overdue", "pending", "finished")
    lines, total = agg.timeliness(rows, by, LABELS)
    for name in counted:
        assert sum(getattr(line, name) for line in lines) == getattr(total, name)
    for line in (*lines, total):
        assert line.early + line.on_time + line.late == line.finished
        assert line.finished + line.overdue + line.pending == line.dossiers
        assert line.timely_rate.numerator == line.early + line.on_time
        assert all(r.denominator == line.finished for r in (line.early_rate, line.late_rate))
    assert total.dossiers == sum(agg.received(r) for r in rows)
    volume_lines, volume_total = agg.volumes(rows, by, LABELS)
    assert volume_total.received == len(rows)
    assert sum(v.received for v in volume_lines) == len(rows)
    assert (volume_total.finished + volume_total.in_progress + volume_total.needs_attention
            + volume_total.awaiting_intake) == len(rows)
    assert len({line.key for line in volume_lines}) == len(volume_lines)
    resolution_lines, resolution_total = agg.resolution_time(rows, by, LABELS, CAL)
    assert sum(line.resolved for line in resolution_lines) == resolution_total.resolved
    assert sum(line.average_working_days.total for line in resolution_lines) == (
        resolution_total.average_working_days.total)
