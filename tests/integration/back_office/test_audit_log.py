"""The audit log on both storage backends: recorded acts come back through
GET /api/audit for supervisors and admins only, filtered, paginated, oldest first; reading
the log is itself logged; entries cannot be overwritten; one dossier's month is read from
its own key range, not by scanning the log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import audit_helpers
import pytest
from auth_helpers import login
from litestar.testing import TestClient

from api.audit import AuditLog
from api.audit.entries import documents, new_entry
from api.auth.service import Identity
from api.services import Services

office = audit_helpers.office
office_client = audit_helpers.office_client
HANDLER = Identity("handler1", "handler", "dev-h", ("user:handler1",))
SUPERVISOR = Identity("supervisor1", "supervisor", "dev-s", ("user:supervisor1",))


def _entries(client: TestClient[Any], headers: dict[str, str], **params: str) -> list[Any]:
    """Every page of a query, following the cursor."""
    items: list[Any] = []
    cursor = None
    while True:
        answer = client.get("/api/audit", params={**params, **({"cursor": cursor} if cursor
                                                               else {})}, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["order"] == "oldest_first"
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_recorded_acts_come_back_filtered_and_in_order(office: Services,
                                                       office_client: TestClient[Any]) -> None:
    for n in range(7):
        office.audit.record(HANDLER, "dossier.read", [f"dossier:D{n % 2}"])
    office.audit.record(HANDLER, "dossier.list", ["dossier:D0", "dossier:D1"], "status=accepted")
    office.audit.record(SUPERVISOR, "export.csv", [])
    headers = login(office_client, "supervisor1")

    mine = _entries(office_client, headers, dossier="dossier:D0", limit="2")
    assert [e["action"] for e in mine] == ["dossier.read"] * 4 + ["dossier.list"]
    assert all("dossier:D0" in e["dossier_ids"] for e in mine)
    assert [e["id"] for e in mine] == sorted(e["id"] for e in mine)
    first = mine[0]
    assert (first["actor"], first["role"], first["device_id"]) == ("handler1", "handler", "dev-h")
    assert dt.datetime.fromisoformat(first["at"]).tzinfo is not None

    reads = _entries(office_client, headers, actor="handler1", action="dossier.read", limit="3")
    assert len(reads) == 7 and len({e["id"] for e in reads}) == 7
    everything = _entries(office_client, headers, limit="4")
    assert [e["action"] for e in everything][:9] == ["dossier.read"] * 7 + ["dossier.list",
                                                                           "export.csv"]
    # Each GET above was itself an act in the log.
    audit_reads = [e for e in everything if e["action"] == "audit.read"]
    assert audit_reads and all(e["actor"] == "supervisor1" for e in audit_reads)
    assert any("dossier=dossier%3AD0" in e["detail"] for e in audit_reads)


def test_only_supervisors_and_admins_read_the_log(office: Services,
                                                  office_client: TestClient[Any]) -> None:
    for user in ("handler1", "officer1"):
        answer = office_client.get("/api/audit", headers=login(office_client, user))
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert office_client.get("/api/audit").status_code == 401
    admin = login(office_client, "admin")
    assert office_client.get("/api/audit", headers=admin).status_code == 200
    denied = _entries(office_client, admin, action="audit.denied")
    assert sorted(e["actor"] for e in denied) == ["handler1", "officer1"]


@pytest.mark.parametrize(("query", "named"), [
    ("limit=0", "limit"), ("from=hôm-qua", "from"), ("to=2026-13-01", "to"),
    ("from=2026-03-01T00:00:00", "from"), ("cursor=***", "cursor"), ("order=desc", "order"),
    ("actor=a&actor=b", "actor"), ("from=2026-03-05&to=2026-03-01", "to"),
])
def test_bad_parameters_are_400_naming_them(office_client: TestClient[Any],
                                            query: str, named: str) -> None:
    answer = office_client.get(f"/api/audit?{query}", headers=login(office_client, "admin"))
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["status"] == 400 and f"'{named}'" in problem["detail"]


def test_entries_cannot_be_overwritten(office: Services) -> None:
    entry = office.audit.record(HANDLER, "dossier.read", ["dossier:X"], "first")
    forged = documents(new_entry("intruder", "admin", "d", "nothing", [], "", entry.at))
    forged[0]["_id"] = entry.id
    rows = office.audit.db.bulk_docs([forged[0]])
    assert rows[0].get("error") == "conflict"
    stored = office.audit.db.get(entry.id)
    assert (stored["actor"], stored["detail"]) == ("handler1", "first")
    assert not hasattr(AuditLog, "delete") and not hasattr(AuditLog, "update")
    before = office.audit.db.info()["doc_count"]
    with pytest.raises(ValueError, match="dotted"):
        office.audit.record(HANDLER, "Xem hồ sơ", ["dossier:X"])
    assert office.audit.db.info()["doc_count"] == before


class CountingDb:
    """The real audit database, counting the rows `_all_docs` hands back."""

    def __init__(self, db: Any) -> None:
        self.db, self.rows_read = db, 0

    def all_docs(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.db.all_docs(**kwargs)
        self.rows_read += len(answer["rows"])
        return answer

    def bulk_get(self, requests: list[Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.db.bulk_get(requests)
        self.rows_read += len(answer["results"])
        return answer

    def bulk_docs(self, docs: list[Any]) -> list[Any]:
        rows: list[Any] = self.db.bulk_docs(docs)
        return rows


def test_one_dossiers_month_reads_only_its_own_rows(office: Services) -> None:
    march = dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
    filler: list[dict[str, Any]] = []
    for n in range(1500):  # a busy log: other dossiers, all year
        at = march + dt.timedelta(minutes=97 * n)
        filler.extend(documents(new_entry("handler1", "handler", "d", "dossier.read",
                                          [f"dossier:OTHER{n % 50}"], "", at)))
    for start in range(0, len(filler), 1000):
        assert not [r for r in office.audit.db.bulk_docs(filler[start:start + 1000])
                    if "error" in r]
    counting = CountingDb(office.audit.db)
    for day in (0, 3, 40):  # two acts in March (local days), one in April
        at = march + dt.timedelta(days=day)
        AuditLog(counting, clock=lambda at=at: at).record(HANDLER, "dossier.read",
                                                          ["dossier:TARGET"])
    from api.audit import parse_query

    counting.rows_read = 0
    page = AuditLog(counting).query(parse_query({"dossier": "dossier:TARGET",
                                                 "from": "2026-03-01", "to": "2026-03-31"}))
    assert [e.at for e in page.items] == [march, march + dt.timedelta(days=3)]
    assert page.next_cursor is None
    # Two pointers in the dossier's range, then the two entries they point to: 4 rows read
    # of the 4,500+ in the log.
    assert counting.rows_read == 4


def test_a_rare_action_is_found_page_by_page_within_the_scan_budget(
        office: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.audit.log

    monkeypatch.setattr(api.audit.log, "SCAN_BUDGET", 40)
    start = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    docs: list[dict[str, Any]] = []
    for n in range(130):
        action = "export.csv" if n in (5, 120) else "dossier.read"
        docs.extend(documents(new_entry("handler1", "handler", "d", action, [], "",
                                        start + dt.timedelta(minutes=n))))
    assert not [r for r in office.audit.db.bulk_docs(docs) if "error" in r]
    from api.audit import parse_query

    pages, found, cursor = 0, [], None
    while True:
        params = {"action": "export.csv", "from": "2026-05-01", "to": "2026-05-02"}
        page = office.audit.query(parse_query({**params, **({"cursor": cursor} if cursor
                                                            else {})}))
        pages += 1
        assert len(page.items) <= 1
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.at for e in found] == [start + dt.timedelta(minutes=n) for n in (5, 120)]
    assert pages == 4  # 130 rows read 40 at a time: each answer stays cheap
