"""GET /api/dossiers on both backends: each filter really filters (a non-empty proper
subset, equal to what the rows' own fields say), accent-insensitive search, overdue and
due-within evaluated on the register's day, roles, and a named 400 for bad parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from litestar.testing import TestClient
from register_helpers import LOCAL_TZ, Spec

from api.services import Services
from dossiers.calendar import default_calendar
from dossiers.validation import search_key

TODAY = dt.date(2026, 3, 20)  # a Friday


def moment(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=LOCAL_TZ)


def _specs() -> list[Spec]:
    resolved = [("accepted", moment(19, 10), {}), ("processing", moment(19, 11), {}),
                ("resolved", moment(19, 14), {})]
    processing = [("accepted", moment(18, 10), {}), ("processing", moment(18, 11), {})]
    return [
        Spec(n=1, received_at=moment(2), name="Nguyễn Thị Hường"),
        Spec(n=2, received_at=moment(16), procedure="1.001776", officer="officer2",
             ward="00005", name="Trần Văn Bình"),
        Spec(n=3, received_at=moment(19), procedure="2.000635", name="Lê Thị Lan",
             events=resolved),
        Spec(n=4, received_at=moment(17), officer="officer3", name="Phạm Văn Nam",
             outcome="needs_attention", reasons=("Tờ khai đã bị sửa sau khi ký.",)),
        Spec(n=5, received_at=moment(19), name="Nguyễn Văn An", outcome=None),
        Spec(n=6, received_at=moment(18), officer="officer2", name="Đặng Thị Đào",
             events=processing),
        Spec(n=7, received_at=moment(5), procedure="1.001776", ward="00005",
             name="NGUYỄN THỊ MAI", identity="001190054321"),
    ]


@pytest.fixture
def listed(back_office: Services, back_office_client: TestClient[Any],
           synced: Callable[[Sequence[Spec]], None],
           logins: Callable[[str], dict[str, str]]) -> Callable[..., list[dict[str, Any]]]:
    back_office.register.clock = lambda: moment(20, 10)
    synced(_specs())

    def get(**params: Any) -> list[dict[str, Any]]:
        answer = back_office_client.get("/api/dossiers", params=params,
                                        headers=logins("handler1"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["next_cursor"] is None
        return list(answer.json()["items"])

    return get


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {i["provisional_code"] for i in items}


def test_each_filter_keeps_exactly_the_matching_rows(
        listed: Callable[..., list[dict[str, Any]]]) -> None:
    everything = listed()
    assert len(everything) == 7
    # Default order: due date ascending (rows without one last), then id.
    keys = [(i["due_date"] or "9999-12-31", i["dossier_id"]) for i in everything]
    assert keys == sorted(keys)
    within_end = default_calendar().add_working_days(TODAY, 3).isoformat()
    checks: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ({"status": "needs_attention"}, lambda r: r["status"] == "needs_attention"),
        ({"status": "submitted"}, lambda r: r["status"] == "submitted"),
        ({"status": ["received", "processing"]},
         lambda r: r["status"] in ("received", "processing")),
        ({"procedure": "1.001776"}, lambda r: r["procedure_code"] == "1.001776"),
        ({"officer": "officer2"}, lambda r: r["officer_id"] == "officer2"),
        ({"ward": "00005"}, lambda r: r["ward"] == "00005"),
        ({"received_from": "2026-03-17", "received_to": "2026-03-18"},
         lambda r: "2026-03-17" <= (r["received_at"] or "")[:10] <= "2026-03-18"),
        ({"due_from": "2026-03-20", "due_to": "2026-03-31"},
         lambda r: r["due_date"] is not None and "2026-03-20" <= r["due_date"] <= "2026-03-31"),
        ({"overdue": "true"}, lambda r: r["ended_at"] is None and r["due_date"] is not None
         and r["due_date"] < TODAY.isoformat()),
        ({"overdue": "false"}, lambda r: not (r["ended_at"] is None and r["due_date"]
                                               and r["due_date"] < TODAY.isoformat())),
        ({"due_within": "3"}, lambda r: r["ended_at"] is None and r["due_date"] is not None
         and TODAY.isoformat() <= r["due_date"] <= within_end),
        ({"officer": "officer1", "status": "received"},
         lambda r: r["officer_id"] == "officer1" and r["status"] == "received"),
    ]
    for params, keep in checks:
        found = listed(**params)
        expected = {r["provisional_code"] for r in everything if keep(r)}
        assert ids(found) == expected, params
        assert 0 < len(expected) < len(everything), params


def test_overdue_dossiers_are_late_as_of_today(
        listed: Callable[..., list[dict[str, Any]]]) -> None:
    overdue = listed(overdue="true")
    assert ids(overdue) == {"DEV01-000001", "DEV01-000007"}
    assert {r["timeliness"] for r in overdue} == {"late"}
    resolved = next(r for r in listed() if r["provisional_code"] == "DEV01-000003")
    assert resolved["status"] == "resolved" and resolved["ended_at"] is not None


SEARCHES: list[tuple[str, set[str]]] = [
    ("nguyen thi", {"DEV01-000001", "DEV01-000007"}),
    ("NGUYỄN thị hường", {"DEV01-000001"}),
    ("dao", {"DEV01-000006"}),
    ("đặng", {"DEV01-000006"}),
    ("van", {"DEV01-000002", "DEV01-000004", "DEV01-000005"}),
    ("an", {"DEV01-000002", "DEV01-000005", "DEV01-000006", "DEV01-000003",
            "DEV01-000004"}),
    ("0054321", {"DEV01-000007"}),
    ("001190054321", {"DEV01-000007"}),
    ("khong co ai", set()),
]


def test_search_is_accent_and_case_insensitive(
        listed: Callable[..., list[dict[str, Any]]]) -> None:
    for text, expected in SEARCHES:
        found = listed(q=text)
        assert ids(found) == expected, text
        key = search_key(text)
        assert all(key in search_key(r["applicant_name"]) or key in r["identity_number"]
                   for r in found)


def test_search_combines_with_filters(listed: Callable[..., list[dict[str, Any]]]) -> None:
    assert ids(listed(q="nguyen", status="submitted")) == {"DEV01-000005"}
    assert ids(listed(q="nguyen thi", ward="00005")) == {"DEV01-000007"}


BAD = [("status=lost", "status"), ("limit=0", "limit"), ("limit=201", "limit"),
       ("due_from=2026-02-30", "due_from"), ("overdue=maybe", "overdue"),
       ("due_within=soon", "due_within"), ("cursor=abc", "cursor"),
       ("stauts=received", "stauts"),
       ("received_from=2026-04-01&received_to=2026-03-01", "received_from")]


def test_bad_parameters_are_a_400_naming_them(
        back_office_client: TestClient[Any], logins: Callable[[str], dict[str, str]]) -> None:
    for query, named in BAD:
        answer = back_office_client.get(f"/api/dossiers?{query}",
                                        headers=logins("supervisor1"))
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert f"«{named}»" in answer.json()["detail"], query


def test_officers_and_admins_may_not_list_dossiers(
        back_office_client: TestClient[Any], logins: Callable[[str], dict[str, str]]) -> None:
    for username in ("officer1", "admin"):
        answer = back_office_client.get("/api/dossiers", headers=logins(username))
        assert answer.status_code == 403
        assert answer.json()["status"] == 403
    assert back_office_client.get("/api/dossiers").status_code == 401
