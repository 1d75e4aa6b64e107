"""Supervisors' reports over a month of dossiers with known outcomes (see reports_helpers),
on both storage backends: exact counts, rates, working days, the overdue list and its
audit entry, roles, and every bad parameter refused with its name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from litestar.testing import TestClient
from register_helpers import Spec
from reports_helpers import ELDER, KIN, MARCH, NOW, month_of_dossiers

from api.services import Services

Login = Callable[[str], dict[str, str]]


@pytest.fixture
def specs(back_office: Services, synced: Callable[[Sequence[Spec]], None]) -> dict[str, Spec]:
    back_office.register.clock = lambda: NOW  # "today" is Friday 20 March 2026
    found = month_of_dossiers()
    synced(list(found.values()))
    return found


def _get(client: TestClient[Any], login: Login, path: str, **query: str) -> Any:
    answer = client.get(path, params=query, headers=login("supervisor1"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _counts(line: dict[str, Any]) -> tuple[int, ...]:
    return tuple(line[k] for k in ("dossiers", "early", "on_time", "late", "overdue",
                                   "pending", "finished"))


def test_timeliness_per_procedure_counts_by_the_portal_rule(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    report = _get(back_office_client, logins, "/api/reports/timeliness", by="procedure",
                  **MARCH)
    assert (report["as_of"], report["received_from"], report["received_to"]) == (
        "2026-03-20", "2026-03-01", "2026-03-31")
    lines = {line["key"]: line for line in report["lines"]}
    assert list(lines) == [KIN, ELDER]
    kin, elder = lines[KIN], lines[ELDER]
    assert kin["label"] == "Đăng ký nhận cha, mẹ, con"
    assert _counts(kin) == (5, 1, 1, 1, 1, 1, 3)
    assert kin["early_rate"] == {"numerator": 1, "denominator": 3, "percent": 33.33}
    assert kin["timely_rate"] == {"numerator": 2, "denominator": 3, "percent": 66.67}
    assert _counts(elder) == (3, 1, 0, 0, 1, 1, 1)
    assert elder["early_rate"]["percent"] == 100.0
    assert elder["late_rate"] == {"numerator": 0, "denominator": 1, "percent": 0.0}
    total = report["total"]
    assert (total["key"], total["label"]) == ("*", "Tổng cộng")
    assert _counts(total) == (8, 2, 1, 1, 2, 2, 4)
    assert total["timely_rate"] == {"numerator": 3, "denominator": 4, "percent": 75.0}


def test_timeliness_per_officer_ward_and_month(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    officers = _get(back_office_client, logins, "/api/reports/timeliness", by="officer",
                    **MARCH)["lines"]
    assert [(o["key"], o["label"], o["dossiers"]) for o in officers] == [
        ("officer1", "Trần Thị Bình", 5), ("officer2", "Lê Văn Cường", 3)]
    wards = _get(back_office_client, logins, "/api/reports/timeliness", by="ward",
                 **MARCH)["lines"]
    assert [(w["key"], w["label"]) for w in wards] == [
        ("00004", "Xã/phường 00004"), ("00005", "Xã/phường 00005")]
    months = _get(back_office_client, logins, "/api/reports/timeliness", by="month",
                  **{"from": "2026-02-01", "to": "2026-03-31"})["lines"]
    assert [(m["key"], m["label"], _counts(m)) for m in months] == [
        ("2026-02", "Tháng 02/2026", (1, 1, 0, 0, 0, 0, 1)),  # F1: due 02/03, resolved 26/02
        ("2026-03", "Tháng 03/2026", (8, 2, 1, 1, 2, 2, 4)),
    ]


def test_volumes_place_every_dossier_received_in_the_range(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    report = _get(back_office_client, logins, "/api/reports/volumes", by="officer", **MARCH)
    shape = [(v["key"], v["received"], v["finished"], v["in_progress"], v["needs_attention"],
              v["awaiting_intake"]) for v in report["lines"]]
    assert shape == [("officer1", 7, 3, 2, 1, 1), ("officer2", 3, 1, 2, 0, 0)]
    total = report["total"]
    assert (total["received"], total["finished"], total["in_progress"]) == (10, 4, 4)
    february = _get(back_office_client, logins, "/api/reports/volumes", by="month",
                    **{"from": "2026-02-01", "to": "2026-02-28"})
    assert [(v["key"], v["received"], v["finished"]) for v in february["lines"]] == [
        ("2026-02", 1, 1)]


def test_resolution_time_averages_working_days_of_resolved_dossiers(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    report = _get(back_office_client, logins, "/api/reports/resolution-time", by="procedure",
                  **MARCH)
    [kin] = report["lines"]  # the other procedure's only finished dossier was rejected
    assert (kin["key"], kin["resolved"]) == (KIN, 3)
    assert kin["average_working_days"] == {"total": 10, "count": 3, "value": 3.33}
    assert (kin["min_working_days"], kin["max_working_days"]) == (2, 5)
    assert report["total"]["average_working_days"]["value"] == 3.33


def test_overdue_lists_the_late_unfinished_dossier_and_is_audited(
    back_office_client: TestClient[Any], logins: Login, specs: dict[str, Spec]
) -> None:
    report = _get(back_office_client, logins, "/api/reports/overdue")
    assert report["as_of"] == "2026-03-20"
    assert report["count"] == 1
    [item] = report["items"]
    a4 = specs["A4"]
    assert (item["dossier_id"], item["provisional_code"]) == (a4.dossier_id, a4.code)
    assert (item["due_date"], item["working_days_overdue"], item["extended"]) == (
        "2026-03-05", 11, False)
    assert (item["officer_name"], item["status_label"]) == ("Trần Thị Bình", "Đang xử lý")
    assert item["official_code"] == "000.00.01.H22-260302-0004"
    audit = back_office_client.get("/api/audit", params={"action": "report.overdue"},
                                   headers=logins("supervisor1"))
    assert audit.status_code == 200, audit.text
    [entry] = audit.json()["items"]
    assert (entry["actor"], entry["dossier_ids"]) == ("supervisor1", [a4.dossier_id])
    # A range before A4's receipt lists nothing.
    empty = _get(back_office_client, logins, "/api/reports/overdue",
                 **{"from": "2026-03-03", "to": "2026-03-31"})
    assert (empty["count"], empty["items"]) == (0, [])


def test_reports_are_for_handlers_and_supervisors(
    back_office_client: TestClient[Any], logins: Login
) -> None:
    for username in ("officer1", "admin"):
        for path in ("/api/reports/timeliness", "/api/reports/volumes", "/api/reports/overdue",
                     "/api/reports/resolution-time"):
            answer = back_office_client.get(path, params={"by": "ward", **MARCH},
                                            headers=logins(username))
            assert answer.status_code == 403, (path, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
    handler = back_office_client.get("/api/reports/volumes", params={"by": "ward", **MARCH},
                                     headers=logins("handler1"))
    assert handler.status_code == 200, handler.text
    assert back_office_client.get("/api/reports/overdue").status_code == 401


BAD_QUERIES: list[tuple[dict[str, str], str]] = [
    ({"from": "2026-03-01", "to": "2026-03-31"}, "«by»"),
    ({"by": "district", "from": "2026-03-01", "to": "2026-03-31"}, "«by»"),
    ({"by": "ward", "to": "2026-03-31"}, "«from»"),
    ({"by": "ward", "from": "2026-03-01"}, "«to»"),
    ({"by": "ward", "from": "2026-02-30", "to": "2026-03-31"}, "«from»"),
    ({"by": "ward", "from": "2026-03-01", "to": "tomorrow"}, "«to»"),
    ({"by": "ward", "from": "2026-04-01", "to": "2026-03-31"}, "«from»"),
    ({"by": "ward", "from": "2025-01-01", "to": "2026-03-31"}, "366"),
]


def test_bad_parameters_are_refused_with_their_name(
    back_office_client: TestClient[Any], logins: Login
) -> None:
    for query, named in BAD_QUERIES:
        for path in ("/api/reports/timeliness", "/api/reports/volumes",
                     "/api/reports/resolution-time"):
            answer = back_office_client.get(path, params=query, headers=logins("handler1"))
            assert answer.status_code == 400, (path, query, answer.text)
            problem = answer.json()
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert problem["status"] == 400 and named in problem["detail"], problem
    reversed_range = {"from": "2026-03-31", "to": "2026-03-01"}
    answer = back_office_client.get("/api/reports/overdue", params=reversed_range,
                                    headers=logins("handler1"))
    assert answer.status_code == 400 and "«from»" in answer.json()["detail"]
